package authgin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/gin"
)

// discard is a ResponseWriter that keeps nothing, so that the benchmarks
// measure routing and authentication rather than a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

type benchUser struct{ ID string }

// BenchmarkGin compares a plain Gin route with the same route behind this
// package's middleware and its typed handler, with a trivial verifier, so
// that the difference is the cost of the adapter and the auth plumbing.
func BenchmarkGin(b *testing.B) {
	a := auth.New(auth.Bearer(), func(_ context.Context, raw string) (benchUser, error) {
		return benchUser{ID: raw}, nil
	})
	ok := func(c *gin.Context) { c.Status(http.StatusOK) }
	withUser := func(c *gin.Context) {
		if _, found := authgin.From[benchUser](c); !found {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Status(http.StatusOK)
	}
	servers := []struct {
		name  string
		route func(r *gin.Engine)
	}{
		{name: "plain", route: func(r *gin.Engine) { r.GET("/r", ok) }},
		{name: "middleware", route: func(r *gin.Engine) { r.GET("/r", authgin.Middleware(a), withUser) }},
		{name: "handler", route: func(r *gin.Engine) {
			r.GET("/r", authgin.Handler(a, func(c *gin.Context, _ benchUser) { c.Status(http.StatusOK) }))
		}},
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			r := gin.New()
			s.route(r)
			req := httptest.NewRequest("GET", "/r", nil)
			req.Header.Set("Authorization", "Bearer tok-bench")
			w := &discard{h: http.Header{}}
			r.ServeHTTP(w, req)
			b.ReportAllocs()
			for b.Loop() {
				r.ServeHTTP(w, req)
			}
		})
	}
}
