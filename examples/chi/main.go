// Command chi protects a whole group of chi routes with one scope
// requirement: every route of the group needs a token granting items:read.
//
// chi needs no adapter: its middleware is func(http.Handler) http.Handler,
// which is exactly what Guard returns, so an Auth plugs in with r.Use.
// Handlers read the verified claims with auth.From.
//
// Configuration, from the environment:
//
//	ADDR        the address to listen on (default 127.0.0.1:8080)
//	JWT_SECRET  the HS256 signing secret, at least 32 bytes (default: random,
//	            so tokens die with the process)
//
// Routes:
//
//	GET  /healthz     open to all
//	GET  /items       items:read (every route under /items needs it)
//	GET  /items/{id}  items:read
//	POST /items       items:read and items:edit; JSON body {"name":"…"}, a name of at
//	                  most 200 bytes (413 otherwise); 409 once the store holds its
//	                  maximum of 1000 items (see package items)
//
// Scopes are matched hierarchically: items:edit implies items:read, so an
// editor's token passes the group's requirement too.
//
// Try it from the root of the repository (the program prints a token for
// a reader, an editor and a user without item scopes):
//
//	go run ./examples/chi
//	RITA=<rita's token>; ED=<ed's token>; SAM=<sam's token>                          # as printed
//	curl -i http://127.0.0.1:8080/healthz                                            # 200
//	curl -i http://127.0.0.1:8080/items                                              # 401
//	curl -i -H "Authorization: Bearer $SAM" http://127.0.0.1:8080/items              # 403
//	curl -i -H "Authorization: Bearer $RITA" http://127.0.0.1:8080/items/1           # 200
//	curl -i -H "Authorization: Bearer $RITA" -d '{"name":"pen"}' http://127.0.0.1:8080/items # 403
//	curl -i -H "Authorization: Bearer $ED" -d '{"name":"pen"}' http://127.0.0.1:8080/items   # 201
//
// A bad configuration makes the program exit with status 1 and a one-line
// reason.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/items"
	"github.com/typedauth/auth/examples/internal/serve"
	"github.com/typedauth/auth/jwt"
)

// main runs run until SIGINT or SIGTERM, then shuts the server down
// gracefully; a bad configuration exits with status 1.
func main() { serve.Main("chi", run) }

// run configures the service from getenv, prints its address and demo tokens
// to stdout, and serves until ctx is done. It returns an error, without
// serving, when the configuration is bad.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	// Step 1: the token auth. A random secret is fine for a demo; a real
	// service reads it from a secret store, or verifies its identity
	// provider's tokens with a public key (jwt.Config.Key or KeySet).
	secret := []byte(getenv("JWT_SECRET"))
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
	}
	tokens, err := jwt.New(jwt.Config{
		Secret:     secret,
		Algorithms: []string{"HS256"},
		IssuerURL:  "urn:example:items",
		Expiration: time.Hour,
	})
	if err != nil {
		return fmt.Errorf("JWT_SECRET: %w", err)
	}

	// Step 2: serve the routes on ADDR, after printing a token for each
	// demo user (a reader, an editor and a user without item scopes), so
	// that curl works straight away.
	return items.Serve(ctx, getenv("ADDR"), stdout, tokens, routes(tokens, store{items.NewStore()}))
}

// routes builds the chi router.
func routes(tokens *jwt.Auth, store store) http.Handler {
	// Each Requires is built once, here: it checks its scopes' syntax at
	// start-up and costs nothing extra per request.
	readItems := tokens.Requires("items:read")
	editItems := tokens.Requires("items:edit")

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})

	r.Route("/items", func(r chi.Router) {
		// Every route of this group, and any unknown path under /items,
		// needs items:read. r.Use takes the Guard as it is.
		r.Use(readItems.Guard)
		r.Get("/", store.list)
		r.Get("/{id}", store.get)
		// One route needs a scope more: With adds a guard to it alone.
		r.With(editItems.Guard).Post("/", store.create)
	})
	return r
}

// store serves the items of an items.Store as chi handlers.
type store struct{ *items.Store }

// list answers GET /items.
func (s store) list(w http.ResponseWriter, r *http.Request) {
	// The guard stored the verified claims in the request context; From
	// returns them typed, with no assertion.
	claims, _ := auth.From[auth.Claims](r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"items": s.List(), "for": claims["sub"]})
}

// get answers GET /items/{id}.
func (s store) get(w http.ResponseWriter, r *http.Request) {
	it, ok := s.Get(chi.URLParam(r, "id"))
	if !ok {
		writeProblem(w, r, http.StatusNotFound, "No such item")
		return
	}
	writeJSON(w, http.StatusOK, it)
}

// create answers POST /items.
func (s store) create(w http.ResponseWriter, r *http.Request) {
	// MustFrom panics without claims; it is safe here because the route is
	// always guarded, and a missing guard would be a wiring bug.
	claims := auth.MustFrom[auth.Claims](r.Context())
	sub, _ := claims["sub"].(string)
	name, ok := items.DecodeName(w, r.Body)
	if !ok {
		writeProblem(w, r, http.StatusBadRequest, items.BadBody)
		return
	}
	it, err := s.Add(name, sub)
	if err != nil { // a name too long, or a full store: see items.Problem
		status, detail := items.Problem(err)
		writeProblem(w, r, status, detail)
		return
	}
	writeJSON(w, http.StatusCreated, it)
}

// writeProblem answers with an RFC 9457 problem, as the auths do.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	auth.WriteError(w, r, &auth.Error{Status: status, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
