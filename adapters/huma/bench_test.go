package authhuma_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/huma"
)

// discard is a ResponseWriter that keeps nothing, so that the benchmarks
// measure routing and authentication rather than a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

type benchUser struct{ ID string }

// BenchmarkHuma compares a plain huma operation with the same operation
// behind this package's middleware (reading the principal from the context),
// its typed Register, and the middleware on a context that hides humago's
// request (the path of routers not built on net/http), all with a trivial
// verifier, so that the difference is the cost of the adapter and the auth
// plumbing.
func BenchmarkHuma(b *testing.B) {
	a := auth.New(auth.Bearer(), func(_ context.Context, raw string) (benchUser, error) {
		return benchUser{ID: raw}, nil
	})
	op := huma.Operation{OperationID: "r", Method: http.MethodGet, Path: "/r"}
	withUser := func(ctx context.Context, _ *struct{}) (*struct{}, error) {
		if _, ok := auth.From[benchUser](ctx); !ok {
			return nil, huma.Error500InternalServerError("no principal")
		}
		return nil, nil
	}
	servers := []struct {
		name     string
		register func(api huma.API)
	}{
		{name: "plain", register: func(api huma.API) {
			huma.Register(api, op, func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
		}},
		{name: "operation", register: func(api huma.API) { huma.Register(api, authhuma.Operation(api, a, op), withUser) }},
		{name: "register", register: func(api huma.API) {
			authhuma.Register(api, op, a, func(context.Context, benchUser, *struct{}) (*struct{}, error) { return nil, nil })
		}},
		{name: "opaque context", register: func(api huma.API) {
			api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) { next(hidden{ctx}) })
			huma.Register(api, authhuma.Operation(api, a, op), withUser)
		}},
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			mux := http.NewServeMux()
			api := humago.New(mux, huma.DefaultConfig("Bench", "1.0.0"))
			s.register(api)
			req := httptest.NewRequest("GET", "/r", nil)
			req.Header.Set("Authorization", "Bearer tok-bench")
			w := &discard{h: http.Header{}}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusNoContent {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				mux.ServeHTTP(w, req)
			}
		})
	}
}
