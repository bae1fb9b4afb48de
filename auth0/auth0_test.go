package auth0_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/jwks"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	jose "gopkg.in/go-jose/go-jose.v2"
	"gopkg.in/go-jose/go-jose.v2/jwt"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/auth0"
	"github.com/typedauth/auth/scopes"
)

// newAuth returns an Auth for the fake tenant tn.
func newAuth(tb testing.TB, tn *tenant, opts ...auth0.Option) *auth.ScopedAuth[auth.Claims] {
	tb.Helper()
	opts = append([]auth0.Option{auth0.WithBaseURL(tn.srv.URL), auth0.WithHTTPClient(tn.srv.Client())}, opts...)
	a, err := auth0.NewTenant(testDomain, testAudience, opts...)
	if err != nil {
		tb.Fatalf("NewTenant: %v", err)
	}
	return a
}

// routes serves the claims as JSON on /me (any valid token), /reports
// (reports:read) and /admin (admin:write).
func routes(a *auth.ScopedAuth[auth.Claims]) http.Handler {
	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(auth.MustFrom[auth.Claims](r.Context()))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /me", a.Guard(me))
	mux.Handle("GET /reports", a.Requires("reports:read").Guard(me))
	mux.Handle("GET /admin", a.Requires("admin:write").Guard(me))
	return mux
}

// serve sends GET path with the given Authorization header ("" for none).
func serve(tb testing.TB, h http.Handler, path, authorization string) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// checkProblem checks a rejection: status, WWW-Authenticate and the
// problem+json body.
func checkProblem(tb testing.TB, rec *httptest.ResponseRecorder, status int, challenge, detail string) {
	tb.Helper()
	if rec.Code != status {
		tb.Fatalf("status = %d; want %d (body %s)", rec.Code, status, rec.Body)
	}
	if got := strings.Join(rec.Header().Values("WWW-Authenticate"), " | "); got != challenge {
		tb.Errorf("WWW-Authenticate = %q; want %q", got, challenge)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/problem+json" {
		tb.Errorf("Content-Type = %q; want application/problem+json", got)
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		tb.Fatalf("body %q: %v", rec.Body, err)
	}
	if p.Status != status || p.Detail != detail {
		tb.Errorf("problem = %+v; want status %d, detail %q", p, status, detail)
	}
}

func invalidToken(detail string) string {
	return `Bearer error="invalid_token", error_description="` + detail + `"`
}

func TestValidToken(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, true)
	h := routes(newAuth(t, tn))
	rec := serve(t, h, "/me", "Bearer "+mint(t, token{}))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200 (body %s)", rec.Code, rec.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"sub":                          "auth0|alice",
		"iss":                          testIssuer,
		"scope":                        "openid profile reports:read",
		"azp":                          "client-1",
		"https://example.com/email":    "alice@example.com",
		"https://example.com/tenantID": 42.0,
	} {
		if got[k] != want {
			t.Errorf("claims[%q] = %#v; want %#v", k, got[k], want)
		}
	}
	if roles, _ := got["https://example.com/roles"].([]any); len(roles) != 1 || roles[0] != "analyst" {
		t.Errorf("claims[roles] = %#v; want [analyst]", got["https://example.com/roles"])
	}
	if aud, _ := got["aud"].([]any); len(aud) != 2 || aud[0] != testAudience {
		t.Errorf("claims[aud] = %#v; want [%s …]", got["aud"], testAudience)
	}
}

func TestClaimsInHandler(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	a := newAuth(t, tn)
	var sub any
	h := a.Handler(func(w http.ResponseWriter, r *http.Request, c auth.Claims) { sub = c["sub"] })
	if rec := serve(t, h, "/", "Bearer "+mint(t, token{})); rec.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200", rec.Code)
	}
	if sub != "auth0|alice" {
		t.Errorf(`claims["sub"] = %#v; want "auth0|alice"`, sub)
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	h := routes(newAuth(t, tn))
	a := newAuth(t, tn)
	hour := time.Hour
	now := time.Now()
	tests := []struct {
		name    string
		token   string
		detail  string
		wantErr error // also checked through Authenticate
		goErr   error // the go-jose sentinel in the chain, if any
	}{
		{name: "expired", token: mint(t, token{claims: claims(map[string]any{"exp": now.Add(-hour).Unix()})}),
			detail: auth0.DetailExpired, wantErr: auth0.ErrTokenExpired, goErr: jwt.ErrExpired},
		{name: "no expiry", token: mint(t, token{claims: claims(map[string]any{"exp": nil})}),
			detail: auth0.DetailNoExpiry, wantErr: auth0.ErrNoExpiry},
		{name: "not valid yet", token: mint(t, token{claims: claims(map[string]any{"nbf": now.Add(hour).Unix()})}),
			detail: auth0.DetailNotValidYet, wantErr: auth0.ErrTokenNotValidYet, goErr: jwt.ErrNotValidYet},
		{name: "issued in the future", token: mint(t, token{claims: claims(map[string]any{"iat": now.Add(hour).Unix()})}),
			detail: auth0.DetailIssuedInFuture, wantErr: auth0.ErrTokenNotValidYet, goErr: jwt.ErrIssuedInTheFuture},
		{name: "signed by another key with the same kid", token: mint(t, token{key: testKeys()[1]}),
			detail: auth0.DetailSignature, wantErr: auth0.ErrInvalidSignature, goErr: jose.ErrCryptoFailure},
		{name: "tampered payload", token: tamper(t, mint(t, token{})),
			detail: auth0.DetailSignature, wantErr: auth0.ErrInvalidSignature, goErr: jose.ErrCryptoFailure},
		{name: "wrong audience", token: mint(t, token{claims: claims(map[string]any{"aud": "https://other.example.com"})}),
			detail: auth0.DetailAudience, wantErr: auth0.ErrInvalidAudience, goErr: jwt.ErrInvalidAudience},
		{name: "no audience", token: mint(t, token{claims: claims(map[string]any{"aud": nil})}),
			detail: auth0.DetailAudience, wantErr: auth0.ErrInvalidAudience, goErr: jwt.ErrInvalidAudience},
		{name: "wrong issuer", token: mint(t, token{claims: claims(map[string]any{"iss": "https://evil.test/"})}),
			detail: auth0.DetailIssuer, wantErr: auth0.ErrInvalidIssuer, goErr: jwt.ErrInvalidIssuer},
		{name: "issuer without trailing slash", token: mint(t, token{claims: claims(map[string]any{"iss": "https://tenant.test"})}),
			detail: auth0.DetailIssuer, wantErr: auth0.ErrInvalidIssuer, goErr: jwt.ErrInvalidIssuer},
		{name: "unknown kid", token: mint(t, token{kid: "key-2"}),
			detail: auth0.DetailUnknownKey, wantErr: auth0.ErrUnknownKey, goErr: jose.ErrUnsupportedKeyType},
		{name: "no kid", token: mint(t, token{kid: "-"}),
			detail: auth0.DetailUnknownKey, wantErr: auth0.ErrUnknownKey, goErr: jose.ErrUnsupportedKeyType},
		{name: "HS256 signed with the public modulus", token: mint(t, token{alg: "HS256", hmacKey: testKeys()[0].N.Bytes()}),
			detail: auth0.DetailAlgorithm, wantErr: auth0.ErrInvalidAlgorithm},
		{name: "alg none", token: mint(t, token{alg: "none"}) + "c2ln",
			detail: auth0.DetailAlgorithm, wantErr: auth0.ErrInvalidAlgorithm},
		{name: "two parts", token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0",
			detail: auth0.DetailMalformed, wantErr: auth0.ErrMalformedToken},
		{name: "five parts", token: "a.b.c.d.e",
			detail: auth0.DetailMalformed, wantErr: auth0.ErrMalformedToken},
		{name: "empty signature", token: mint(t, token{alg: "none"}),
			detail: auth0.DetailMalformed, wantErr: auth0.ErrMalformedToken},
		{name: "header not base64", token: "a.eyJzdWIiOiJ4In0.c2ln",
			detail: auth0.DetailMalformed, wantErr: auth0.ErrMalformedToken},
		{name: "header not JSON", token: b64([]byte("not json")) + ".eyJzdWIiOiJ4In0.c2ln",
			detail: auth0.DetailMalformed, wantErr: auth0.ErrMalformedToken},
		{name: "payload null", token: mint(t, token{payload: []byte("null")}),
			detail: auth0.DetailIssuer, wantErr: auth0.ErrInvalidIssuer},
		{name: "audience of the wrong type", token: mint(t, token{claims: claims(map[string]any{"aud": 5})}),
			detail: auth0.DetailClaims, wantErr: auth0.ErrInvalidClaims, goErr: jwt.ErrUnmarshalAudience},
		{name: "duplicate claim", token: mint(t, token{payload: []byte(`{"iss":"https://evil.test/","iss":"` + testIssuer + `"}`)}),
			detail: auth0.DetailInvalid, wantErr: auth0.ErrInvalidToken},
		{name: "payload not JSON", token: mint(t, token{payload: []byte("{not json")}),
			detail: auth0.DetailInvalid, wantErr: auth0.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, h, "/me", "Bearer "+tt.token)
			checkProblem(t, rec, http.StatusUnauthorized, invalidToken(tt.detail), tt.detail)
			if strings.Contains(rec.Body.String(), tt.token[:min(len(tt.token), 10)]) {
				t.Errorf("body %s echoes the token", rec.Body)
			}

			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			_, err := a.Authenticate(req)
			for _, want := range []error{tt.wantErr, tt.goErr, auth.ErrInvalidCredential, auth.ErrUnauthorized} {
				if want != nil && !errors.Is(err, want) {
					t.Errorf("Authenticate error %v; want errors.Is(err, %v)", err, want)
				}
			}
		})
	}
}

// tamper changes the subject of a signed token without re-signing it.
func tamper(tb testing.TB, tok string) string {
	tb.Helper()
	parts := strings.Split(tok, ".")
	payload, err := json.Marshal(claims(map[string]any{"sub": "auth0|mallory"}))
	if err != nil {
		tb.Fatal(err)
	}
	return parts[0] + "." + b64(payload) + "." + parts[2]
}

func TestNoToken(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	h := routes(newAuth(t, tn))
	checkProblem(t, serve(t, h, "/me", ""), http.StatusUnauthorized, "Bearer", "Missing credentials")
	if n := tn.fetch.Load(); n != 0 {
		t.Errorf("JWKS fetched %d times for requests without a token; want 0", n)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	h := routes(newAuth(t, tn))
	tests := []struct {
		name       string
		claims     map[string]any
		path       string
		wantStatus int
		wantScope  string // the scope named in a 403
	}{
		{name: "scope claim grants", claims: claims(nil), path: "/reports", wantStatus: http.StatusOK},
		{name: "permissions grant", path: "/reports", wantStatus: http.StatusOK,
			claims: claims(map[string]any{"scope": nil, "permissions": []string{"reports:read"}})},
		{name: "permissions and scope are joined", path: "/admin", wantStatus: http.StatusOK,
			claims: claims(map[string]any{"scope": "openid", "permissions": []string{"admin:write"}})},
		{name: "edit implies read", path: "/reports", wantStatus: http.StatusOK,
			claims: claims(map[string]any{"scope": nil, "permissions": []string{"reports:edit"}})},
		{name: "missing scope", claims: claims(nil), path: "/admin",
			wantStatus: http.StatusForbidden, wantScope: "admin:write"},
		{name: "no scope at all", claims: claims(map[string]any{"scope": nil}), path: "/reports",
			wantStatus: http.StatusForbidden, wantScope: "reports:read"},
		{name: "permissions as a string grant", path: "/reports",
			claims:     claims(map[string]any{"scope": 7, "permissions": "reports:read"}),
			wantStatus: http.StatusOK},
		{name: "a permissions string is one permission, not a list", path: "/admin",
			claims:     claims(map[string]any{"scope": "openid", "permissions": "openid admin:write"}),
			wantStatus: http.StatusForbidden, wantScope: "admin:write"},
		{name: "a permission with a space grants nothing", path: "/admin",
			claims:     claims(map[string]any{"scope": "openid", "permissions": []string{"openid admin:write"}}),
			wantStatus: http.StatusForbidden, wantScope: "admin:write"},
		{name: "permissions of the wrong type grant nothing", path: "/reports",
			claims:     claims(map[string]any{"scope": nil, "permissions": map[string]any{"reports:read": true}}),
			wantStatus: http.StatusForbidden, wantScope: "reports:read"},
		{name: "scp is not read", path: "/reports",
			claims:     claims(map[string]any{"scope": nil, "scp": []string{"reports:read"}}),
			wantStatus: http.StatusForbidden, wantScope: "reports:read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, h, tt.path, "Bearer "+mint(t, token{claims: tt.claims}))
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK {
					t.Fatalf("status = %d; want 200 (body %s)", rec.Code, rec.Body)
				}
				return
			}
			checkProblem(t, rec, http.StatusForbidden,
				`Bearer error="insufficient_scope", scope="`+tt.wantScope+`"`,
				auth.DetailMissingScope+tt.wantScope)
		})
	}
}

func TestKeyServerFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		mode  jwksMode
		down  bool // the server is closed: connection refused
		opts  []auth0.Option
		cause any // a pointer to a type errors.As must find, or nil
	}{
		{name: "connection refused", down: true},
		{name: "HTTP 500", mode: jwks500, cause: new(*auth0.StatusError)},
		{name: "HTTP 503 with a JWKS body", mode: jwks503Keys, cause: new(*auth0.StatusError)},
		{name: "not JSON", mode: jwksGarbage},
		{name: "not a JWKS", mode: jwksNotObject},
		{name: "timeout", mode: jwksHang, opts: []auth0.Option{auth0.WithTimeout(50 * time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false)
			tn.setMode(tt.mode)
			a := newAuth(t, tn, tt.opts...)
			if tt.down {
				tn.srv.Close()
			}
			h := routes(a)
			tok := "Bearer " + mint(t, token{})
			checkProblem(t, serve(t, h, "/reports", tok), http.StatusServiceUnavailable, "", auth0.DetailKeysUnavailable)

			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", tok)
			_, err := a.Authenticate(req)
			if !errors.Is(err, auth0.ErrKeysUnavailable) || !errors.Is(err, auth.ErrUnavailable) {
				t.Errorf("Authenticate error %v; want ErrKeysUnavailable and auth.ErrUnavailable", err)
			}
			if errors.Is(err, auth.ErrUnauthorized) {
				t.Errorf("Authenticate error %v is an auth.ErrUnauthorized", err)
			}
			if tt.cause != nil && !errors.As(err, tt.cause) {
				t.Errorf("Authenticate error %v; want a %T in its chain", err, tt.cause)
			}
			if tt.down {
				return
			}
			// The tenant recovers: the next request fetches the keys again.
			tn.setMode(jwksOK)
			if rec := serve(t, h, "/reports", tok); rec.Code != http.StatusOK {
				t.Errorf("after recovery: status = %d; want 200 (body %s)", rec.Code, rec.Body)
			}
		})
	}
}

func TestKeysAreCached(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	h := routes(newAuth(t, tn))
	tok := "Bearer " + mint(t, token{})
	for i := range 5 {
		if rec := serve(t, h, "/me", tok); rec.Code != http.StatusOK {
			t.Fatalf("request %d: status = %d; want 200", i, rec.Code)
		}
	}
	if n := tn.fetch.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times for 5 requests; want 1", n)
	}
}

func TestOversizedJWKS(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		big := strings.Repeat(" ", auth0.MaxJWKSSize) + string(jwksJSON(nil))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length
			}
			_, _ = w.Write([]byte(big))
		}))
		t.Cleanup(srv.Close)
		a, err := auth0.NewTenant(testDomain, testAudience, auth0.WithBaseURL(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		rec := serve(t, routes(a), "/me", "Bearer "+mint(t, token{}))
		checkProblem(t, rec, http.StatusServiceUnavailable, "", auth0.DetailKeysUnavailable)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	tok := mint(t, token{claims: claims(map[string]any{"exp": time.Now().Add(-30 * time.Second).Unix()})})

	t.Run("clock skew", func(t *testing.T) {
		h := routes(newAuth(t, tn, auth0.WithAllowedClockSkew(time.Minute)))
		if rec := serve(t, h, "/me", "Bearer "+tok); rec.Code != http.StatusOK {
			t.Errorf("status = %d; want 200 within the allowed skew", rec.Code)
		}
	})
	t.Run("scheme", func(t *testing.T) {
		a := newAuth(t, tn, auth0.WithScheme(auth.Cookie("at")))
		req := httptest.NewRequest(http.MethodGet, "/me", nil)
		req.AddCookie(&http.Cookie{Name: "at", Value: mint(t, token{})})
		rec := httptest.NewRecorder()
		routes(a).ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("status = %d; want 200 with the token in a cookie", rec.Code)
		}
	})
	t.Run("scope validator", func(t *testing.T) {
		simple := auth0.WithScopeValidator(scopes.Simple{})
		h := routes(newAuth(t, tn, simple))
		rec := serve(t, h, "/reports", "Bearer "+mint(t, token{claims: claims(map[string]any{"scope": "reports:edit"})}))
		if rec.Code != http.StatusForbidden {
			t.Errorf("status = %d; want 403: the verbatim validator does not imply read from edit", rec.Code)
		}
	})
	t.Run("auth options", func(t *testing.T) {
		h := routes(newAuth(t, tn, auth0.WithAuthOptions(auth.WithChallenge("Bearer", "api"))))
		checkProblem(t, serve(t, h, "/me", ""), http.StatusUnauthorized, `Bearer realm="api"`, "Missing credentials")
	})
	t.Run("description", func(t *testing.T) {
		if got := newAuth(t, tn).Description(); got.Scheme != "bearer" || got.BearerFormat != "JWT" {
			t.Errorf("Description() = %+v; want bearer JWT", got)
		}
	})
}

func TestNewTenantErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, domain, audience string
		opts                   []auth0.Option
	}{
		{name: "empty domain", audience: testAudience},
		{name: "URL as domain", domain: "https://tenant.test/", audience: testAudience},
		{name: "domain with path", domain: "tenant.test/x", audience: testAudience},
		{name: "domain with user", domain: "u@tenant.test", audience: testAudience},
		{name: "empty audience", domain: testDomain},
		{name: "base URL without scheme", domain: testDomain, audience: testAudience, opts: []auth0.Option{auth0.WithBaseURL("tenant.test")}},
		{name: "base URL of another scheme", domain: testDomain, audience: testAudience, opts: []auth0.Option{auth0.WithBaseURL("ftp://tenant.test")}},
		{name: "base URL with query", domain: testDomain, audience: testAudience, opts: []auth0.Option{auth0.WithBaseURL("https://tenant.test/?a=b")}},
		{name: "negative timeout", domain: testDomain, audience: testAudience, opts: []auth0.Option{auth0.WithTimeout(-time.Second)}},
		{name: "negative unknown kid interval", domain: testDomain, audience: testAudience, opts: []auth0.Option{auth0.WithUnknownKIDInterval(-time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := auth0.NewTenant(tt.domain, tt.audience, tt.opts...)
			if err == nil || a != nil {
				t.Fatalf("NewTenant(%q, %q) = %v, %v; want an error", tt.domain, tt.audience, a, err)
			}
			if !strings.HasPrefix(err.Error(), "auth0: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := auth0.NewTenant("tenant.test:8443", testAudience); err != nil {
		t.Errorf("NewTenant with a port: %v", err)
	}
}

// validatorFor builds an SDK validator for tn by hand, as users of New do.
func validatorFor(tb testing.TB, tn *tenant, wrap bool, opts ...validator.Option) *validator.Validator {
	tb.Helper()
	issuer, _ := url.Parse(testIssuer)
	jwksURL, _ := url.Parse(tn.srv.URL + auth0.JWKSPath)
	p := jwks.NewCachingProvider(issuer, time.Minute, jwks.WithCustomJWKSURI(jwksURL))
	keyFunc := p.KeyFunc
	if wrap {
		keyFunc = auth0.KeyFunc(keyFunc)
	}
	v, err := validator.New(keyFunc, validator.RS256, testIssuer, []string{testAudience}, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// userClaims are custom claims of the caller's own type.
type userClaims struct {
	Email string `json:"https://example.com/email"`
}

func (userClaims) Validate(context.Context) error { return nil }

func TestNew(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	tests := []struct {
		name   string
		opts   []validator.Option
		want   map[string]any
		absent []string
	}{
		{name: "with CustomClaims", opts: []validator.Option{validator.WithCustomClaims(auth0.CustomClaims)},
			want: map[string]any{"sub": "auth0|alice", "azp": "client-1", "scope": "openid profile reports:read"}},
		{name: "registered claims only",
			want:   map[string]any{"sub": "auth0|alice", "iss": testIssuer},
			absent: []string{"azp", "scope"}},
		{name: "claims of the caller's type",
			opts:   []validator.Option{validator.WithCustomClaims(func() validator.CustomClaims { return &userClaims{} })},
			want:   map[string]any{"sub": "auth0|alice", "https://example.com/email": "alice@example.com"},
			absent: []string{"azp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := auth0.New(validatorFor(t, tn, true, tt.opts...))
			var got auth.Claims
			h := a.Handler(func(w http.ResponseWriter, r *http.Request, c auth.Claims) { got = c })
			if rec := serve(t, h, "/", "Bearer "+mint(t, token{})); rec.Code != http.StatusOK {
				t.Fatalf("status = %d; want 200 (body %s)", rec.Code, rec.Body)
			}
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("claims[%q] = %#v; want %#v", k, got[k], want)
				}
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("claims[%q] present; want absent", k)
				}
			}
			if _, ok := got["exp"].(float64); !ok {
				t.Errorf("claims[exp] = %#v; want a float64", got["exp"])
			}
		})
	}
}

// strictRoles decodes itself with encoding/json, as custom claim types
// often do; its errors are those a JWKS fetch gives too.
type strictRoles []string

func (r *strictRoles) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, (*[]string)(r)) }

type rolesClaims struct {
	Roles strictRoles `json:"https://example.com/roles"`
}

func (rolesClaims) Validate(context.Context) error { return nil }

// TestNewBadCustomClaimIsNotAnOutage: a signed token whose custom claim
// fails the caller's encoding/json decoding is an invalid token (401),
// even with a bare key func, whose JSON errors mean 503.
func TestNewBadCustomClaimIsNotAnOutage(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	for _, wrap := range []bool{true, false} {
		a := auth0.New(validatorFor(t, tn, wrap, validator.WithCustomClaims(func() validator.CustomClaims { return &rolesClaims{} })))
		h := routes(a)
		if rec := serve(t, h, "/me", "Bearer "+mint(t, token{})); rec.Code != http.StatusOK {
			t.Fatalf("wrap %v: valid token: status = %d; want 200 (body %s)", wrap, rec.Code, rec.Body)
		}
		for name, roles := range map[string]any{"number": 5, "object": map[string]any{"a": 1}} {
			tok := mint(t, token{claims: claims(map[string]any{"https://example.com/roles": roles})})
			rec := serve(t, h, "/me", "Bearer "+tok)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("wrap %v, roles as %s: status = %d; want 401 (body %s)", wrap, name, rec.Code, rec.Body)
			}
		}
	}
}

func TestNewKeyServerDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		wrap bool // the key func is wrapped by auth0.KeyFunc
		mode jwksMode
		down bool
	}{
		{name: "KeyFunc, refused", wrap: true, down: true},
		{name: "KeyFunc, not JSON", wrap: true, mode: jwksGarbage},
		{name: "bare key func, refused", down: true},
		{name: "bare key func, not JSON", mode: jwksGarbage},
		{name: "bare key func, not a JWKS", mode: jwksNotObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false)
			tn.setMode(tt.mode)
			a := auth0.New(validatorFor(t, tn, tt.wrap, validator.WithCustomClaims(auth0.CustomClaims)))
			if tt.down {
				tn.srv.Close()
			}
			rec := serve(t, routes(a), "/me", "Bearer "+mint(t, token{}))
			checkProblem(t, rec, http.StatusServiceUnavailable, "", auth0.DetailKeysUnavailable)
		})
	}
}

func TestNewPanics(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	tests := []struct {
		name string
		call func()
	}{
		{name: "nil validator", call: func() { auth0.New(nil) }},
		{name: "tenant option", call: func() { auth0.New(validatorFor(t, tn, true), auth0.WithBaseURL(tn.srv.URL)) }},
		{name: "nil key func", call: func() { auth0.KeyFunc(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tt.name)
				}
			}()
			tt.call()
		})
	}
}

func TestScopesFunc(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claims auth.Claims
		want   string
	}{
		{name: "scope only", claims: auth.Claims{"scope": "a b"}, want: "a b"},
		{name: "permissions only", claims: auth.Claims{"permissions": []any{"c", "d"}}, want: "c d"},
		{name: "both", claims: auth.Claims{"scope": "a", "permissions": []any{"c"}}, want: "a c"},
		{name: "string slices", claims: auth.Claims{"permissions": []string{"e"}}, want: "e"},
		{name: "wrong types", claims: auth.Claims{"scope": 1.0, "permissions": "x"}, want: "x"},
		{name: "permissions string with spaces", claims: auth.Claims{"scope": "a", "permissions": "b c"}, want: "a"},
		{name: "none", claims: auth.Claims{}, want: ""},
	}
	for _, tt := range tests {
		if got := auth0.Scopes(tt.claims).String(); got != tt.want {
			t.Errorf("%s: Scopes(%v) = %q; want %q", tt.name, tt.claims, got, tt.want)
		}
	}
}

// TestConcurrentFirstFetch sends requests while the first JWKS fetch is
// pending: they share it rather than each fetching in turn.
func TestConcurrentFirstFetch(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	tn := newGatedTenant(t, false, gate)
	h := routes(newAuth(t, tn))
	tok := "Bearer " + mint(t, token{})
	const n = 8
	codes := make(chan int, n)
	for range n {
		go func() { codes <- serve(t, h, "/me", tok).Code }()
	}
	for tn.fetch.Load() == 0 {
		runtime.Gosched() // until the first fetch reached the tenant
	}
	close(gate)
	for range n {
		if code := <-codes; code != http.StatusOK {
			t.Errorf("status = %d; want 200", code)
		}
	}
	if got := tn.fetch.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times for %d concurrent requests; want 1", got, n)
	}
}

// TestRequestGivesUpWaiting checks that a request whose context ends while
// the key server hangs is answered at once with 503.
func TestRequestGivesUpWaiting(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	tn := newGatedTenant(t, false, gate)
	t.Cleanup(func() { close(gate) }) // before the tenant closes
	a := newAuth(t, tn)
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+mint(t, token{}))
	go func() {
		for tn.fetch.Load() == 0 {
			runtime.Gosched()
		}
		cancel()
	}()
	_, err := a.Authenticate(req)
	if !errors.Is(err, auth0.ErrKeysUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Authenticate error %v; want ErrKeysUnavailable and context.Canceled", err)
	}
}

func TestJWKSRedirect(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	front := httptest.NewServer(http.RedirectHandler(tn.srv.URL+auth0.JWKSPath, http.StatusFound))
	t.Cleanup(front.Close)
	a, err := auth0.NewTenant(testDomain, testAudience, auth0.WithBaseURL(front.URL))
	if err != nil {
		t.Fatal(err)
	}
	if rec := serve(t, routes(a), "/me", "Bearer "+mint(t, token{})); rec.Code != http.StatusOK {
		t.Errorf("status = %d; want 200 with the JWKS behind a redirect (body %s)", rec.Code, rec.Body)
	}
}

// TestJWKSRedirectToHTTPIsRefused: a key server reached over https cannot
// hand the fetch to plain http, where anyone on the path could swap the
// keys. The fetch fails (503) rather than trusting what http serves.
func TestJWKSRedirectToHTTPIsRefused(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false) // plain http
	front := httptest.NewTLSServer(http.RedirectHandler(tn.srv.URL+auth0.JWKSPath, http.StatusFound))
	t.Cleanup(front.Close)
	a, err := auth0.NewTenant(testDomain, testAudience, auth0.WithBaseURL(front.URL), auth0.WithHTTPClient(front.Client()))
	if err != nil {
		t.Fatal(err)
	}
	rec := serve(t, routes(a), "/me", "Bearer "+mint(t, token{}))
	checkProblem(t, rec, http.StatusServiceUnavailable, "", auth0.DetailKeysUnavailable)
	if n := tn.fetch.Load(); n != 0 {
		t.Errorf("the http key server was asked %d times; want 0", n)
	}

	// An https key server behind an https redirect is fine.
	tlsTenant := newTenant(t, true)
	front2 := httptest.NewTLSServer(http.RedirectHandler(tlsTenant.srv.URL+auth0.JWKSPath, http.StatusFound))
	t.Cleanup(front2.Close)
	a, err = auth0.NewTenant(testDomain, testAudience, auth0.WithBaseURL(front2.URL), auth0.WithHTTPClient(tlsTenant.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if rec := serve(t, routes(a), "/me", "Bearer "+mint(t, token{})); rec.Code != http.StatusOK {
		t.Errorf("https to https redirect: status = %d; want 200 (body %s)", rec.Code, rec.Body)
	}
}

// TestWeakTenantKeyIsNotUsed: an RSA key under 2048 bits in the tenant's
// JWKS verifies nothing (RFC 7518 §3.3); its tokens are 401 as signed by
// an unknown key, while the strong key keeps working.
func TestWeakTenantKeyIsNotUsed(t *testing.T) {
	t.Parallel()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	body := jwksJSON(map[string]*rsa.PublicKey{testKid: &testKeys()[0].PublicKey, "weak": &weak.PublicKey})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	a, err := auth0.NewTenant(testDomain, testAudience, auth0.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	h := routes(a)
	for range 2 { // the second time from the cache
		rec := serve(t, h, "/me", "Bearer "+mint(t, token{kid: "weak", key: weak}))
		checkProblem(t, rec, http.StatusUnauthorized, invalidToken(auth0.DetailUnknownKey), auth0.DetailUnknownKey)
		if rec := serve(t, h, "/me", "Bearer "+mint(t, token{})); rec.Code != http.StatusOK {
			t.Errorf("strong key: status = %d; want 200 (body %s)", rec.Code, rec.Body)
		}
	}
}

// TestEmptyTenantKeySetIsAnOutage: a JWKS without a usable key (an empty
// set, an object without keys, only weak keys) says nothing about the
// token: it is answered as a key server failure (503), not as a token
// signed by an unknown key (401).
func TestEmptyTenantKeySetIsAnOutage(t *testing.T) {
	t.Parallel()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body []byte
	}{
		{name: "empty keys", body: []byte(`{"keys":[]}`)},
		{name: "no keys member", body: []byte(`{}`)},
		{name: "only a weak key", body: jwksJSON(map[string]*rsa.PublicKey{testKid: &weak.PublicKey})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(tt.body)
			}))
			t.Cleanup(srv.Close)
			a, err := auth0.NewTenant(testDomain, testAudience, auth0.WithBaseURL(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			rec := serve(t, routes(a), "/me", "Bearer "+mint(t, token{}))
			checkProblem(t, rec, http.StatusServiceUnavailable, "", auth0.DetailKeysUnavailable)
		})
	}
}
