package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
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

// lines is an io.Writer that hands each line written to a channel.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(strings.NewReader(string(p)))
	for sc.Scan() {
		l <- sc.Text()
	}
	return len(p), nil
}

// start runs the program with env on a random loopback port and returns its
// base URL. The program is stopped, and its error checked, at cleanup.
func start(tb testing.TB, env map[string]string) string {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(lines, 4)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, func(k string) string { return env[k] }, out) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			tb.Errorf("run returned %v after shutdown; want nil", err)
		}
	})
	select {
	case line := <-out:
		base, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			tb.Fatalf("first line %q; want listening on …", line)
		}
		return base
	case err := <-errc:
		tb.Fatalf("run: %v", err)
	}
	return ""
}

func TestServer(t *testing.T) {
	t.Parallel()
	tenant, mint := fakeTenant(t)
	base := start(t, map[string]string{
		"AUTH0_DOMAIN":   domain,
		"AUTH0_AUDIENCE": audience,
		"AUTH0_BASE_URL": tenant.URL,
		"ADDR":           "127.0.0.1:0",
	})
	tests := []struct {
		name, path, token string
		wantStatus        int
		wantBody          string // a substring of the body
		wantChallenge     string
	}{
		{name: "me", path: "/me", token: mint(map[string]any{"scope": "openid profile"}),
			wantStatus: http.StatusOK, wantBody: `{"scopes":["openid","profile"],"sub":"auth0|alice"}`},
		{name: "reports by scope", path: "/reports", token: mint(map[string]any{"scope": "reports:read"}),
			wantStatus: http.StatusOK, wantBody: `"for":"auth0|alice"`},
		{name: "reports by permission", path: "/reports", token: mint(map[string]any{"permissions": []string{"reports:read"}}),
			wantStatus: http.StatusOK, wantBody: `"reports":["2026-q1","2026-q2"]`},
		{name: "reports without the scope", path: "/reports", token: mint(map[string]any{"scope": "openid"}),
			wantStatus: http.StatusForbidden, wantBody: `"detail":"Token is missing required scope: reports:read"`,
			wantChallenge: `Bearer error="insufficient_scope", scope="reports:read"`},
		{name: "no token", path: "/me",
			wantStatus: http.StatusUnauthorized, wantBody: `"detail":"Missing credentials"`, wantChallenge: "Bearer"},
		{name: "expired", path: "/me", token: mint(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}),
			wantStatus: http.StatusUnauthorized, wantBody: `"detail":"Token has expired"`,
			wantChallenge: `Bearer error="invalid_token", error_description="Token has expired"`},
		{name: "other audience", path: "/reports", token: mint(map[string]any{"aud": "https://other.example.com"}),
			wantStatus: http.StatusUnauthorized, wantBody: `"detail":"Token audience is not accepted"`,
			wantChallenge: `Bearer error="invalid_token", error_description="Token audience is not accepted"`},
		{name: "malformed", path: "/me", token: "not-a-jwt",
			wantStatus: http.StatusUnauthorized, wantBody: `"detail":"Token is malformed"`,
			wantChallenge: `Bearer error="invalid_token", error_description="Token is malformed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d; want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body = %s; want it to contain %s", body, tt.wantBody)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q; want %q", got, tt.wantChallenge)
			}
		})
	}
}

func TestKeyServerDown(t *testing.T) {
	t.Parallel()
	tenant, mint := fakeTenant(t)
	tenant.Close()
	base := start(t, map[string]string{
		"AUTH0_DOMAIN": domain, "AUTH0_AUDIENCE": audience, "AUTH0_BASE_URL": tenant.URL, "ADDR": "127.0.0.1:0",
	})
	req, _ := http.NewRequest(http.MethodGet, base+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+mint(nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d; want 503 when the tenant's keys cannot be fetched", resp.StatusCode)
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	valid := map[string]string{"AUTH0_DOMAIN": domain, "AUTH0_AUDIENCE": audience, "ADDR": "127.0.0.1:0"}
	tests := []struct {
		name    string
		set     map[string]string
		wantErr string
	}{
		{name: "no domain", set: map[string]string{"AUTH0_DOMAIN": ""}, wantErr: "AUTH0_DOMAIN is not set"},
		{name: "no audience", set: map[string]string{"AUTH0_AUDIENCE": ""}, wantErr: "AUTH0_AUDIENCE is not set"},
		{name: "domain is a URL", set: map[string]string{"AUTH0_DOMAIN": "https://tenant.test/"}, wantErr: "is not a host name"},
		{name: "bad base URL", set: map[string]string{"AUTH0_BASE_URL": "tenant.test"}, wantErr: "WithBaseURL"},
		{name: "bad address", set: map[string]string{"ADDR": "127.0.0.1:notaport"}, wantErr: "listening on ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range valid {
				env[k] = v
			}
			for k, v := range tt.set {
				env[k] = v
			}
			err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v; want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
}

// TestMainExit runs the program itself with a bad configuration: it must
// exit with status 1 and one line on stderr.
func TestMainExit(t *testing.T) {
	if os.Getenv("AUTH0_EXAMPLE_RUN_MAIN") == "1" {
		main()
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainExit$")
	cmd.Env = append(os.Environ(), "AUTH0_EXAMPLE_RUN_MAIN=1", "AUTH0_DOMAIN=", "AUTH0_AUDIENCE=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v; want status 1", err)
	}
	got := stderr.String()
	if want := "auth0: AUTH0_DOMAIN is not set"; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q; want one line starting %q", got, want)
	}
}
