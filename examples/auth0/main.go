// Command auth0 serves an API whose callers present access tokens issued by
// an Auth0 tenant, verified with Auth0's Go SDK through package auth0. It
// downloads the tenant's signing keys at start-up and keeps them up to date.
//
// It is configured by the environment:
//
//	AUTH0_DOMAIN    the tenant's domain, such as your-tenant.auth0.com (required)
//	AUTH0_AUDIENCE  the identifier of the API in Auth0 (required)
//	ADDR            the address to listen on (default 127.0.0.1:8080)
//	AUTH0_BASE_URL  where to fetch the tenant's keys from instead of
//	                https://AUTH0_DOMAIN (a custom domain, a test server)
//
// Routes:
//
//	GET /me       any valid token: the caller's subject and scopes
//	GET /reports  tokens granting reports:read, in "scope" or in the RBAC "permissions"
//
// Run it from the root of the repository:
//
//	AUTH0_DOMAIN=your-tenant.auth0.com AUTH0_AUDIENCE=https://api.example.com go run ./examples/auth0
//	curl -i -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/me
//
// A bad configuration, or a tenant whose keys cannot be downloaded at
// start-up, makes it exit with status 1 and a one-line reason.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/auth0"
	"github.com/typedauth/auth/examples/internal/serve"
)

// main runs run until SIGINT or SIGTERM, then shuts the server down
// gracefully; a bad configuration exits with status 1.
func main() { serve.Main("auth0", run) }

// run serves until ctx is done. It writes the address it listens on to
// stdout, and returns an error when the configuration is bad or the listener
// cannot be opened.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	domain, audience := getenv("AUTH0_DOMAIN"), getenv("AUTH0_AUDIENCE")
	if domain == "" {
		return errors.New("AUTH0_DOMAIN is not set; give the tenant's domain, such as your-tenant.auth0.com")
	}
	if audience == "" {
		return errors.New("AUTH0_AUDIENCE is not set; give the identifier of the API in Auth0")
	}
	var opts []auth0.TenantOption
	if base := getenv("AUTH0_BASE_URL"); base != "" {
		opts = append(opts, auth0.WithBaseURL(base))
	}
	tokens, err := auth0.NewTenant(ctx, domain, audience, opts...)
	if err != nil {
		return err
	}
	defer tokens.Close()
	ln, err := serve.Listen(getenv("ADDR"))
	if err != nil {
		return err
	}
	return serve.Serve(ctx, stdout, ln, serve.Server(routes(tokens)))
}

// routes is the API: /me for any valid token, /reports for reports:read.
func routes(tokens *auth0.Auth) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /me", tokens.Handler(func(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
		writeJSON(w, map[string]any{
			"sub":    claims["sub"],
			"scopes": slices.Collect(auth0.Scopes(claims).All()),
		})
	}))
	mux.Handle("GET /reports", tokens.Requires("reports:read").Handler(func(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
		writeJSON(w, map[string]any{
			"reports": []string{"2026-q1", "2026-q2"},
			"for":     claims["sub"],
		})
	}))
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
