package auth0_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/jwks"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/auth0"
	"github.com/typedauth/auth/jwt"
)

// fakeTenant serves, on loopback, the JWKS that an Auth0 tenant publishes
// at /.well-known/jwks.json, and returns a func that signs tokens with the
// tenant's key, as the tenant would, for the claims of a valid token with
// the given overrides.
func fakeTenant() (*httptest.Server, func(overrides map[string]any) string) {
	keys := jwksJSON(map[string]*rsa.PublicKey{testKid: &testKeys()[0].PublicKey})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != auth0.JWKSPath {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(keys)
	}))
	return srv, func(overrides map[string]any) string {
		tok, err := sign(token{claims: claims(overrides)})
		if err != nil {
			panic(err)
		}
		return tok
	}
}

// get sends GET path to h with a bearer token and prints the outcome.
func get(h http.Handler, path, tok string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(path, rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body)
}

func ExampleNewTenant() {
	srv, sign := fakeTenant()
	defer srv.Close()

	// In production: auth0.NewTenant(ctx, "your-tenant.auth0.com", "https://api.example.com").
	// Here the tenant's keys are served by srv.
	tokens, err := auth0.NewTenant(context.Background(), "tenant.test", "https://api.example.com", auth0.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tokens.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /me", tokens.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims := auth.MustFrom[auth.Claims](r.Context())
		fmt.Fprint(w, "hello ", claims["sub"], " ", claims["https://example.com/email"])
	})))
	mux.Handle("GET /admin", tokens.Requires("admin:write").Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "admin")
	})))

	get(mux, "/me", sign(nil))
	get(mux, "/admin", sign(nil))
	get(mux, "/me", sign(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	get(mux, "/me", "")
	// Output:
	// /me 200  hello auth0|alice alice@example.com
	// /admin 403 Bearer error="insufficient_scope", scope="admin:write" {"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: admin:write"}
	// /me 401 Bearer error="invalid_token", error_description="Token has expired" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Token has expired"}
	// /me 401 Bearer {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Missing credentials"}
}

// Auth0's RBAC puts the API's permissions in a "permissions" claim; they
// count as scopes, together with those of "scope".
func ExampleScopes() {
	srv, sign := fakeTenant()
	defer srv.Close()
	tokens, err := auth0.NewTenant(context.Background(), "tenant.test", "https://api.example.com", auth0.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tokens.Close()
	reports := tokens.Requires("reports:read").Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "reports")
	}))

	get(reports, "/reports", sign(map[string]any{"scope": "openid", "permissions": []string{"reports:read"}}))
	get(reports, "/reports", sign(map[string]any{"scope": "openid", "permissions": []string{}}))
	fmt.Println(auth0.Scopes(auth.Claims{"scope": "openid profile", "permissions": []any{"reports:read"}}))
	// Output:
	// /reports 200  reports
	// /reports 403 Bearer error="insufficient_scope", scope="reports:read" {"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: reports:read"}
	// openid profile reports:read
}

// fakeValidator stands in for Auth0 in a test of a protected handler: no
// tenant, no keys, no key server. It accepts the token "alice" and rejects
// anything else as expired, in the words of package jwt.
type fakeValidator struct{}

func (fakeValidator) ValidateToken(ctx context.Context, token string) (any, error) {
	if token != "alice" {
		return nil, jwt.ErrTokenExpired
	}
	return auth.Claims{"sub": "auth0|alice", "scope": "reports:read"}, nil
}

// New takes any Validator: here a fake, as a test of a handler protected
// by Auth0 would use. The handler, Requires and the error responses work
// as they do with the tenant.
func ExampleNew() {
	tokens := auth0.New(fakeValidator{})
	h := tokens.Requires("reports:read").Handler(func(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
		fmt.Fprint(w, "reports for ", claims["sub"])
	})

	get(h, "/reports", "alice")
	get(h, "/reports", "mallory")
	// Output:
	// /reports 200  reports for auth0|alice
	// /reports 401 Bearer error="invalid_token", error_description="Token has expired" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Token has expired"}
}

// New takes a validator built with the SDK, here for two audiences. The
// key func is wrapped by KeyFunc so that an unreachable key server is a 503,
// and CustomClaims puts every claim in the principal.
func ExampleNew_sdk() {
	srv, sign := fakeTenant()
	defer srv.Close()

	issuer, _ := url.Parse("https://tenant.test/")
	jwksURL, _ := url.Parse(srv.URL + auth0.JWKSPath)
	provider := jwks.NewCachingProvider(issuer, 5*time.Minute, jwks.WithCustomJWKSURI(jwksURL))
	v, err := validator.New(auth0.KeyFunc(provider.KeyFunc), validator.RS256, issuer.String(),
		[]string{"https://api.example.com", "https://legacy.example.com"},
		validator.WithCustomClaims(auth0.CustomClaims),
		validator.WithAllowedClockSkew(30*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	tokens := auth0.New(v)

	h := tokens.Handler(func(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
		fmt.Fprint(w, claims["sub"], " via ", claims["azp"])
	})
	get(h, "/", sign(map[string]any{"aud": "https://legacy.example.com"}))
	get(h, "/", sign(map[string]any{"aud": "https://other.example.com"}))

	// Output:
	// / 200  auth0|alice via client-1
	// / 401 Bearer error="invalid_token", error_description="Token audience is not accepted" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Token audience is not accepted"}
}

// Rejections match package jwt's causes, and golang-jwt's, for errors.Is.
// Once the tenant's keys have loaded, an outage of the tenant changes
// nothing: tokens of known keys are accepted, unknown kids are 401. A
// tenant that cannot be reached at start-up makes NewTenant fail.
func Example_errors() {
	srv, sign := fakeTenant()
	tokens, err := auth0.NewTenant(context.Background(), "tenant.test", "https://api.example.com", auth0.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tokens.Close()
	h := tokens.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))

	_, err = tokens.Verify(context.Background(), sign(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	fmt.Println(errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, gojwt.ErrTokenExpired), auth.StatusOf(err))

	srv.Close()
	get(h, "/", sign(nil))
	_, err = auth0.NewTenant(context.Background(), "tenant.test", "https://api.example.com", auth0.WithBaseURL(srv.URL))
	fmt.Println(errors.Is(err, jwt.ErrKeySetUnavailable))
	// Output:
	// true true 401
	// / 200  ok
	// true
}
