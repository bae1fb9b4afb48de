package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

// nopWriter is a ResponseWriter that keeps nothing, so that benchmarks
// measure the guard and not a recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// benchGranted returns 32 granted scopes as a "scope" claim and as an "scp"
// array; the required scopes of benchRequired are granted by the last ones.
func benchClaims() (scope, scp auth.Claims) {
	var g []string
	for i := range 16 {
		g = append(g, fmt.Sprintf("service%02d:read", i))
	}
	for i := range 16 {
		g = append(g, fmt.Sprintf("resource%02d:edit", i))
	}
	anys := make([]any, len(g))
	for i, s := range g {
		anys[i] = s
	}
	return auth.Claims{"sub": "bench", "scope": strings.Join(g, " ")}, auth.Claims{"sub": "bench", "scp": anys}
}

func benchRequired(n int) []string {
	r := make([]string, n)
	for i := range r {
		r[i] = fmt.Sprintf("resource%02d:read", 15-i)
	}
	return r
}

// trivialAuth accepts one token and returns the given claims, prebuilt.
func trivialAuth(c auth.Claims) *auth.ScopedAuth[auth.Claims] {
	return auth.NewScoped(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
		if raw != "bench-token" {
			return nil, auth.ErrInvalidCredential
		}
		return c, nil
	}, nil)
}

// runHandler serves one reused request with h until b.Loop ends.
func runHandler(b *testing.B, h http.Handler) {
	b.Helper()
	r, err := http.NewRequest(http.MethodGet, "/", nil)
	if err != nil {
		b.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer bench-token")
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func BenchmarkBaseline(b *testing.B) {
	runHandler(b, noop)
}

func BenchmarkGuard(b *testing.B) {
	scope, _ := benchClaims()
	runHandler(b, trivialAuth(scope).Guard(noop))
}

func BenchmarkRequires(b *testing.B) {
	scope, scp := benchClaims()
	for _, claims := range []struct {
		name string
		c    auth.Claims
	}{{name: "scope", c: scope}, {name: "scp", c: scp}} {
		for _, n := range []int{0, 1, 4, 16} {
			b.Run(fmt.Sprintf("%s/required=%d", claims.name, n), func(b *testing.B) {
				runHandler(b, trivialAuth(claims.c).Requires(benchRequired(n)...).Guard(noop))
			})
		}
	}
}

func BenchmarkThen(b *testing.B) {
	scope, _ := benchClaims()
	u := auth.Then(trivialAuth(scope).Requires("resource15:read"), func(_ context.Context, c auth.Claims) (User, error) {
		return User{ID: "bench"}, nil
	})
	runHandler(b, u.Guard(noop))
}

func BenchmarkRejected(b *testing.B) {
	scope, _ := benchClaims()
	h := trivialAuth(scope).Guard(noop)
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer wrong")
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&nopWriter{h: http.Header{}}, r)
	}
}

// TestScopeCheckAllocatesNothing proves that Requires adds no allocation to
// the Guard path, whatever the number of required scopes and the form of the
// granted ones. It counts allocations; it does not time anything.
func TestScopeCheckAllocatesNothing(t *testing.T) {
	scope, scp := benchClaims()
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer bench-token")
	w := &nopWriter{h: http.Header{}}
	allocs := func(h http.Handler) float64 {
		return testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) })
	}
	for _, claims := range []auth.Claims{scope, scp} {
		a := trivialAuth(claims)
		plain := allocs(a.Guard(noop))
		for _, n := range []int{1, 4, 16} {
			h := a.Requires(benchRequired(n)...).Guard(noop)
			if got := allocs(h); got != plain {
				t.Errorf("Requires(%d scopes) Guard allocates %v per request; the plain Guard %v", n, got, plain)
			}
		}
		if plain > 2 {
			t.Errorf("Guard allocates %v per request; want at most 2 (the request copy and its context)", plain)
		}
	}
}

// BenchmarkErrorPath measures the rejected requests that reach the error
// writer: the copy of the error it receives is on this path only.
func BenchmarkErrorPath(b *testing.B) {
	scope, _ := benchClaims()
	compiled := trivialAuth(scope)
	each := auth.NewScoped(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
		return scope, nil
	}, nil, auth.WithScopeValidator(scopes.Func(func(required string, granted scopes.Set) bool {
		return granted.Contains(required)
	})))
	required := []string{"resource15:read", "internal:audit"} // the second is not granted
	for _, c := range []struct {
		name, header string
		h            http.Handler
	}{
		{name: "missing", h: compiled.Guard(noop)},
		{name: "invalid", header: "Bearer wrong", h: compiled.Guard(noop)},
		{name: "scope/compiled", header: "Bearer bench-token", h: compiled.Requires(required...).Guard(noop)},
		{name: "scope/func", header: "Bearer bench-token", h: each.Requires(required...).Guard(noop)},
	} {
		b.Run(c.name, func(b *testing.B) {
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			if c.header != "" {
				r.Header.Set("Authorization", c.header)
			}
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, r)
			}
		})
	}
}
