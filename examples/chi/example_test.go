package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/typedauth/auth"
)

// User is an application's own principal type.
type User struct {
	ID   string
	Name string
}

// exampleTokens stands in for a JWT verifier: it knows two opaque tokens.
func exampleTokens() *auth.ScopedAuth[auth.Claims] {
	known := map[string]auth.Claims{
		"reader-token": {"sub": "u-1", "scope": "items:read"},
		"guest-token":  {"sub": "u-2"},
	}
	return auth.NewScoped(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
		c, ok := known[raw]
		if !ok {
			return nil, auth.ErrInvalidCredential
		}
		return c, nil
	}, nil)
}

func do(h http.Handler, method, target, token string) {
	req := httptest.NewRequest(method, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Printf("%s %s: %d %s\n", method, target, rec.Code, rec.Body)
}

// One scope requirement protects every route under a prefix, as a
// router-level dependency does; routes outside it stay open. No adapter is
// needed: Guard is chi middleware.
func Example_route() {
	tokens := exampleTokens()

	r := chi.NewRouter()
	r.Get("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	r.Route("/items", func(r chi.Router) {
		r.Use(tokens.Requires("items:read").Guard)
		r.Get("/{id}", func(w http.ResponseWriter, r *http.Request) {
			claims := auth.MustFrom[auth.Claims](r.Context())
			fmt.Fprintf(w, "item %s for %s", chi.URLParam(r, "id"), claims["sub"])
		})
	})

	do(r, "GET", "/health", "")
	do(r, "GET", "/items/7", "reader-token")
	do(r, "GET", "/items/7", "guest-token")
	// Output:
	// GET /health: 200 ok
	// GET /items/7: 200 item 7 for u-1
	// GET /items/7: 403 {"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: items:read"}
}

// A typed principal: auth.Then loads a User, and the handler receives it as
// an argument through Auth.Handler, or reads it with auth.From.
func Example_typedPrincipal() {
	tokens := exampleTokens()
	currentUser := auth.Then(tokens, func(_ context.Context, c auth.Claims) (User, error) {
		return User{ID: c["sub"].(string), Name: "Ada"}, nil
	})

	r := chi.NewRouter()
	r.Method("GET", "/me", currentUser.Handler(func(w http.ResponseWriter, r *http.Request, u User) {
		fmt.Fprintf(w, "hello %s (%s)", u.Name, u.ID)
	}))
	r.With(currentUser.Optional).Get("/feed", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := auth.From[User](r.Context()); ok {
			fmt.Fprint(w, "feed for ", u.Name)
			return
		}
		fmt.Fprint(w, "public feed")
	})

	do(r, "GET", "/me", "guest-token")
	do(r, "GET", "/me", "")
	do(r, "GET", "/feed", "")
	do(r, "GET", "/feed", "reader-token")
	// Output:
	// GET /me: 200 hello Ada (u-2)
	// GET /me: 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Missing credentials"}
	// GET /feed: 200 public feed
	// GET /feed: 200 feed for Ada
}
