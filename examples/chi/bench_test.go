package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/typedauth/auth"
)

// discard is a ResponseWriter that keeps nothing, so that the benchmarks
// measure routing and authentication rather than a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

type benchUser struct{ ID string }

// BenchmarkChi compares a plain chi route with the same route behind
// Auth.Guard (attached with r.With) and Auth.Handler, with a trivial
// verifier, so that the difference is the cost of the auth plumbing.
func BenchmarkChi(b *testing.B) {
	a := auth.New(auth.Bearer(), func(_ context.Context, raw string) (benchUser, error) {
		return benchUser{ID: raw}, nil
	})
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }
	withUser := func(w http.ResponseWriter, r *http.Request) {
		if _, found := auth.From[benchUser](r.Context()); !found {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
	servers := []struct {
		name  string
		route func(r chi.Router)
	}{
		{name: "plain", route: func(r chi.Router) { r.Get("/r", ok) }},
		{name: "guard", route: func(r chi.Router) { r.With(a.Guard).Get("/r", withUser) }},
		{name: "handler", route: func(r chi.Router) {
			r.Method("GET", "/r", a.Handler(func(w http.ResponseWriter, r *http.Request, _ benchUser) { w.WriteHeader(http.StatusOK) }))
		}},
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			r := chi.NewRouter()
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
