// Command gin protects a whole group of Gin routes with one scope
// requirement, the Go form of the seed's router-level dependency
// (ViewRouter(prefix="/items", dependencies=[auth.requires("items:read")])).
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
//	POST /items      items:read and items:edit; JSON body {"name":"…"}
//
// Scopes are matched hierarchically: items:edit implies items:read, so an
// editor's token passes the group's requirement too.
//
// Try it (the program prints a token for a reader, an editor and a user
// without item scopes):
//
//	go run ./gin
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
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/typedauth/auth"
	authgin "github.com/typedauth/auth/adapters/gin"
	"github.com/typedauth/auth/jwt"
)

func main() {
	// Ctrl-C (SIGINT) or a SIGTERM from a process manager cancels ctx, which
	// makes run shut the server down gracefully.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Gin's debug mode logs every route at start-up; release mode is quiet.
	// The mode is a global of package gin, so it is set here, once.
	gin.SetMode(gin.ReleaseMode)
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gin:", err)
		stop()
		os.Exit(1)
	}
}

// demoUsers are the subjects and scopes of the tokens printed at start-up.
var demoUsers = []struct{ sub, scope string }{
	{sub: "rita", scope: "items:read"},
	{sub: "ed", scope: "items:edit"},
	{sub: "sam", scope: "profile"},
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

	// Step 2: listen before printing, so that ADDR=127.0.0.1:0 (any free
	// port) prints the port actually chosen.
	addr := getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on ADDR %q: %w", addr, err)
	}
	base := "http://" + ln.Addr().String()

	// Step 3: demo tokens, so that curl works straight away.
	for _, u := range demoUsers {
		tok, err := tokens.Encode(auth.Claims{"sub": u.sub, "scope": u.scope}, 0)
		if err != nil {
			ln.Close()
			return err
		}
		fmt.Fprintf(stdout, "token for %s (%s): %s\n", u.sub, u.scope, tok)
	}
	fmt.Fprintf(stdout, "try: curl -H \"Authorization: Bearer <token>\" %s/items\n", base)
	fmt.Fprintf(stdout, "listening on %s\n", base)

	return serve(ctx, ln, routes(tokens, newStore()))
}

// routes builds the Gin router.
func routes(tokens *jwt.Auth, store *store) http.Handler {
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
	items := r.Group("/items", authgin.Middleware(readItems))
	items.GET("", store.list)
	items.GET("/:id", store.get)
	// One route needs a scope more: route middleware runs after the group's.
	items.POST("", authgin.Middleware(editItems), store.create)
	return r
}

// Item is what the API serves.
type Item struct {
	ID        int    `json:"id"`
	Name      string `json:"name"`
	CreatedBy string `json:"created_by"`
}

// store holds the items in memory. It is safe for concurrent use.
type store struct {
	mu    sync.Mutex
	items []Item
}

func newStore() *store {
	return &store{items: []Item{{ID: 1, Name: "notebook", CreatedBy: "system"}, {ID: 2, Name: "stapler", CreatedBy: "system"}}}
}

// list answers GET /items.
func (s *store) list(c *gin.Context) {
	// The middleware stored the verified claims with the request;
	// authgin.From returns them typed, with no assertion.
	claims, _ := authgin.From[auth.Claims](c)
	s.mu.Lock()
	items := append([]Item(nil), s.items...)
	s.mu.Unlock()
	c.JSON(http.StatusOK, map[string]any{"items": items, "for": claims["sub"]})
}

// get answers GET /items/:id.
func (s *store) get(c *gin.Context) {
	id, err := strconv.Atoi(c.Param("id"))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		if err == nil && it.ID == id {
			c.JSON(http.StatusOK, it)
			return
		}
	}
	writeProblem(c, http.StatusNotFound, "No such item")
}

// create answers POST /items.
func (s *store) create(c *gin.Context) {
	// MustFrom panics without claims; it is safe here because the route is
	// always guarded, and a missing guard would be a wiring bug.
	claims := authgin.MustFrom[auth.Claims](c)
	sub, _ := claims["sub"].(string)
	var in struct {
		Name string `json:"name"`
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, 1<<10)
	if err := json.NewDecoder(body).Decode(&in); err != nil || in.Name == "" {
		writeProblem(c, http.StatusBadRequest, `Want a JSON body {"name":"…"}`)
		return
	}
	s.mu.Lock()
	it := Item{ID: len(s.items) + 1, Name: in.Name, CreatedBy: sub}
	s.items = append(s.items, it)
	s.mu.Unlock()
	c.JSON(http.StatusCreated, it)
}

// writeProblem answers with an RFC 9457 problem, as the auths do.
func writeProblem(c *gin.Context, status int, detail string) {
	auth.WriteError(c.Writer, c.Request, &auth.Error{Status: status, Detail: detail})
}

// serve runs an http.Server on ln until ctx is done, then shuts it down,
// letting requests in flight finish for up to five seconds.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,  // slow clients cannot hold connections open
		ReadTimeout:       10 * time.Second, // … nor trickle a body
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc: // Serve failed on its own
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
