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
	josejwt "gopkg.in/go-jose/go-jose.v2/jwt"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/auth0"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/scopes"
)

// newAuth returns an Auth for the fake tenant tn, closed when tb ends.
// Options of the key set are given as ks, on top of tn's client.
func newAuth(tb testing.TB, tn *tenant, ks jwt.RemoteOptions, opts ...auth0.TenantOption) *auth0.Auth {
	tb.Helper()
	a, err := newTenantAuth(tn, ks, opts...)
	if err != nil {
		tb.Fatalf("NewTenant: %v", err)
	}
	tb.Cleanup(func() { _ = a.Close() })
	return a
}

func newTenantAuth(tn *tenant, ks jwt.RemoteOptions, opts ...auth0.TenantOption) (*auth0.Auth, error) {
	if ks.Client == nil {
		ks.Client = tn.srv.Client()
	}
	opts = append([]auth0.TenantOption{auth0.WithBaseURL(tn.srv.URL), auth0.WithKeySetOptions(ks)}, opts...)
	return auth0.NewTenant(context.Background(), testDomain, testAudience, opts...)
}

// routes serves the claims as JSON on /me (any valid token), /reports
// (reports:read) and /admin (admin:write).
func routes(a *auth0.Auth) http.Handler {
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
	h := routes(newAuth(t, tn, jwt.RemoteOptions{}))
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
	a := newAuth(t, tn, jwt.RemoteOptions{})
	var sub any
	h := a.Handler(func(w http.ResponseWriter, r *http.Request, c auth.Claims) { sub = c["sub"] })
	if rec := serve(t, h, "/", "Bearer "+mint(t, token{})); rec.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200", rec.Code)
	}
	if sub != "auth0|alice" {
		t.Errorf(`claims["sub"] = %#v; want "auth0|alice"`, sub)
	}
}

// Details of package jwt's rejections, which auth0 shares.
var (
	detailExpired     = jwt.Rejection(jwt.ErrTokenExpired).Detail
	detailNoExpiry    = jwt.Rejection(jwt.ErrTokenNoExpiration).Detail
	detailNotValidYet = jwt.Rejection(jwt.ErrTokenNotValidYet).Detail
	detailFuture      = jwt.Rejection(jwt.ErrTokenIssuedInFuture).Detail
	detailSignature   = jwt.Rejection(jwt.ErrTokenSignatureInvalid).Detail
	detailAudience    = jwt.Rejection(jwt.ErrTokenAudience).Detail
	detailIssuer      = jwt.Rejection(jwt.ErrTokenIssuer).Detail
	detailMalformed   = jwt.Rejection(jwt.ErrTokenMalformed).Detail
	detailUnknownKey  = jwt.Rejection(jwt.ErrKeyNotFound).Detail
	detailAlgorithm   = jwt.Rejection(jwt.ErrTokenAlgorithm).Detail
	detailClaims      = jwt.Rejection(jwt.ErrTokenClaims).Detail
	detailHeader      = jwt.Rejection(jwt.ErrTokenUnsupportedHeader).Detail
	detailInvalid     = "Token is invalid"
	detailUnavailable = "Credentials cannot be verified right now"
)

func TestRejections(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	a := newAuth(t, tn, jwt.RemoteOptions{})
	h := routes(a)
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
			detail: detailExpired, wantErr: jwt.ErrTokenExpired, goErr: josejwt.ErrExpired},
		{name: "no expiry", token: mint(t, token{claims: claims(map[string]any{"exp": nil})}),
			detail: detailNoExpiry, wantErr: jwt.ErrTokenNoExpiration},
		{name: "not valid yet", token: mint(t, token{claims: claims(map[string]any{"nbf": now.Add(hour).Unix()})}),
			detail: detailNotValidYet, wantErr: jwt.ErrTokenNotValidYet, goErr: josejwt.ErrNotValidYet},
		{name: "issued in the future", token: mint(t, token{claims: claims(map[string]any{"iat": now.Add(hour).Unix()})}),
			detail: detailFuture, wantErr: jwt.ErrTokenIssuedInFuture, goErr: josejwt.ErrIssuedInTheFuture},
		{name: "signed by another key with the same kid", token: mint(t, token{key: testKeys()[1]}),
			detail: detailSignature, wantErr: jwt.ErrTokenSignatureInvalid, goErr: jose.ErrCryptoFailure},
		{name: "tampered payload", token: tamper(t, mint(t, token{})),
			detail: detailSignature, wantErr: jwt.ErrTokenSignatureInvalid, goErr: jose.ErrCryptoFailure},
		{name: "wrong audience", token: mint(t, token{claims: claims(map[string]any{"aud": "https://other.example.com"})}),
			detail: detailAudience, wantErr: jwt.ErrTokenAudience, goErr: josejwt.ErrInvalidAudience},
		{name: "no audience", token: mint(t, token{claims: claims(map[string]any{"aud": nil})}),
			detail: detailAudience, wantErr: jwt.ErrTokenAudience, goErr: josejwt.ErrInvalidAudience},
		{name: "wrong issuer", token: mint(t, token{claims: claims(map[string]any{"iss": "https://evil.test/"})}),
			detail: detailIssuer, wantErr: jwt.ErrTokenIssuer, goErr: josejwt.ErrInvalidIssuer},
		{name: "issuer without trailing slash", token: mint(t, token{claims: claims(map[string]any{"iss": "https://tenant.test"})}),
			detail: detailIssuer, wantErr: jwt.ErrTokenIssuer, goErr: josejwt.ErrInvalidIssuer},
		{name: "unknown kid", token: mint(t, token{kid: "key-2"}),
			detail: detailUnknownKey, wantErr: jwt.ErrKeyNotFound},
		{name: "no kid", token: mint(t, token{kid: "-"}),
			detail: detailUnknownKey, wantErr: jwt.ErrKeyNotFound},
		{name: "HS256 signed with the public modulus", token: mint(t, token{alg: "HS256", hmacKey: testKeys()[0].N.Bytes()}),
			detail: detailAlgorithm, wantErr: jwt.ErrTokenAlgorithm},
		{name: "alg none", token: mint(t, token{alg: "none"}) + "c2ln",
			detail: detailAlgorithm, wantErr: jwt.ErrTokenAlgorithm},
		{name: "crit header", token: mint(t, token{header: map[string]any{"crit": []string{"exp"}}}),
			detail: detailHeader, wantErr: jwt.ErrTokenUnsupportedHeader},
		{name: "two parts", token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0",
			detail: detailMalformed, wantErr: jwt.ErrTokenMalformed},
		{name: "five parts", token: "a.b.c.d.e",
			detail: detailMalformed, wantErr: jwt.ErrTokenMalformed},
		{name: "empty signature", token: mint(t, token{alg: "none"}),
			detail: detailMalformed, wantErr: jwt.ErrTokenMalformed},
		{name: "header not base64", token: "a.eyJzdWIiOiJ4In0.c2ln",
			detail: detailMalformed, wantErr: jwt.ErrTokenMalformed},
		{name: "header not JSON", token: b64([]byte("not json")) + ".eyJzdWIiOiJ4In0.c2ln",
			detail: detailMalformed, wantErr: jwt.ErrTokenMalformed},
		{name: "payload null", token: mint(t, token{payload: []byte("null")}),
			detail: detailIssuer, wantErr: jwt.ErrTokenIssuer},
		{name: "audience of the wrong type", token: mint(t, token{claims: claims(map[string]any{"aud": 5})}),
			detail: detailClaims, wantErr: jwt.ErrTokenClaims, goErr: josejwt.ErrUnmarshalAudience},
		{name: "duplicate claim", token: mint(t, token{payload: []byte(`{"iss":"https://evil.test/","iss":"` + testIssuer + `"}`)}),
			detail: detailInvalid, wantErr: auth0.ErrInvalidToken},
		{name: "payload not JSON", token: mint(t, token{payload: []byte("{not json")}),
			detail: detailMalformed, wantErr: jwt.ErrTokenMalformed},
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
	h := routes(newAuth(t, tn, jwt.RemoteOptions{}))
	checkProblem(t, serve(t, h, "/me", ""), http.StatusUnauthorized, "Bearer", "Missing credentials")
	if n := tn.fetch.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times for construction and a request without a token; want 1", n)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	h := routes(newAuth(t, tn, jwt.RemoteOptions{}))
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

// TestKeyServerFailures: a tenant whose keys cannot be fetched makes
// NewTenant fail, or, with AllowInitialFailure, makes requests 503 until it
// recovers; never 401.
func TestKeyServerFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mode jwksMode
		down bool // the server is closed: connection refused
		ks   jwt.RemoteOptions
	}{
		{name: "connection refused", down: true},
		{name: "HTTP 500", mode: jwks500},
		{name: "HTTP 503 with a JWKS body", mode: jwks503Keys},
		{name: "not JSON", mode: jwksGarbage},
		{name: "not a JWKS", mode: jwksNotObject},
		{name: "timeout", mode: jwksHang, ks: jwt.RemoteOptions{FetchTimeout: 500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false)
			tn.setMode(tt.mode)
			if tt.down {
				tn.srv.Close()
			}
			a, err := newTenantAuth(tn, tt.ks)
			if a != nil || !errors.Is(err, jwt.ErrKeySetUnavailable) || !errors.Is(err, auth.ErrUnavailable) ||
				!strings.HasPrefix(err.Error(), "auth0: ") {
				t.Fatalf("NewTenant = %v, %v; want an auth0 error matching jwt.ErrKeySetUnavailable", a, err)
			}

			// Allowed to start without keys: 503 until the tenant recovers.
			tt.ks.AllowInitialFailure = true
			tt.ks.UnknownKIDInterval = time.Nanosecond // every request may try again
			a = newAuth(t, tn, tt.ks)
			h := routes(a)
			tok := "Bearer " + mint(t, token{})
			checkProblem(t, serve(t, h, "/reports", tok), http.StatusServiceUnavailable, "", detailUnavailable)

			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", tok)
			_, err = a.Authenticate(req)
			if !errors.Is(err, jwt.ErrKeySetUnavailable) || !errors.Is(err, auth.ErrUnavailable) {
				t.Errorf("Authenticate error %v; want jwt.ErrKeySetUnavailable and auth.ErrUnavailable", err)
			}
			if errors.Is(err, auth.ErrUnauthorized) {
				t.Errorf("Authenticate error %v is an auth.ErrUnauthorized", err)
			}
			if a.KeySet().Loaded() {
				t.Error("KeySet().Loaded() = true before any download succeeded")
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
	h := routes(newAuth(t, tn, jwt.RemoteOptions{}))
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
		big := strings.Repeat(" ", int(jwt.DefaultMaxBodyBytes)) + string(jwksJSON(nil))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length
			}
			_, _ = w.Write([]byte(big))
		}))
		t.Cleanup(srv.Close)
		_, err := auth0.NewTenant(context.Background(), testDomain, testAudience, auth0.WithBaseURL(srv.URL))
		if !errors.Is(err, jwt.ErrBodyTooLarge) || !errors.Is(err, jwt.ErrKeySetUnavailable) {
			t.Errorf("chunked %v: NewTenant error %v; want jwt.ErrBodyTooLarge and jwt.ErrKeySetUnavailable", chunked, err)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	tok := mint(t, token{claims: claims(map[string]any{"exp": time.Now().Add(-30 * time.Second).Unix()})})

	t.Run("clock skew", func(t *testing.T) {
		h := routes(newAuth(t, tn, jwt.RemoteOptions{}, auth0.WithAllowedClockSkew(time.Minute)))
		if rec := serve(t, h, "/me", "Bearer "+tok); rec.Code != http.StatusOK {
			t.Errorf("status = %d; want 200 within the allowed skew", rec.Code)
		}
	})
	t.Run("scheme", func(t *testing.T) {
		a := newAuth(t, tn, jwt.RemoteOptions{}, auth0.WithScheme(auth.Cookie("at")))
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
		h := routes(newAuth(t, tn, jwt.RemoteOptions{}, simple))
		rec := serve(t, h, "/reports", "Bearer "+mint(t, token{claims: claims(map[string]any{"scope": "reports:edit"})}))
		if rec.Code != http.StatusForbidden {
			t.Errorf("status = %d; want 403: the verbatim validator does not imply read from edit", rec.Code)
		}
	})
	t.Run("auth options", func(t *testing.T) {
		h := routes(newAuth(t, tn, jwt.RemoteOptions{}, auth0.WithAuthOptions(auth.WithChallenge("Bearer", "api"))))
		checkProblem(t, serve(t, h, "/me", ""), http.StatusUnauthorized, `Bearer realm="api"`, "Missing credentials")
	})
	t.Run("description", func(t *testing.T) {
		if got := newAuth(t, tn, jwt.RemoteOptions{}).Description(); got.Scheme != "bearer" || got.BearerFormat != "JWT" {
			t.Errorf("Description() = %+v; want bearer JWT", got)
		}
	})
}

func TestNewTenantErrors(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	tests := []struct {
		name, domain, audience string
		opts                   []auth0.TenantOption
		is                     error // errors.Is must hold, when set
	}{
		{name: "empty domain", audience: testAudience},
		{name: "URL as domain", domain: "https://tenant.test/", audience: testAudience},
		{name: "domain with path", domain: "tenant.test/x", audience: testAudience},
		{name: "domain with user", domain: "u@tenant.test", audience: testAudience},
		{name: "empty audience", domain: testDomain},
		{name: "base URL without scheme", domain: testDomain, audience: testAudience, opts: []auth0.TenantOption{auth0.WithBaseURL("tenant.test")}},
		{name: "base URL of another scheme", domain: testDomain, audience: testAudience,
			opts: []auth0.TenantOption{auth0.WithBaseURL("ftp://tenant.test")}, is: jwt.ErrInsecureURL},
		{name: "http base URL to a host that is not loopback", domain: testDomain, audience: testAudience,
			opts: []auth0.TenantOption{auth0.WithBaseURL("http://tenant.test")}, is: jwt.ErrInsecureURL},
		{name: "http base URL to a private address", domain: testDomain, audience: testAudience,
			opts: []auth0.TenantOption{auth0.WithBaseURL("http://10.0.0.1:8080")}, is: jwt.ErrInsecureURL},
		{name: "base URL with query", domain: testDomain, audience: testAudience, opts: []auth0.TenantOption{auth0.WithBaseURL("https://tenant.test/?a=b")}},
		{name: "negative timeout", domain: testDomain, audience: testAudience,
			opts: []auth0.TenantOption{auth0.WithBaseURL(tn.srv.URL), auth0.WithKeySetOptions(jwt.RemoteOptions{FetchTimeout: -time.Second})}},
		{name: "negative unknown kid interval", domain: testDomain, audience: testAudience,
			opts: []auth0.TenantOption{auth0.WithBaseURL(tn.srv.URL), auth0.WithKeySetOptions(jwt.RemoteOptions{UnknownKIDInterval: -time.Second})}},
		{name: "negative clock skew", domain: testDomain, audience: testAudience,
			opts: []auth0.TenantOption{auth0.WithBaseURL(tn.srv.URL), auth0.WithAllowedClockSkew(-time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := auth0.NewTenant(context.Background(), tt.domain, tt.audience, tt.opts...)
			if err == nil || a != nil {
				t.Fatalf("NewTenant(%q, %q) = %v, %v; want an error", tt.domain, tt.audience, a, err)
			}
			if !strings.HasPrefix(err.Error(), "auth0: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v; want errors.Is(err, %v)", err, tt.is)
			}
		})
	}
	if tn.fetch.Load() != 0 {
		t.Errorf("the tenant was asked %d times for its keys by invalid configurations; want 0", tn.fetch.Load())
	}
	a, err := auth0.NewTenant(context.Background(), "tenant.test:8443", testAudience, auth0.WithBaseURL(tn.srv.URL))
	if err != nil {
		t.Fatalf("NewTenant with a port: %v", err)
	}
	_ = a.Close()
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

// TestNewKeyServerDown: with a key func wrapped by KeyFunc, a key server
// failure is a 503. A bare key func's network errors are recognised by
// type; its other errors cannot be told from the token's (the SDK gives
// them no sentinel), so they are a 401 "Token is invalid" whose cause
// reaches the error writer.
func TestNewKeyServerDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		wrap   bool // the key func is wrapped by auth0.KeyFunc
		mode   jwksMode
		down   bool
		status int
	}{
		{name: "KeyFunc, refused", wrap: true, down: true, status: http.StatusServiceUnavailable},
		{name: "KeyFunc, not JSON", wrap: true, mode: jwksGarbage, status: http.StatusServiceUnavailable},
		{name: "KeyFunc, not a JWKS", wrap: true, mode: jwksNotObject, status: http.StatusServiceUnavailable},
		{name: "bare key func, refused", down: true, status: http.StatusServiceUnavailable},
		{name: "bare key func, not JSON", mode: jwksGarbage, status: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false)
			tn.setMode(tt.mode)
			var logged error
			a := auth0.New(validatorFor(t, tn, tt.wrap, validator.WithCustomClaims(auth0.CustomClaims)),
				auth0.WithAuthOptions(auth.WithErrorWriter(func(w http.ResponseWriter, r *http.Request, e *auth.Error) {
					logged = e
					auth.WriteError(w, r, e)
				})))
			if tt.down {
				tn.srv.Close()
			}
			rec := serve(t, routes(a), "/me", "Bearer "+mint(t, token{}))
			if tt.status == http.StatusServiceUnavailable {
				checkProblem(t, rec, http.StatusServiceUnavailable, "", detailUnavailable)
				if !errors.Is(logged, jwt.ErrKeySetUnavailable) {
					t.Errorf("error writer got %v; want jwt.ErrKeySetUnavailable", logged)
				}
				return
			}
			checkProblem(t, rec, http.StatusUnauthorized, invalidToken(detailInvalid), detailInvalid)
			var syntax *json.SyntaxError
			if !errors.Is(logged, auth0.ErrInvalidToken) || !errors.As(logged, &syntax) {
				t.Errorf("error writer got %v; want auth0.ErrInvalidToken and the key func's *json.SyntaxError", logged)
			}
		})
	}
}

// TestNewPanics: New refuses a nil validator, KeyFunc a nil func. Tenant
// options cannot be given to New: they are not Options (a compile error).
func TestNewPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func()
	}{
		{name: "nil validator", call: func() { auth0.New(nil) }},
		{name: "nil SDK validator", call: func() { auth0.New((*validator.Validator)(nil)) }},
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
	for name, o := range map[string]any{
		"WithBaseURL":          auth0.WithBaseURL("https://tenant.test"),
		"WithKeySetOptions":    auth0.WithKeySetOptions(jwt.RemoteOptions{}),
		"WithAllowedClockSkew": auth0.WithAllowedClockSkew(time.Second),
	} {
		if _, ok := o.(auth0.Option); ok {
			t.Errorf("%s is an auth0.Option: New would accept it", name)
		}
	}
	var _ auth0.TenantOption = auth0.WithScheme(auth.Bearer()) // every Option is a TenantOption
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

// TestConcurrentFirstFetch: requests that arrive while no key set has
// loaded share one download rather than each fetching in turn.
func TestConcurrentFirstFetch(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	tn.setMode(jwks500)
	// The background retry waits an hour: only requests download.
	a := newAuth(t, tn, jwt.RemoteOptions{AllowInitialFailure: true, RefreshInterval: time.Hour, MissWait: time.Minute})
	h := routes(a)
	release := tn.hold()
	t.Cleanup(release)
	tn.setMode(jwksOK)
	tok := "Bearer " + mint(t, token{})
	const n = 8
	codes := make(chan int, n)
	for range n {
		go func() { codes <- serve(t, h, "/me", tok).Code }()
	}
	for tn.fetch.Load() < 2 {
		runtime.Gosched() // until the download reached the tenant
	}
	release()
	for range n {
		if code := <-codes; code != http.StatusOK {
			t.Errorf("status = %d; want 200", code)
		}
	}
	if got := tn.fetch.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times for construction and %d concurrent requests; want 2", got, n)
	}
}

// TestRequestGivesUpWaiting checks that a request whose context ends while
// the key server hangs, before any key set has loaded, is answered at once
// with 503.
func TestRequestGivesUpWaiting(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	tn.setMode(jwks500)
	a := newAuth(t, tn, jwt.RemoteOptions{AllowInitialFailure: true, RefreshInterval: time.Hour, MissWait: time.Hour})
	release := tn.hold()
	t.Cleanup(release) // before the tenant closes
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+mint(t, token{}))
	go func() {
		for tn.fetch.Load() < 2 {
			runtime.Gosched()
		}
		cancel()
	}()
	_, err := a.Authenticate(req)
	if !errors.Is(err, jwt.ErrKeySetUnavailable) || auth.StatusOf(err) != http.StatusServiceUnavailable {
		t.Errorf("Authenticate error %v; want a 503 matching jwt.ErrKeySetUnavailable", err)
	}
}

// TestJWKSRedirect: an https key server may redirect to another https one.
func TestJWKSRedirect(t *testing.T) {
	t.Parallel()
	tlsTenant := newTenant(t, true)
	front := httptest.NewTLSServer(http.RedirectHandler(tlsTenant.srv.URL+auth0.JWKSPath, http.StatusFound))
	t.Cleanup(front.Close)
	a, err := auth0.NewTenant(context.Background(), testDomain, testAudience, auth0.WithBaseURL(front.URL),
		auth0.WithKeySetOptions(jwt.RemoteOptions{Client: tlsTenant.srv.Client()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if rec := serve(t, routes(a), "/me", "Bearer "+mint(t, token{})); rec.Code != http.StatusOK {
		t.Errorf("status = %d; want 200 with the JWKS behind an https redirect (body %s)", rec.Code, rec.Body)
	}
}

// TestJWKSRedirectToHTTPIsRefused: a key server cannot hand the fetch to
// plain http, where anyone on the path could swap the keys, even on
// loopback and even from http. The fetch fails rather than trusting what
// http serves.
func TestJWKSRedirectToHTTPIsRefused(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{true, false} {
		tn := newTenant(t, false) // plain http
		redirect := http.RedirectHandler(tn.srv.URL+auth0.JWKSPath, http.StatusFound)
		front := httptest.NewServer(redirect)
		if tls {
			front.Close()
			front = httptest.NewTLSServer(redirect)
		}
		t.Cleanup(front.Close)
		_, err := auth0.NewTenant(context.Background(), testDomain, testAudience, auth0.WithBaseURL(front.URL),
			auth0.WithKeySetOptions(jwt.RemoteOptions{Client: front.Client()}))
		if !errors.Is(err, jwt.ErrInsecureURL) || !errors.Is(err, jwt.ErrKeySetUnavailable) {
			t.Errorf("tls %v: NewTenant error %v; want jwt.ErrInsecureURL and jwt.ErrKeySetUnavailable", tls, err)
		}
		if n := tn.fetch.Load(); n != 0 {
			t.Errorf("tls %v: the http key server was asked %d times; want 0", tls, n)
		}
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
	a, err := auth0.NewTenant(context.Background(), testDomain, testAudience, auth0.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	h := routes(a)
	for range 2 { // the second time from the cache
		rec := serve(t, h, "/me", "Bearer "+mint(t, token{kid: "weak", key: weak}))
		checkProblem(t, rec, http.StatusUnauthorized, invalidToken(detailUnknownKey), detailUnknownKey)
		if rec := serve(t, h, "/me", "Bearer "+mint(t, token{})); rec.Code != http.StatusOK {
			t.Errorf("strong key: status = %d; want 200 (body %s)", rec.Code, rec.Body)
		}
	}
}

// TestEmptyTenantKeySetIsAnOutage: a JWKS without a usable key (an empty
// set, only weak keys) says nothing about the token: it is a key server
// failure, not a set against which tokens are unknown. An object without
// keys is not a JWKS at all.
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
			_, err := auth0.NewTenant(context.Background(), testDomain, testAudience, auth0.WithBaseURL(srv.URL))
			if !errors.Is(err, jwt.ErrKeySetUnavailable) {
				t.Errorf("NewTenant error %v; want jwt.ErrKeySetUnavailable", err)
			}
		})
	}
}
