package jwt

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// FuzzDifferential feeds the same tokens to the library and to a bare,
// pre-built golang-jwt parser configured alike (HS256, issuer, audience,
// exp required, iat checked, 10 s leeway, strict decoding, the same clock
// and secret). The fuzzer mutates the header and payload JSON, which are
// then signed, and the shape of the compact token. Their decisions may
// differ only where the library's documented policy is stricter: the
// library never accepts what the parser rejects, and every token only the
// parser accepts is refused by a rule of the policy, which the target names
// (policyRule); when both accept, both give the same claims.
func FuzzDifferential(f *testing.F) {
	secret := []byte("differential-fuzzing-secret-32by")
	now := func() time.Time { return time.Unix(1_700_000_000, 0) }
	lib, err := New(Config{Secret: secret, Algorithms: []string{"HS256"}, IssuerURL: "https://iss.example",
		Audience: []string{"api"}, Now: now})
	if err != nil {
		f.Fatal(err)
	}
	bare := gojwt.NewParser(
		gojwt.WithValidMethods([]string{"HS256"}),
		gojwt.WithIssuer("https://iss.example"),
		gojwt.WithAudience("api"),
		gojwt.WithExpirationRequired(),
		gojwt.WithIssuedAt(),
		gojwt.WithLeeway(DefaultLeeway),
		gojwt.WithTimeFunc(now),
		gojwt.WithStrictDecoding(),
	)
	const good = `{"iss":"https://iss.example","aud":"api","exp":1700003600,"sub":"u"}`
	for _, s := range []struct {
		header, payload string
		shape           uint8
	}{
		{`{"alg":"HS256","typ":"JWT"}`, good, 0},
		{`{"alg":"HS256","crit":["exp"]}`, good, 0},
		{`{"alg":"HS256","b64":false}`, good, 0},
		{`{"alg":"HS256","alg":"HS256"}`, good, 0},
		{`{"alg":"HS256","kid":"k1"}`, good, 0},
		{`{"alg":"HS256","kid":7}`, good, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":"api","exp":1700003600,"exp":1}`, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":"api","exp":1700003600,"EXP":1}`, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":"api","exp":1700003600,"sub":"u","ſub":"admin"}`, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":"api","exp":1700003600,"sub":5}`, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":["api",1],"exp":1700003600}`, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":"api","exp":1e300}`, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":"api","exp":1700003600,"scope":"a","scope":"b"}`, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":"api","exp":1700003600,"x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, 0},
		{`{"alg":"HS256"}`, "{\"iss\":\"https://iss.example\",\"aud\":\"api\",\"exp\":1700003600,\"n\":\"\xff\"}", 0},
		{`{"alg":"HS256"}`, good, 1},
		{`{"alg":"HS256"}`, good, 2},
		{`{"alg":"HS256"}`, good, 3},
		{`{"alg":"none"}`, good, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":"api"}`, 0},
		{`{"alg":"HS256"}`, `{"iss":"https://iss.example","aud":"api","exp":1600000000}`, 0},
	} {
		f.Add(s.header, s.payload, s.shape)
	}
	f.Fuzz(func(t *testing.T, header, payload string, shape uint8) {
		tok := signHS256(header, payload, secret)
		switch shape % 4 {
		case 1: // a line break inside the payload segment
			h, rest, _ := strings.Cut(tok, ".")
			if len(rest) > 2 {
				tok = h + "." + rest[:2] + "\n" + rest[2:]
			}
		case 2: // padding
			h, rest, _ := strings.Cut(tok, ".")
			p, s, _ := strings.Cut(rest, ".")
			tok = h + "." + p + "=." + s
		case 3: // a token over the length cap
			if len(tok) <= DefaultMaxTokenLength {
				tok = signHS256(header, payload+strings.Repeat(" ", DefaultMaxTokenLength), secret)
			}
		}
		ctx := context.Background()
		claims, libErr := lib.Verify(ctx, tok)
		bareClaims := gojwt.MapClaims{}
		_, bareErr := bare.ParseWithClaims(tok, bareClaims, func(*gojwt.Token) (any, error) { return secret, nil })
		switch {
		case libErr == nil && bareErr != nil:
			t.Fatalf("the library accepts %q, which golang-jwt rejects: %v", tok, bareErr)
		case libErr == nil && !reflect.DeepEqual(map[string]any(bareClaims), map[string]any(claims)):
			t.Fatalf("claims of %q: library %v, golang-jwt %v", tok, claims, bareClaims)
		case libErr != nil && bareErr == nil:
			rule := policyRule(libErr)
			if rule == "" {
				t.Fatalf("the library rejects %q, which golang-jwt accepts, by no documented rule: %v", tok, libErr)
			}
			t.Logf("stricter by rule %q (a %d-byte token)", rule, len(tok))
		}
	})
}

// policyRule names the documented rule of the policy layer that err, a
// rejection, comes from, or returns "" when err comes from none.
func policyRule(err error) string {
	switch {
	case errors.Is(err, ErrTokenTooLong):
		return "length cap"
	case errors.Is(err, ErrTokenUnsupportedHeader):
		return "crit or b64 header"
	case errors.Is(err, ErrTokenType):
		return "required typ"
	case errors.Is(err, errAlphabet):
		return "line break inside a segment"
	case errors.Is(err, errBase64):
		return "strict base64url of header and payload"
	case errors.Is(err, errSegments):
		return "three non-empty segments"
	case errors.Is(err, errHeaderType), errors.Is(err, errDuplicate) && errors.Is(err, ErrTokenMalformed):
		return "alg, kid and typ once, as strings"
	case errors.Is(err, errNoAlg), errors.Is(err, ErrTokenAlgorithm):
		return "alg in the allowlist"
	case errors.Is(err, errClaimName):
		return "no case variant of a registered claim"
	case errors.Is(err, errDuplicate):
		return "no duplicate registered claim"
	case errors.Is(err, errClaimType):
		return "registered claims of their JSON type and range"
	case errors.Is(err, errJSON):
		return "valid UTF-8, nesting at most 64 deep"
	case errors.Is(err, errUnknownKID), errors.Is(err, errNoSoleKey), errors.Is(err, errAlgMismatch):
		return "key chosen by kid; kid-less only with exactly one key"
	}
	return ""
}

func signHS256(header, payload string, secret []byte) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}
