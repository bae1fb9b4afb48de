package jwt_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// TestRejection: Rejection gives, for each cause, the 401 that Verify
// gives for a token rejected for it, detail included.
func TestRejection(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	a := jwt.MustNew(jwt.Config{Secret: secret, Algorithms: []string{"HS256"}, Expiration: time.Hour,
		IssuerURL: "https://issuer.test/", Audience: []string{"api"}})
	sign := func(claims auth.Claims) string {
		tok, err := a.Encode(claims, 0)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	past := time.Now().Add(-time.Hour).Unix()
	tests := []struct {
		reason error
		token  string // when set, Verify must reject it with Rejection(reason)
	}{
		{reason: jwt.ErrTokenMalformed, token: "a.b"},
		{reason: jwt.ErrTokenExpired, token: sign(auth.Claims{"aud": "api", "exp": past})},
		{reason: jwt.ErrTokenAudience, token: sign(auth.Claims{"aud": "other"})},
		{reason: jwt.ErrTokenTooLong},
		{reason: jwt.ErrTokenAlgorithm},
		{reason: jwt.ErrTokenUnsupportedHeader},
		{reason: jwt.ErrTokenSignatureInvalid},
		{reason: jwt.ErrKeyNotFound},
		{reason: jwt.ErrTokenNoExpiration},
		{reason: jwt.ErrTokenNotValidYet},
		{reason: jwt.ErrTokenIssuedInFuture},
		{reason: jwt.ErrTokenIssuer},
		{reason: jwt.ErrTokenType},
		{reason: jwt.ErrTokenClaims},
	}
	for _, tt := range tests {
		r := jwt.Rejection(tt.reason)
		if r == nil {
			t.Fatalf("Rejection(%v) = nil", tt.reason)
		}
		if r.Status != http.StatusUnauthorized || r.Code != auth.CodeInvalidToken || r.Detail == "" ||
			!errors.Is(r, tt.reason) || !errors.Is(r, auth.ErrInvalidCredential) {
			t.Errorf("Rejection(%v) = %+v; want a 401 invalid_token with a detail, matching its reason", tt.reason, r)
		}
		r.Detail = "changed"
		if jwt.Rejection(tt.reason).Detail == "changed" {
			t.Errorf("Rejection(%v) returned a shared value", tt.reason)
		}
		if tt.token == "" {
			continue
		}
		_, err := a.Verify(context.Background(), tt.token)
		var got *auth.Error
		if !errors.As(err, &got) || got.Detail != jwt.Rejection(tt.reason).Detail || got.Status != http.StatusUnauthorized {
			t.Errorf("Verify error %v; want the detail %q of Rejection(%v)", err, jwt.Rejection(tt.reason).Detail, tt.reason)
		}
	}
	if jwt.Rejection(gojwt.ErrTokenExpired) != nil || jwt.Rejection(errors.New("other")) != nil || jwt.Rejection(nil) != nil {
		t.Error("Rejection of an error that is not one of the causes is not nil")
	}
}

// sliceError is an error whose dynamic type is not comparable.
type sliceError []string

func (sliceError) Error() string { return "slice error" }

func TestRejectionOfIncomparableError(t *testing.T) {
	t.Parallel()
	if r := jwt.Rejection(sliceError{"a"}); r != nil {
		t.Errorf("Rejection(sliceError) = %v; want nil", r)
	}
}

// TestPayloadNotAnObjectIsMalformed: a validly signed token whose payload
// is JSON but not an object (null, which encoding/json decodes without
// calling a decoder, an array, a string, a number) is malformed, for the
// map claims of an Auth as for the struct of a TypedAuth.
func TestPayloadNotAnObjectIsMalformed(t *testing.T) {
	a := newAuth(t, hsConfig())
	typed, err := jwt.NewTyped[userClaims](hsConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := jwt.Rejection(jwt.ErrTokenMalformed).Detail
	for _, payload := range []string{`null`, ` null `, `[]`, `"sub"`, `1700000000`, `true`} {
		tok := hs256(`{"alg":"HS256","typ":"JWT"}`, payload, secret64[:32])
		_, err := a.Verify(context.Background(), tok)
		var got *auth.Error
		if !errors.As(err, &got) || got.Detail != want || !errors.Is(err, jwt.ErrTokenMalformed) {
			t.Errorf("Auth, payload %s: %v; want %q", payload, err, want)
		}
		_, err = typed.Verify(context.Background(), tok)
		if !errors.As(err, &got) || got.Detail != want || !errors.Is(err, jwt.ErrTokenMalformed) {
			t.Errorf("TypedAuth, payload %s: %v; want %q", payload, err, want)
		}
	}
}

// TestHeaderCheckedForEveryToken: the verifier remembers the last header
// it accepted, so that an issuer's repeated header is not checked again;
// a token with another header, between tokens with the accepted one, is
// still checked and refused.
func TestHeaderCheckedForEveryToken(t *testing.T) {
	a := newAuth(t, hsConfig())
	payload := fmt.Sprintf(`{"sub":"alice","exp":%d}`, epoch.Add(time.Hour).Unix())
	good := hs256(`{"alg":"HS256","typ":"JWT"}`, payload, secret64[:32])
	bad := map[string]error{
		`{"alg":"HS256","typ":"JWT","crit":["exp"]}`: jwt.ErrTokenUnsupportedHeader,
		`{"alg":"HS256","alg":"HS256"}`:              jwt.ErrTokenMalformed,
		`{"alg":"HS384"}`:                            jwt.ErrTokenAlgorithm,
		`{"alg":"HS256","kid":7}`:                    jwt.ErrTokenMalformed,
	}
	for range 2 {
		for header, reason := range bad {
			if _, err := a.Verify(context.Background(), good); err != nil {
				t.Fatalf("the accepted header: %v", err)
			}
			_, err := a.Verify(context.Background(), hs256(header, payload, secret64[:32]))
			if !errors.Is(err, reason) {
				t.Errorf("header %s after an accepted one: %v; want %v", header, err, reason)
			}
		}
	}
}
