package auth0_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/validator"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/auth0"
	"github.com/typedauth/auth/jwt"
)

// TestSameFailuresAsJWT drives the same failing tokens through a jwt.Auth
// and an auth0.Auth on the same tenant keys: both answer with the same
// status, WWW-Authenticate and body, and both errors match jwt's cause and
// golang-jwt's sentinel.
func TestSameFailuresAsJWT(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	set, err := jwt.NewRemoteKeySet(context.Background(), tn.srv.URL+auth0.JWKSPath, jwt.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	viaJWT, err := jwt.New(jwt.Config{KeySet: set, Algorithms: []string{"RS256"}, IssuerURL: testIssuer, Audience: []string{testAudience}})
	if err != nil {
		t.Fatal(err)
	}
	viaAuth0 := newAuth(t, tn, jwt.RemoteOptions{})
	hour := time.Hour
	now := time.Now()
	tests := []struct {
		name    string
		token   string
		reason  error // jwt's cause
		library error // golang-jwt's sentinel
	}{
		{name: "expired", token: mint(t, token{claims: claims(map[string]any{"exp": now.Add(-hour).Unix()})}),
			reason: jwt.ErrTokenExpired, library: gojwt.ErrTokenExpired},
		{name: "not yet valid", token: mint(t, token{claims: claims(map[string]any{"nbf": now.Add(hour).Unix()})}),
			reason: jwt.ErrTokenNotValidYet, library: gojwt.ErrTokenNotValidYet},
		{name: "wrong issuer", token: mint(t, token{claims: claims(map[string]any{"iss": "https://evil.test/"})}),
			reason: jwt.ErrTokenIssuer, library: gojwt.ErrTokenInvalidIssuer},
		{name: "wrong audience", token: mint(t, token{claims: claims(map[string]any{"aud": "https://other.example.com"})}),
			reason: jwt.ErrTokenAudience, library: gojwt.ErrTokenInvalidAudience},
		{name: "unknown key", token: mint(t, token{kid: "key-2", key: testKeys()[1]}),
			reason: jwt.ErrKeyNotFound, library: gojwt.ErrTokenUnverifiable},
		{name: "bad signature", token: mint(t, token{key: testKeys()[1]}),
			reason: jwt.ErrTokenSignatureInvalid, library: gojwt.ErrTokenSignatureInvalid},
		{name: "malformed: one part", token: "not-a-jwt",
			reason: jwt.ErrTokenMalformed, library: gojwt.ErrTokenMalformed},
		{name: "malformed: five parts", token: "a.b.c.d.e",
			reason: jwt.ErrTokenMalformed, library: gojwt.ErrTokenMalformed},
		{name: "malformed: header not JSON", token: b64([]byte("not json")) + ".eyJzdWIiOiJ4In0.c2ln",
			reason: jwt.ErrTokenMalformed, library: gojwt.ErrTokenMalformed},
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := jwt.Rejection(tt.reason).Detail
			var bodies []string
			for name, a := range map[string]auth.Source[auth.Claims]{"jwt": viaJWT, "auth0": viaAuth0} {
				rec := serve(t, a.Guard(ok), "/", "Bearer "+tt.token)
				checkProblem(t, rec, http.StatusUnauthorized, invalidToken(want), want)
				bodies = append(bodies, rec.Body.String())

				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.Header.Set("Authorization", "Bearer "+tt.token)
				var err error
				switch a := a.(type) {
				case *jwt.Auth:
					_, err = a.Authenticate(req)
				case *auth0.Auth:
					_, err = a.Authenticate(req)
				}
				for _, target := range []error{tt.reason, tt.library, auth.ErrInvalidCredential} {
					if !errors.Is(err, target) {
						t.Errorf("%s: error %v; want errors.Is(err, %v)", name, err, target)
					}
				}
			}
			if bodies[0] != bodies[1] {
				t.Errorf("bodies differ: %s and %s", bodies[0], bodies[1])
			}
		})
	}
}

// fake is a Validator that returns what it is told.
type fake struct {
	res   any
	err   error
	calls int
}

func (f *fake) ValidateToken(ctx context.Context, token string) (any, error) {
	f.calls++
	return f.res, f.err
}

// TestNewWithFake protects a handler with auth0.New(fake): no tenant, no
// key server. Claims reach the handler; errors are classified as the SDK's
// are, an unknown one is a 401 whose cause the error writer receives, and a
// validator that returns no claims is a 500.
func TestNewWithFake(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	exp := float64(time.Now().Add(time.Hour).Unix())
	tests := []struct {
		name       string
		fake       fake
		status     int
		detail     string
		challenge  string
		logged     error // errors.Is must hold for what the error writer receives
		wantClaims bool
	}{
		{name: "claims", fake: fake{res: auth.Claims{"sub": "auth0|alice", "scope": "reports:read", "exp": exp}},
			status: http.StatusOK, wantClaims: true},
		{name: "map", fake: fake{res: map[string]any{"sub": "auth0|alice", "scope": "reports:read"}},
			status: http.StatusOK, wantClaims: true},
		{name: "SDK claims", status: http.StatusOK, wantClaims: true, fake: fake{res: &validator.ValidatedClaims{
			RegisteredClaims: validator.RegisteredClaims{Subject: "auth0|alice", Expiry: int64(exp)},
			CustomClaims:     &struct{ validator.CustomClaims }{}}}},
		{name: "SDK claims without exp", fake: fake{res: &validator.ValidatedClaims{RegisteredClaims: validator.RegisteredClaims{Subject: "x"}}},
			status: http.StatusUnauthorized, detail: detailNoExpiry, logged: jwt.ErrTokenNoExpiration},
		{name: "jwt's cause", fake: fake{err: jwt.ErrTokenAudience},
			status: http.StatusUnauthorized, detail: detailAudience, logged: gojwt.ErrTokenInvalidAudience},
		{name: "unknown error", fake: fake{err: boom},
			status: http.StatusUnauthorized, detail: detailInvalid, logged: boom},
		{name: "the validator's own auth.Error", fake: fake{err: auth.Unauthorized("Token is revoked")},
			status: http.StatusUnauthorized, detail: "Token is revoked"},
		{name: "unavailable", fake: fake{err: auth.ErrUnavailable},
			status: http.StatusServiceUnavailable, detail: detailUnavailable, challenge: "-"},
		{name: "deadline", fake: fake{err: context.DeadlineExceeded},
			status: http.StatusServiceUnavailable, detail: detailUnavailable, challenge: "-", logged: jwt.ErrKeySetUnavailable},
		{name: "no claims", fake: fake{res: "alice"},
			status: http.StatusInternalServerError, detail: "Internal Server Error", challenge: "-"},
		{name: "nil claims", fake: fake{res: auth.Claims(nil)},
			status: http.StatusInternalServerError, detail: "Internal Server Error", challenge: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logged *auth.Error
			a := auth0.New(&tt.fake, auth0.WithAuthOptions(auth.WithErrorWriter(func(w http.ResponseWriter, r *http.Request, e *auth.Error) {
				logged = e
				auth.WriteError(w, r, e)
			})))
			var got auth.Claims
			h := a.Requires("reports:read").Handler(func(w http.ResponseWriter, r *http.Request, c auth.Claims) { got = c })
			if tt.wantClaims {
				if tt.name == "SDK claims" {
					h = a.Handler(func(w http.ResponseWriter, r *http.Request, c auth.Claims) { got = c })
				}
				if rec := serve(t, h, "/", "Bearer not-even-a-jwt"); rec.Code != http.StatusOK {
					t.Fatalf("status = %d; want 200 (body %s)", rec.Code, rec.Body)
				}
				if got["sub"] != "auth0|alice" {
					t.Errorf("claims = %v; want sub auth0|alice", got)
				}
				return
			}
			rec := serve(t, h, "/", "Bearer not-even-a-jwt")
			challenge := invalidToken(tt.detail)
			if tt.challenge == "-" {
				challenge = ""
			}
			checkProblem(t, rec, tt.status, challenge, tt.detail)
			if tt.fake.calls != 1 {
				t.Errorf("validator called %d times; want 1", tt.fake.calls)
			}
			if tt.logged != nil && !errors.Is(logged, tt.logged) {
				t.Errorf("error writer got %v; want errors.Is(err, %v)", logged, tt.logged)
			}
			if tt.status == http.StatusUnauthorized && tt.detail == detailInvalid && !errors.Is(logged, auth0.ErrInvalidToken) {
				t.Errorf("error writer got %v; want auth0.ErrInvalidToken", logged)
			}
		})
	}
}

// TestNewChecksJWSSyntaxForTheSDK: an SDK validator never sees a
// credential that is not a compact JWS; the Auth of a tenant neither.
func TestNewChecksJWSSyntaxForTheSDK(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	for name, a := range map[string]*auth0.Auth{
		"New":       auth0.New(validatorFor(t, tn, true)),
		"NewTenant": newAuth(t, tn, jwt.RemoteOptions{}),
	} {
		rec := serve(t, routes(a), "/me", `Bearer a.b.c.d`)
		checkProblem(t, rec, http.StatusUnauthorized, invalidToken(detailMalformed), detailMalformed)
		if a.KeySet() == nil != (name == "New") {
			t.Errorf("%s: KeySet() = %v", name, a.KeySet())
		}
	}
	if err := auth0.New(&fake{}).Close(); err != nil {
		t.Errorf("Close of an Auth built by New: %v", err)
	}
	var none *auth0.Auth
	if err := none.Close(); err != nil || none.KeySet() != nil {
		t.Errorf("nil Auth: Close = %v, KeySet = %v; want nil, nil", err, none.KeySet())
	}
}
