package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/typedauth/auth/examples/internal/demotest"
)

const (
	domain   = "tenant.test"
	audience = "https://api.example.com"
	kid      = "key-1"
)

// fakeTenant serves an RS256 JWKS at /.well-known/jwks.json, as an Auth0
// tenant does, and returns a func minting tokens signed by its key.
func fakeTenant(tb testing.TB) (*httptest.Server, func(claims map[string]any) string) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv, func(claims map[string]any) string {
		tb.Helper()
		now := time.Now()
		c := map[string]any{
			"iss": "https://" + domain + "/", "aud": audience, "sub": "auth0|alice",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}
		for k, v := range claims {
			c[k] = v
		}
		header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
		payload, err := json.Marshal(c)
		if err != nil {
			tb.Fatal(err)
		}
		input := b64(header) + "." + b64(payload)
		sum := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
		if err != nil {
			tb.Fatal(err)
		}
		return input + "." + b64(sig)
	}
}

func TestServer(t *testing.T) {
	t.Parallel()
	tenant, mint := fakeTenant(t)
	base, _ := demotest.Start(t, run, map[string]string{
		"AUTH0_DOMAIN":   domain,
		"AUTH0_AUDIENCE": audience,
		"AUTH0_BASE_URL": tenant.URL,
		"ADDR":           "127.0.0.1:0",
	})
	const reports = `{"for":"auth0|alice","reports":["2026-q1","2026-q2"]}`
	tests := []struct {
		name, path, token string
		want              demotest.Want
	}{
		{name: "me", path: "/me", token: mint(map[string]any{"scope": "openid profile"}),
			want: demotest.Want{Status: http.StatusOK, Body: `{"scopes":["openid","profile"],"sub":"auth0|alice"}`}},
		{name: "reports by scope", path: "/reports", token: mint(map[string]any{"scope": "reports:read"}),
			want: demotest.Want{Status: http.StatusOK, Body: reports}},
		{name: "reports by permission", path: "/reports", token: mint(map[string]any{"permissions": []string{"reports:read"}}),
			want: demotest.Want{Status: http.StatusOK, Body: reports}},
		{name: "reports without the scope", path: "/reports", token: mint(map[string]any{"scope": "openid"}),
			want: demotest.Want{Status: http.StatusForbidden, Detail: "Token is missing required scope: reports:read",
				Challenge: `Bearer error="insufficient_scope", scope="reports:read"`}},
		{name: "no token", path: "/me",
			want: demotest.Want{Status: http.StatusUnauthorized, Detail: "Missing credentials", Challenge: "Bearer"}},
		{name: "expired", path: "/me", token: mint(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}),
			want: demotest.Want{Status: http.StatusUnauthorized, Detail: "Token has expired",
				Challenge: `Bearer error="invalid_token", error_description="Token has expired"`}},
		{name: "other audience", path: "/reports", token: mint(map[string]any{"aud": "https://other.example.com"}),
			want: demotest.Want{Status: http.StatusUnauthorized, Detail: "Token audience is not accepted",
				Challenge: `Bearer error="invalid_token", error_description="Token audience is not accepted"`}},
		{name: "malformed", path: "/me", token: "not-a-jwt",
			want: demotest.Want{Status: http.StatusUnauthorized, Detail: "Token is malformed",
				Challenge: `Bearer error="invalid_token", error_description="Token is malformed"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			demotest.Check(t, demotest.Do(t, demotest.Request{URL: base + tt.path, Token: tt.token}), tt.want)
		})
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	tenant, _ := fakeTenant(t)
	down, _ := fakeTenant(t)
	down.Close()
	valid := map[string]string{"AUTH0_DOMAIN": domain, "AUTH0_AUDIENCE": audience, "AUTH0_BASE_URL": tenant.URL, "ADDR": "127.0.0.1:0"}
	tests := []demotest.BadConfig{
		{Name: "no domain", Env: map[string]string{"AUTH0_DOMAIN": ""}, WantErr: "AUTH0_DOMAIN is not set"},
		{Name: "no audience", Env: map[string]string{"AUTH0_AUDIENCE": ""}, WantErr: "AUTH0_AUDIENCE is not set"},
		{Name: "domain is a URL", Env: map[string]string{"AUTH0_DOMAIN": "https://tenant.test/"}, WantErr: "is not a host name"},
		{Name: "bad base URL", Env: map[string]string{"AUTH0_BASE_URL": "tenant.test"}, WantErr: "WithBaseURL"},
		{Name: "http base URL off loopback", Env: map[string]string{"AUTH0_BASE_URL": "http://tenant.test"}, WantErr: "URL is not https"},
		// The tenant's keys cannot be downloaded at start-up.
		{Name: "tenant down", Env: map[string]string{"AUTH0_BASE_URL": down.URL}, WantErr: "the tenant's signing keys"},
		{Name: "bad address", Env: map[string]string{"ADDR": "127.0.0.1:notaport"}, WantErr: "listening on ADDR"},
	}
	// Each case changes one variable of a valid configuration.
	for i, tt := range tests {
		env := maps.Clone(valid)
		maps.Copy(env, tt.Env)
		tests[i].Env = env
	}
	demotest.RunBadConfig(t, run, tests)
}

// TestMainExit runs the program itself with a bad configuration: it must
// exit with status 1 and one line on stderr.
func TestMainExit(t *testing.T) {
	t.Parallel()
	demotest.MainExit(t, main, []string{"AUTH0_DOMAIN=", "AUTH0_AUDIENCE="}, "auth0: AUTH0_DOMAIN is not set")
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	t.Parallel()
	tenant, _ := fakeTenant(t)
	demotest.MainSignal(t, main, []string{"AUTH0_DOMAIN=" + domain, "AUTH0_AUDIENCE=" + audience,
		"AUTH0_BASE_URL=" + tenant.URL, "ADDR=127.0.0.1:0"})
}
