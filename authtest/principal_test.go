package authtest_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/authtest"
	"github.com/typedauth/auth/scopes"
)

type user struct {
	ID     string
	Scopes string
}

// me is a handler under test: it reads its principal from the context.
func me(w http.ResponseWriter, r *http.Request) {
	u, ok := auth.From[user](r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte("hello " + u.ID))
}

func TestWithPrincipal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantBody   string
	}{
		{
			name: "principal given",
			req: func() *http.Request {
				return authtest.WithPrincipal(httptest.NewRequest("GET", "/me", nil), user{ID: "alice"})
			},
			wantStatus: 200,
			wantBody:   "hello alice",
		},
		{
			name:       "no principal",
			req:        func() *http.Request { return httptest.NewRequest("GET", "/me", nil) },
			wantStatus: 500,
			wantBody:   "no principal\n",
		},
		{
			name: "principal of another type",
			req: func() *http.Request {
				return authtest.WithPrincipal(httptest.NewRequest("GET", "/me", nil), auth.Claims{"sub": "alice"})
			},
			wantStatus: 500,
			wantBody:   "no principal\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			http.HandlerFunc(me).ServeHTTP(w, tt.req())
			if w.Code != tt.wantStatus || w.Body.String() != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body.String(), tt.wantStatus, tt.wantBody)
			}
		})
	}

	// The original request is left alone.
	r := httptest.NewRequest("GET", "/me", nil)
	_ = authtest.WithPrincipal(r, user{ID: "alice"})
	if _, ok := auth.From[user](r.Context()); ok {
		t.Error("WithPrincipal modified the original request")
	}
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	a := authtest.Verifier(map[string]user{"alice-token": {ID: "alice"}, "bob-token": {ID: "bob"}})
	srv := httptest.NewServer(a.Guard(http.HandlerFunc(me)))
	t.Cleanup(srv.Close)
	tests := []struct {
		name       string
		token      string
		wantStatus int
		wantBody   string
		wantError  string
	}{
		{name: "alice", token: "alice-token", wantStatus: 200, wantBody: "hello alice"},
		{name: "bob", token: "bob-token", wantStatus: 200, wantBody: "hello bob"},
		{name: "unknown", token: "carol-token", wantStatus: 401, wantError: `error="invalid_token"`},
		{name: "prefix of a known token", token: "alice", wantStatus: 401, wantError: `error="invalid_token"`},
		{name: "missing", token: "", wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, srv.URL, tt.token)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", res.status, tt.wantStatus, res.body)
			}
			if tt.wantStatus == 200 {
				if res.body != tt.wantBody {
					t.Errorf("body = %q, want %q", res.body, tt.wantBody)
				}
				return
			}
			if tt.wantError == "" && res.challenge != "Bearer" {
				t.Errorf("WWW-Authenticate = %q, want a bare Bearer challenge", res.challenge)
			}
			if !strings.Contains(res.challenge, tt.wantError) {
				t.Errorf("WWW-Authenticate = %q, want %s", res.challenge, tt.wantError)
			}
			if res.ctype != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", res.ctype)
			}
		})
	}

	// The verifier's error is a 401 category error.
	_, err := a.Authenticate(func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer nope")
		return r
	}())
	if !errors.Is(err, auth.ErrInvalidCredential) {
		t.Errorf("Authenticate(unknown token) = %v, want %v", err, auth.ErrInvalidCredential)
	}
}

func TestScopedVerifier(t *testing.T) {
	t.Parallel()
	claims := authtest.ScopedVerifier(map[string]auth.Claims{
		"reader": {"sub": "alice", "scope": "reports:read"},
		"editor": {"sub": "bob", "scope": "reports:edit"},
		"nobody": {"sub": "carol"},
	}, nil)
	users := authtest.ScopedVerifier(map[string]user{
		"reader": {ID: "alice", Scopes: "reports:read"},
		"nobody": {ID: "carol"},
	}, func(u user) scopes.Set { return scopes.Parse(u.Scopes) })

	mux := http.NewServeMux()
	mux.Handle("GET /claims", claims.Requires("reports:read").Guard(subject))
	mux.Handle("GET /users", users.Requires("reports:read").Guard(http.HandlerFunc(me)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tests := []struct {
		name       string
		path       string
		token      string
		wantStatus int
		wantBody   string
	}{
		{name: "claims reader", path: "/claims", token: "reader", wantStatus: 200, wantBody: "alice"},
		{name: "claims editor (edit implies read)", path: "/claims", token: "editor", wantStatus: 200, wantBody: "bob"},
		{name: "claims without scope", path: "/claims", token: "nobody", wantStatus: 403},
		{name: "claims unknown", path: "/claims", token: "other", wantStatus: 401},
		{name: "users reader", path: "/users", token: "reader", wantStatus: 200, wantBody: "hello alice"},
		{name: "users without scope", path: "/users", token: "nobody", wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, srv.URL+tt.path, tt.token)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", res.status, tt.wantStatus, res.body)
			}
			if tt.wantStatus == 200 && res.body != tt.wantBody {
				t.Errorf("body = %q, want %q", res.body, tt.wantBody)
			}
			if tt.wantStatus == 403 && !strings.Contains(res.challenge, `error="insufficient_scope"`) {
				t.Errorf("WWW-Authenticate = %q, want insufficient_scope", res.challenge)
			}
		})
	}
}

func TestVerifierPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    func()
	}{
		{name: "empty token", f: func() { authtest.Verifier(map[string]user{"": {ID: "x"}}) }},
		{name: "no scope reader", f: func() { authtest.ScopedVerifier(map[string]user{"t": {ID: "x"}}, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f()
		})
	}
}
