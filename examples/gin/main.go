// Command gin protects a whole group of Gin routes with one scope
// requirement: every route of the group needs a token granting items:read.
//
// The adapter package authgin turns any Auth into Gin middleware
// (authgin.Middleware) and reads the verified claims back from a
// *gin.Context (authgin.From, authgin.MustFrom). Rejections are written by
// the Auth itself, byte for byte as with net/http: RFC 9457 problem details
// with the RFC 6750 WWW-Authenticate header; the chain is then aborted and
// nothing is added to c.Errors.
//
// Gin runs a group's middleware only for the routes registered on the group:
// an unknown path under /items is a 404 (here a problem, from NoRoute)
// without authentication. Use r.Use for a guard that must run on every
// request, 404s included.
//
// Configuration, from the environment:
//
//	ADDR        the address to listen on (default 127.0.0.1:8080)
//	JWT_SECRET  the HS256 signing secret, at least 32 bytes (default: random,
//	            so tokens die with the process)
//
// Routes:
//
//	GET  /healthz    open to all
//	GET  /items      items:read (every route under /items needs it)
//	GET  /items/:id  items:read
//	POST /items      items:read and items:edit; JSON body {"name":"…"}, a name of at
//	                 most 200 bytes (413 otherwise); 409 once the store holds its
//	                 maximum of 1000 items (see package items)
//
// Scopes are matched hierarchically: items:edit implies items:read, so an
// editor's token passes the group's requirement too.
//
// Try it from the root of the repository (the program prints a token for
// a reader, an editor and a user without item scopes):
//
//	go run ./examples/gin
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
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/typedauth/auth"
	authgin "github.com/typedauth/auth/adapters/gin"
	"github.com/typedauth/auth/examples/internal/items"
	"github.com/typedauth/auth/examples/internal/serve"
	"github.com/typedauth/auth/jwt"
)

// main runs run until SIGINT or SIGTERM, then shuts the server down
// gracefully; a bad configuration exits with status 1.
func main() {
	// Gin's debug mode logs every route at start-up; release mode is quiet.
	// The mode is a global of package gin, so it is set here, once.
	gin.SetMode(gin.ReleaseMode)
	serve.Main("gin", run)
}

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

// routes builds the Gin router.
func routes(tokens *jwt.Auth, store store) http.Handler {
	// Each Requires is built once, here: it checks its scopes' syntax at
	// start-up and costs nothing extra per request.
	readItems := tokens.Requires("items:read")
	editItems := tokens.Requires("items:edit")

	r := gin.New()
	r.Use(gin.Recovery()) // a panicking handler is a 500, not a dropped connection
	r.NoRoute(func(c *gin.Context) { writeProblem(c, http.StatusNotFound, "No such route") })
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})

	// Every route of this group needs items:read: the middleware given to
	// Group runs before each route registered on it.
	group := r.Group("/items", authgin.Middleware(readItems))
	group.GET("", store.list)
	group.GET("/:id", store.get)
	// One route needs a scope more: route middleware runs after the group's.
	group.POST("", authgin.Middleware(editItems), store.create)
	return r
}

// store serves the items of an items.Store as Gin handlers.
type store struct{ *items.Store }

// list answers GET /items.
func (s store) list(c *gin.Context) {
	// The middleware stored the verified claims with the request;
	// authgin.From returns them typed, with no assertion.
	claims, _ := authgin.From[auth.Claims](c)
	c.JSON(http.StatusOK, map[string]any{"items": s.List(), "for": claims["sub"]})
}

// get answers GET /items/:id.
func (s store) get(c *gin.Context) {
	it, ok := s.Get(c.Param("id"))
	if !ok {
		writeProblem(c, http.StatusNotFound, "No such item")
		return
	}
	c.JSON(http.StatusOK, it)
}

// create answers POST /items.
func (s store) create(c *gin.Context) {
	// MustFrom panics without claims; it is safe here because the route is
	// always guarded, and a missing guard would be a wiring bug.
	claims := authgin.MustFrom[auth.Claims](c)
	sub, _ := claims["sub"].(string)
	name, ok := items.DecodeName(c.Writer, c.Request.Body)
	if !ok {
		writeProblem(c, http.StatusBadRequest, items.BadBody)
		return
	}
	it, err := s.Add(name, sub)
	if err != nil { // a name too long, or a full store: see items.Problem
		status, detail := items.Problem(err)
		writeProblem(c, status, detail)
		return
	}
	c.JSON(http.StatusCreated, it)
}

// writeProblem answers with an RFC 9457 problem, as the auths do.
func writeProblem(c *gin.Context, status int, detail string) {
	auth.WriteError(c.Writer, c.Request, &auth.Error{Status: status, Detail: detail})
}
