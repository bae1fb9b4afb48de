package main

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/internal/conformance"
)

// newServer builds the conformance routes with chi and the library's own
// middleware, as adapters/README.md describes.
func newServer(s *conformance.Stack) http.Handler {
	r := chi.NewRouter()
	r.Get("/public", func(w http.ResponseWriter, r *http.Request) {
		conformance.Write(w, http.StatusOK, conformance.ReplyPublic())
	})
	r.With(s.Users.Guard).Get("/me", func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.From[conformance.User](r.Context())
		if !ok {
			conformance.Write(w, http.StatusInternalServerError, conformance.NoPrincipal)
			return
		}
		conformance.Write(w, http.StatusOK, conformance.ReplyMe(u))
	})
	r.Method("GET", "/typed", s.Users.Handler(func(w http.ResponseWriter, r *http.Request, u conformance.User) {
		conformance.Write(w, http.StatusOK, conformance.ReplyTyped(u))
	}))
	r.Group(func(r chi.Router) {
		r.Use(s.Users.Guard)
		r.Get("/stages", func(w http.ResponseWriter, r *http.Request) {
			c, okc := auth.From[auth.Claims](r.Context())
			u, oku := auth.From[conformance.User](r.Context())
			if !okc || !oku {
				conformance.Write(w, http.StatusInternalServerError, conformance.NoPrincipal)
				return
			}
			conformance.Write(w, http.StatusOK, conformance.ReplyStages(c, u))
		})
	})
	r.With(s.Users.Optional).Get("/feed", func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.From[conformance.User](r.Context())
		conformance.Write(w, http.StatusOK, conformance.ReplyFeed(u, ok))
	})
	r.With(s.Reports.Guard).Get("/reports", func(w http.ResponseWriter, r *http.Request) {
		conformance.Write(w, http.StatusOK, conformance.ReplyReports(auth.MustFrom[auth.Claims](r.Context())))
	})
	r.With(s.Keys.Guard).Get("/service", func(w http.ResponseWriter, r *http.Request) {
		key, ok := auth.From[apikey.Principal](r.Context())
		if !ok {
			conformance.Write(w, http.StatusInternalServerError, conformance.NoPrincipal)
			return
		}
		conformance.Write(w, http.StatusOK, conformance.ReplyService(key.Owner))
	})
	r.With(s.Either.Guard).Get("/whoami", func(w http.ResponseWriter, r *http.Request) {
		conformance.Write(w, http.StatusOK, conformance.ReplyMe(auth.MustFrom[conformance.User](r.Context())))
	})
	r.Route("/items", func(r chi.Router) {
		r.Use(s.Items.Guard)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) {
			conformance.Write(w, http.StatusOK, conformance.ReplyItems(auth.MustFrom[auth.Claims](r.Context())))
		})
		r.Post("/", func(w http.ResponseWriter, r *http.Request) {
			conformance.Write(w, http.StatusCreated, conformance.ReplyCreated(auth.MustFrom[auth.Claims](r.Context())))
		})
		r.Get("/{id}", func(w http.ResponseWriter, r *http.Request) {
			conformance.Write(w, http.StatusOK, conformance.ReplyItem(chi.URLParam(r, "id"), auth.MustFrom[auth.Claims](r.Context())))
		})
	})
	return r
}

func TestConformance(t *testing.T) {
	conformance.Run(t, newServer)
}

func FuzzConformance(f *testing.F) {
	conformance.Fuzz(f, newServer)
}

func TestRootGuardRunsBeforeRouting(t *testing.T) {
	var handler atomic.Int32
	r := chi.NewRouter()
	r.Use(conformance.Tokens().Guard)
	r.Get("/known", func(w http.ResponseWriter, r *http.Request) {
		handler.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})

	tests := []struct {
		name, method, target, authorization string
		wantStatus                          int
		wantCalls                           int32
	}{
		{name: "known route", method: "GET", target: "/known", wantStatus: http.StatusUnauthorized},
		{name: "unknown route", method: "GET", target: "/unknown", wantStatus: http.StatusUnauthorized},
		{name: "wrong method", method: "POST", target: "/known", wantStatus: http.StatusUnauthorized},
		{name: "malformed", method: "GET", target: "/known", authorization: "Bearer a b", wantStatus: http.StatusBadRequest},
		{name: "authenticated", method: "GET", target: "/known", authorization: "Bearer tok-ann", wantStatus: http.StatusNoContent, wantCalls: 1},
		{name: "authenticated unknown route", method: "GET", target: "/unknown", authorization: "Bearer tok-ann", wantStatus: http.StatusNotFound},
		{name: "authenticated wrong method", method: "POST", target: "/known", authorization: "Bearer tok-ann", wantStatus: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler.Store(0)
			rec := conformance.Serve(t, r, tt.method, tt.target, tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("%s %s = %d %q; want %d", tt.method, tt.target, rec.Code, rec.Body, tt.wantStatus)
			}
			if got := handler.Load(); got != tt.wantCalls {
				t.Errorf("handler ran %d times; want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestRouteGuardsPrefixOnly(t *testing.T) {
	tokens := conformance.Tokens()
	r := chi.NewRouter()
	ok := func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("id=" + chi.URLParam(r, "id")))
	}
	r.Get("/health", ok)
	r.Get("/itemsx", ok)
	r.Route("/items", func(r chi.Router) {
		r.Use(tokens.Requires("items:read").Guard)
		r.Get("/{id}", ok)
		r.Delete("/{id}", ok)
	})

	tests := []struct {
		name, method, target, authorization string
		wantStatus                          int
		wantBody                            string
	}{
		{name: "other route open", method: "GET", target: "/health", wantStatus: http.StatusOK, wantBody: "id="},
		{name: "sibling prefix open", method: "GET", target: "/itemsx", wantStatus: http.StatusOK, wantBody: "id="},
		{name: "group route guarded", method: "GET", target: "/items/1", wantStatus: http.StatusUnauthorized},
		{name: "every method guarded", method: "DELETE", target: "/items/1", wantStatus: http.StatusUnauthorized},
		{name: "unknown route under prefix guarded", method: "GET", target: "/items/1/nope", wantStatus: http.StatusUnauthorized},
		{name: "lacking scope", method: "GET", target: "/items/1", authorization: "Bearer tok-ann", wantStatus: http.StatusForbidden},
		{name: "URL parameter kept", method: "GET", target: "/items/42", authorization: "Bearer tok-ann.items_read", wantStatus: http.StatusOK, wantBody: "id=42"},
		{name: "edit implies read", method: "DELETE", target: "/items/9", authorization: "Bearer tok-ann.items_edit", wantStatus: http.StatusOK, wantBody: "id=9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := conformance.Serve(t, r, tt.method, tt.target, tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("%s %s = %d %q; want %d", tt.method, tt.target, rec.Code, rec.Body, tt.wantStatus)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("%s %s body = %q; want %q", tt.method, tt.target, rec.Body, tt.wantBody)
			}
		})
	}
}

func TestGroupAndWithDoNotLeak(t *testing.T) {
	tokens := conformance.Tokens()
	r := chi.NewRouter()
	r.Group(func(r chi.Router) {
		r.Use(tokens.Guard)
		r.Get("/private", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	})
	r.With(tokens.Requires("reports:read").Guard).Get("/reports", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	r.Get("/open", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.From[auth.Claims](r.Context()); ok {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	tests := []struct {
		name, target, authorization string
		wantStatus                  int
	}{
		{name: "group guarded", target: "/private", wantStatus: http.StatusUnauthorized},
		{name: "group accepted", target: "/private", authorization: "Bearer tok-ann", wantStatus: http.StatusNoContent},
		{name: "with lacking scope", target: "/reports", authorization: "Bearer tok-ann", wantStatus: http.StatusForbidden},
		{name: "with scope", target: "/reports", authorization: "Bearer tok-ann.reports_read", wantStatus: http.StatusNoContent},
		{name: "sibling open, no principal", target: "/open", authorization: "Bearer tok-ann", wantStatus: http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := conformance.Serve(t, r, "GET", tt.target, tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("GET %s = %d %q; want %d", tt.target, rec.Code, rec.Body, tt.wantStatus)
			}
		})
	}
}
