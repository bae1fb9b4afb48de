// Command chi protects a whole group of chi routes with one scope
// requirement, the Go form of the seed's router-level dependency
// (ViewRouter(prefix="/items", dependencies=[auth.requires("items:read")])).
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
//	POST /items       items:read and items:edit; JSON body {"name":"…"}
//
// Scopes are matched hierarchically: items:edit implies items:read, so an
// editor's token passes the group's requirement too.
//
// Try it (the program prints a token for a reader, an editor and a user
// without item scopes):
//
//	go run ./chi
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

	"github.com/go-chi/chi/v5"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

func main() {
	// Ctrl-C (SIGINT) or a SIGTERM from a process manager cancels ctx, which
	// makes run shut the server down gracefully.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chi:", err)
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

// routes builds the chi router.
func routes(tokens *jwt.Auth, store *store) http.Handler {
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
func (s *store) list(w http.ResponseWriter, r *http.Request) {
	// The guard stored the verified claims in the request context; From
	// returns them typed, with no assertion.
	claims, _ := auth.From[auth.Claims](r.Context())
	s.mu.Lock()
	items := append([]Item(nil), s.items...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "for": claims["sub"]})
}

// get answers GET /items/{id}.
func (s *store) get(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(chi.URLParam(r, "id"))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		if err == nil && it.ID == id {
			writeJSON(w, http.StatusOK, it)
			return
		}
	}
	writeProblem(w, r, http.StatusNotFound, "No such item")
}

// create answers POST /items.
func (s *store) create(w http.ResponseWriter, r *http.Request) {
	// MustFrom panics without claims; it is safe here because the route is
	// always guarded, and a missing guard would be a wiring bug.
	claims := auth.MustFrom[auth.Claims](r.Context())
	sub, _ := claims["sub"].(string)
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&in); err != nil || in.Name == "" {
		writeProblem(w, r, http.StatusBadRequest, `Want a JSON body {"name":"…"}`)
		return
	}
	s.mu.Lock()
	it := Item{ID: len(s.items) + 1, Name: in.Name, CreatedBy: sub}
	s.items = append(s.items, it)
	s.mu.Unlock()
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
