package authhuma_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/huma"
	"github.com/typedauth/auth/internal/conformance"
)

type ctxKey struct{}

type whoOutput struct {
	Body struct {
		Who   string `json:"who"`
		Trace string `json:"trace"`
	}
}

// Each test runs on both ways of reading the request: humago's own
// *http.Request, and one made from an opaque huma.Context.
func forBothPaths(t *testing.T, f func(t *testing.T, api huma.API, mux *http.ServeMux)) {
	for _, opaque := range []bool{false, true} {
		name := "request"
		if opaque {
			name = "opaque context"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mux := http.NewServeMux()
			api := humago.New(mux, huma.DefaultConfig("Test", "1.0.0"))
			// An earlier middleware puts a value in the context, which
			// the handler must still see after authentication.
			api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
				ctx = huma.WithValue(ctx, ctxKey{}, "trace-1")
				if opaque {
					ctx = hidden{ctx}
				}
				next(ctx)
			})
			f(t, api, mux)
		})
	}
}

func serve(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestContextAndSchemes(t *testing.T) {
	t.Parallel()
	verify := func(_ context.Context, raw string) (string, error) {
		if !strings.HasPrefix(raw, "good-") {
			return "", auth.ErrInvalidCredential
		}
		return strings.TrimPrefix(raw, "good-"), nil
	}
	forBothPaths(t, func(t *testing.T, api huma.API, mux *http.ServeMux) {
		handler := func(ctx context.Context, who string, _ *struct{}) (*whoOutput, error) {
			out := &whoOutput{}
			out.Body.Who = who
			out.Body.Trace, _ = ctx.Value(ctxKey{}).(string)
			return out, nil
		}
		authhuma.Register(api, get("query", "/query"), auth.New(auth.Query("access_token"), verify), handler)
		authhuma.Register(api, get("cookie", "/cookie"), auth.New(auth.Cookie("session"), verify), handler)
		authhuma.Register(api, get("header", "/header"), auth.New(auth.Header("X-Token"), verify), handler)
		tests := []struct {
			name, target string
			header       http.Header
			wantStatus   int
			wantBody     string
		}{
			{name: "query", target: "/query?x=1&access_token=good-ann", wantStatus: 200, wantBody: `"who":"ann","trace":"trace-1"`},
			{name: "query twice", target: "/query?access_token=good-ann&access_token=good-bob", wantStatus: 400, wantBody: "More than one access_token query parameter"},
			{name: "query missing", target: "/query", wantStatus: 401, wantBody: "Missing credentials"},
			{name: "cookie", target: "/cookie", header: http.Header{"Cookie": {"a=b; session=good-cy"}}, wantStatus: 200, wantBody: `"who":"cy"`},
			{name: "cookie in two headers", target: "/cookie", header: http.Header{"Cookie": {"session=good-cy", "session=good-dee"}}, wantStatus: 400, wantBody: "More than one session cookie"},
			{name: "header", target: "/header", header: http.Header{"X-Token": {"good-eve"}}, wantStatus: 200, wantBody: `"who":"eve"`},
			{name: "header bad", target: "/header", header: http.Header{"X-Token": {"bad"}}, wantStatus: 401, wantBody: "Invalid credentials"},
		}
		for _, tt := range tests {
			rec := serve(t, mux, "GET", tt.target, tt.header)
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("%s: %d %s; want %d containing %q", tt.name, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
		}
	})
}

// A rejection stops the chain: neither the middleware after this package's
// nor the handler runs, and middleware before it sees the status through
// the huma context.
func TestRejectionStopsChain(t *testing.T) {
	t.Parallel()
	forBothPaths(t, func(t *testing.T, api huma.API, mux *http.ServeMux) {
		var after, handled atomic.Int32
		var seen atomic.Int64
		api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
			next(ctx)
			seen.Store(int64(ctx.Status()))
		})
		op := authhuma.Operation(api, conformance.Tokens().Requires("x:read"), get("x", "/x"))
		op.Middlewares = append(op.Middlewares, func(ctx huma.Context, next func(huma.Context)) { after.Add(1); next(ctx) })
		huma.Register(api, op, func(context.Context, *struct{}) (*struct{}, error) { handled.Add(1); return nil, nil })

		for _, tt := range []struct {
			authorization string
			want          int
			wantCalls     int32
		}{
			{authorization: "", want: 401},
			{authorization: "Bearer a b", want: 400},
			{authorization: "Bearer tok-ann", want: 403},
			{authorization: "Bearer tok-ann.x_read", want: 204, wantCalls: 1},
		} {
			after.Store(0)
			handled.Store(0)
			rec := conformance.Serve(t, mux, "GET", "/x", tt.authorization)
			if rec.Code != tt.want {
				t.Errorf("%q: status %d; want %d", tt.authorization, rec.Code, tt.want)
			}
			if got := seen.Load(); got != int64(tt.want) {
				t.Errorf("%q: huma context status %d; want %d", tt.authorization, got, tt.want)
			}
			if after.Load() != tt.wantCalls || handled.Load() != tt.wantCalls {
				t.Errorf("%q: later middleware ran %d times, handler %d; want %d", tt.authorization, after.Load(), handled.Load(), tt.wantCalls)
			}
			if tt.want >= 400 {
				ref := conformance.Serve(t, conformance.Tokens().Requires("x:read").Guard(http.NotFoundHandler()), "GET", "/", tt.authorization)
				if rec.Body.String() != ref.Body.String() || strings.Join(rec.Header().Values("WWW-Authenticate"), "|") != strings.Join(ref.Header().Values("WWW-Authenticate"), "|") {
					t.Errorf("%q: %s %q; net/http answers %s %q", tt.authorization, rec.Body, rec.Header().Values("WWW-Authenticate"), ref.Body, ref.Header().Values("WWW-Authenticate"))
				}
			}
		}
	})
}

// An error writer of the user's writes the rejection, header lines and all,
// even one that never calls WriteHeader.
func TestErrorWriter(t *testing.T) {
	t.Parallel()
	forBothPaths(t, func(t *testing.T, api huma.API, mux *http.ServeMux) {
		verify := func(context.Context, string) (string, error) { return "", auth.ErrInvalidCredential }
		teapot := auth.New(auth.Bearer(), verify, auth.WithErrorWriter(func(w http.ResponseWriter, _ *http.Request, e *auth.Error) {
			w.Header().Add("X-Reason", "one")
			w.Header().Add("X-Reason", "two")
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte("status " + http.StatusText(e.Status)))
		}))
		plain := auth.New(auth.Bearer(), verify, auth.WithErrorWriter(func(w http.ResponseWriter, _ *http.Request, _ *auth.Error) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("no status"))
		}))
		huma.Register(api, authhuma.Operation(api, teapot, get("teapot", "/teapot")), func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
		huma.Register(api, authhuma.Operation(api, plain, get("plain", "/plain")), func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })

		rec := serve(t, mux, "GET", "/teapot", nil)
		if rec.Code != http.StatusTeapot || rec.Body.String() != "status Unauthorized" || strings.Join(rec.Header().Values("X-Reason"), ",") != "one,two" {
			t.Errorf("teapot: %d %q %v", rec.Code, rec.Body, rec.Header())
		}
		rec = serve(t, mux, "GET", "/plain", nil)
		if rec.Code != http.StatusOK || rec.Body.String() != "no status" || rec.Header().Get("Content-Type") != "text/plain" {
			t.Errorf("plain: %d %q %v", rec.Code, rec.Body, rec.Header())
		}
	})
}

// Errors that a handler returns are huma's, as usual.
func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Errors", "1.0.0"))
	authhuma.Register(api, get("gone", "/gone"), conformance.Tokens(), func(_ context.Context, c auth.Claims, _ *struct{}) (*struct{}, error) {
		return nil, huma.Error404NotFound("nothing for " + c["sub"].(string))
	})
	rec := conformance.Serve(t, mux, "GET", "/gone", "Bearer tok-zoe")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "nothing for zoe") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// The optional middleware lets an anonymous request through and rejects a
// bad credential; an outer principal of the same type is hidden.
func TestOptionalMiddleware(t *testing.T) {
	t.Parallel()
	forBothPaths(t, func(t *testing.T, api huma.API, mux *http.ServeMux) {
		tokens := conformance.Tokens()
		api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
			next(huma.WithContext(ctx, auth.NewContext(ctx.Context(), auth.Claims{"sub": "gateway"})))
		})
		huma.Register(api, huma.Operation{OperationID: "feed", Method: http.MethodGet, Path: "/feed", Middlewares: huma.Middlewares{authhuma.Optional(tokens)}},
			func(ctx context.Context, _ *struct{}) (*whoOutput, error) {
				out := &whoOutput{}
				if c, ok := auth.From[auth.Claims](ctx); ok {
					out.Body.Who = c["sub"].(string)
				} else {
					out.Body.Who = "anonymous"
				}
				return out, nil
			})
		for _, tt := range []struct{ authorization, want string }{
			{authorization: "", want: `"who":"anonymous"`},
			{authorization: "Bearer tok-ann", want: `"who":"ann"`},
			{authorization: "Bearer nope", want: `"status":401`},
		} {
			rec := conformance.Serve(t, mux, "GET", "/feed", tt.authorization)
			if !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("%q: %d %s; want %s", tt.authorization, rec.Code, rec.Body, tt.want)
			}
		}
	})
}
