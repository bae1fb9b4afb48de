package authecho_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/echo"
)

// discard is a ResponseWriter that keeps nothing, so that the benchmarks
// measure routing and authentication rather than a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

type benchUser struct{ ID string }

// BenchmarkEcho compares a plain Echo route with the same route behind this
// package's middleware, its typed handler and echo.WrapMiddleware(a.Guard),
// all with a trivial verifier, so that the difference is the cost of the
// adapter and the auth plumbing.
func BenchmarkEcho(b *testing.B) {
	a := auth.New(auth.Bearer(), func(_ context.Context, raw string) (benchUser, error) {
		return benchUser{ID: raw}, nil
	})
	ok := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	withUser := func(c echo.Context) error {
		if _, found := authecho.From[benchUser](c); !found {
			return echo.ErrInternalServerError
		}
		return c.NoContent(http.StatusOK)
	}
	servers := []struct {
		name  string
		route func(e *echo.Echo)
	}{
		{name: "plain", route: func(e *echo.Echo) { e.GET("/r", ok) }},
		{name: "middleware", route: func(e *echo.Echo) { e.GET("/r", withUser, authecho.Middleware(a)) }},
		{name: "handler", route: func(e *echo.Echo) {
			e.GET("/r", authecho.Handler(a, func(c echo.Context, _ benchUser) error { return c.NoContent(http.StatusOK) }))
		}},
		{name: "wrapmiddleware", route: func(e *echo.Echo) { e.GET("/r", withUser, echo.WrapMiddleware(a.Guard)) }},
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			e := echo.New()
			s.route(e)
			req := httptest.NewRequest("GET", "/r", nil)
			req.Header.Set("Authorization", "Bearer tok-bench")
			w := &discard{h: http.Header{}}
			e.ServeHTTP(w, req)
			b.ReportAllocs()
			for b.Loop() {
				e.ServeHTTP(w, req)
			}
		})
	}
}
