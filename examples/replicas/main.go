// Command replicas runs two replicas, A and B, of one protected service in
// one process, as a load balancer would see them: each with its own Redis
// client, its own PostgreSQL pool and its own caches, sharing only Redis and
// PostgreSQL. It then shows that a token revoked on A and an API key revoked
// on A are rejected by both within a second, and keeps serving.
//
// Configuration, from the environment:
//
//	REDIS_ADDR    the Redis server (default 127.0.0.1:6379)
//	DATABASE_URL  the PostgreSQL database (default
//	              postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)
//	ADDR_A        the address of replica A (default 127.0.0.1:8081)
//	ADDR_B        the address of replica B (default 127.0.0.1:8082)
//	JWT_SECRET    the HS256 secret both replicas verify tokens with, at
//	              least 32 bytes (default: generated at start)
//	KEYS_TABLE    the table of API keys (default typedauth_api_keys)
//	REVOKE_PREFIX the prefix of the revocations' Redis keys and channel
//	              (default typedauth:revoke:)
//
// Routes, on each replica:
//
//	GET  /me       a bearer token that is not revoked: {"sub":…,"replica":…}
//	POST /logout   a bearer token: revokes it on every replica (204); a
//	               token without jti cannot be revoked alone, so every
//	               token of its subject issued until then is revoked
//	               (logout everywhere); 503 problem+json when the
//	               revocation cannot be recorded
//	GET  /reports  an X-Api-Key key with the scope reports:read:
//	               {"owner":…,"replica":…}
//
// The keys live in a table created at start; manage them with
// examples/keyadmin. Try it from the root of the repository with
// servers of your own, or with throw-away ones:
//
//	eval "$(.ci/services.sh start)"
//	REDIS_ADDR=$TYPEDAUTH_REDIS_ADDR DATABASE_URL=$TYPEDAUTH_POSTGRES_URL go run ./examples/replicas
//	.ci/services.sh stop
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/serve"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/revoke"
	authpostgres "github.com/typedauth/auth/stores/postgres"
	authredis "github.com/typedauth/auth/stores/redis"
)

// tokenLifetime is how long the demo's tokens live; a revocation is kept
// as long.
const tokenLifetime = time.Hour

func main() { serve.Main("replicas", run) }

// config is what run reads from the environment.
type config struct {
	redisAddr, databaseURL string
	addrs                  [2]string
	secret                 []byte
	table, prefix          string // "" for the defaults
}

func readConfig(getenv func(string) string) (config, error) {
	c := config{
		redisAddr:   getenv("REDIS_ADDR"),
		databaseURL: getenv("DATABASE_URL"),
		addrs:       [2]string{getenv("ADDR_A"), getenv("ADDR_B")},
		secret:      []byte(getenv("JWT_SECRET")),
		table:       getenv("KEYS_TABLE"),
		prefix:      getenv("REVOKE_PREFIX"),
	}
	if c.redisAddr == "" {
		c.redisAddr = "127.0.0.1:6379"
	}
	if c.databaseURL == "" {
		c.databaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	if c.addrs[0] == "" {
		c.addrs[0] = "127.0.0.1:8081"
	}
	if c.addrs[1] == "" {
		c.addrs[1] = "127.0.0.1:8082"
	}
	if len(c.secret) == 0 {
		c.secret = []byte(rand.Text() + rand.Text())
	}
	if len(c.secret) < 32 {
		return c, errors.New("JWT_SECRET: want at least 32 bytes")
	}
	return c, nil
}

// replica is one instance of the service, with everything it owns.
type replica struct {
	name        string
	tokens      *jwt.Auth
	revocations *authredis.Store
	keys        *authpostgres.Store
	rdb         *redis.Client
	pool        *pgxpool.Pool
	ln          net.Listener
	srv         *http.Server
}

// newReplica connects a replica to Redis and PostgreSQL, as a separate
// process would.
func newReplica(ctx context.Context, name string, c config, ln net.Listener) (*replica, error) {
	r := &replica{name: name, ln: ln}
	r.tokens = jwt.MustNew(jwt.Config{Secret: c.secret, Algorithms: []string{"HS256"}, Expiration: tokenLifetime})
	r.rdb = redis.NewClient(&redis.Options{Addr: c.redisAddr})
	var err error
	if r.revocations, err = authredis.New(authredis.Config{Client: r.rdb, Prefix: c.prefix, OnError: func(err error) { log.Printf("replica %s: %v", name, err) }}); err != nil {
		r.close()
		return nil, err
	}
	if r.pool, err = pgxpool.New(ctx, c.databaseURL); err != nil {
		r.close()
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if err := authpostgres.Migrate(ctx, r.pool, c.table); err != nil {
		r.close()
		return nil, err
	}
	if r.keys, err = authpostgres.New(authpostgres.Config{Pool: r.pool, Table: c.table, OnError: func(err error) { log.Printf("replica %s: %v", name, err) }}); err != nil {
		r.close()
		return nil, err
	}
	r.srv = serve.Server(r.routes())
	return r, nil
}

func (r *replica) close() {
	if r.keys != nil {
		r.keys.Close()
	}
	if r.pool != nil {
		r.pool.Close()
	}
	if r.revocations != nil {
		r.revocations.Close()
	}
	if r.rdb != nil {
		r.rdb.Close()
	}
}

// routes guards the service: tokens pass the revocation stage after the JWT
// checks; API keys are checked against PostgreSQL.
func (r *replica) routes() http.Handler {
	user := auth.Then(r.tokens, revoke.Stage(r.revocations, revoke.FromClaims))
	mux := http.NewServeMux()
	mux.Handle("GET /me", user.Handler(func(w http.ResponseWriter, req *http.Request, c auth.Claims) {
		writeJSON(w, map[string]any{"sub": c["sub"], "replica": r.name})
	}))
	mux.Handle("POST /logout", user.Handler(func(w http.ResponseWriter, req *http.Request, c auth.Claims) {
		t := revoke.FromClaims(c)
		exp, _ := c["exp"].(float64)
		// The token is accepted until exp plus the leeway (r.tokens keeps
		// jwt's default); its revocation must last as long.
		until := time.Unix(int64(exp)+1, 0).Add(jwt.DefaultLeeway)
		var err error
		if t.ID != "" {
			err = r.revocations.RevokeToken(req.Context(), t.ID, until)
		} else {
			// Without a jti this token cannot be told from the subject's
			// others (the revocation stage only lets it in with a sub):
			// log the subject out everywhere, revoking every token of it
			// issued until now, for as long as the longest of them lives.
			now := time.Now()
			if longest := now.Add(tokenLifetime + jwt.DefaultLeeway + time.Second); until.Before(longest) {
				until = longest
			}
			err = r.revocations.RevokeSubject(req.Context(), t.Subject, now, until)
		}
		if err != nil {
			log.Printf("replica %s: logout: %v", r.name, err)
			auth.WriteError(w, req, auth.Unavailable("The logout could not be recorded; try again"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.Handle("GET /reports", r.keys.ScopedAuth().Requires("reports:read").Handler(func(w http.ResponseWriter, req *http.Request, k authpostgres.Scoped) {
		writeJSON(w, map[string]any{"owner": k.Owner, "replica": r.name})
	}))
	// Unknown routes and methods get problem+json too, not the mux's text.
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		if allow, ok := map[string]string{"/me": "GET, HEAD", "/logout": "POST", "/reports": "GET, HEAD"}[req.URL.Path]; ok {
			w.Header().Set("Allow", allow)
			auth.WriteError(w, req, &auth.Error{Status: http.StatusMethodNotAllowed, Detail: "Use " + allow + " for " + req.URL.Path})
			return
		}
		auth.WriteError(w, req, &auth.Error{Status: http.StatusNotFound, Detail: "No such route"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	c, err := readConfig(getenv)
	if err != nil {
		return err
	}
	var replicas []*replica
	defer func() {
		for _, r := range replicas {
			r.close()
		}
	}()
	for i, name := range []string{"A", "B"} {
		ln, err := serve.Listen(c.addrs[i])
		if err != nil {
			return err
		}
		r, err := newReplica(ctx, name, c, ln)
		if err != nil {
			ln.Close()
			return err
		}
		replicas = append(replicas, r)
	}
	for _, r := range replicas {
		wait, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := errors.Join(r.revocations.Ready(wait), r.keys.Ready(wait))
		cancel()
		if err != nil {
			return fmt.Errorf("replica %s: %w", r.name, err)
		}
	}

	errc := make(chan error, len(replicas))
	var wg sync.WaitGroup
	for _, r := range replicas {
		wg.Go(func() { errc <- serve.Serve(ctx, io.Discard, r.ln, r.srv) })
		fmt.Fprintf(stdout, "replica %s on %s\n", r.name, serve.URL(r.ln))
	}
	if err := demo(ctx, stdout, replicas); err != nil {
		fmt.Fprintf(stdout, "demo failed: %v\n", err)
	}
	fmt.Fprintf(stdout, "serving until interrupted\n")
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// demo revokes a token and an API key on replica A and prints how long each
// replica takes to reject them.
func demo(ctx context.Context, stdout io.Writer, replicas []*replica) error {
	a := replicas[0]
	token, err := a.tokens.Encode(auth.Claims{"sub": "alice", "jti": rand.Text()}, tokenLifetime)
	if err != nil {
		return err
	}
	key, k, err := a.keys.Create(ctx, authpostgres.NewKey{Owner: "billing", Scopes: []string{"reports:read"}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token for alice: %s\n", token)
	fmt.Fprintf(stdout, "API key for billing: %s\n", key)
	for _, r := range replicas {
		fmt.Fprintf(stdout, "before: replica %s: /me %d, /reports %d\n", r.name,
			until(ctx, r, http.StatusOK, "/me", "Authorization", "Bearer "+token),
			until(ctx, r, http.StatusOK, "/reports", "X-Api-Key", key))
	}

	// Alice logs out on replica A.
	code, err := logout(ctx, a, token)
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(stdout, "logout on replica A: %d\n", code)
	for _, r := range replicas {
		fmt.Fprintf(stdout, "token revoked: replica %s rejects it (%d) after %v\n", r.name,
			until(ctx, r, http.StatusUnauthorized, "/me", "Authorization", "Bearer "+token), time.Since(start).Round(time.Millisecond))
	}

	// The key is revoked, as examples/keyadmin revoke does.
	start = time.Now()
	if err := a.keys.Revoke(ctx, k.ID); err != nil {
		return err
	}
	for _, r := range replicas {
		fmt.Fprintf(stdout, "key revoked: replica %s rejects it (%d) after %v\n", r.name,
			until(ctx, r, http.StatusUnauthorized, "/reports", "X-Api-Key", key), time.Since(start).Round(time.Millisecond))
	}
	fmt.Fprintf(stdout, "demo done\n")
	return nil
}

// logout posts to /logout on r, again while r answers 503, for at most 5 s.
func logout(ctx context.Context, r *replica, token string) (int, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, serve.URL(r.ln)+"/logout", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return resp.StatusCode, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get returns the status of a GET of path on r with one header, or 0.
func get(ctx context.Context, r *replica, path, name, value string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, serve.URL(r.ln)+path, nil)
	if err != nil {
		return 0
	}
	req.Header.Set(name, value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// until polls r until the request gets the status want, for at most 5 s,
// and returns the last status. A replica that cannot be sure its view of
// Redis or PostgreSQL is current answers 503 meanwhile, as a loaded machine
// may make it do.
func until(ctx context.Context, r *replica, want int, path, name, value string) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		code := get(ctx, r, path, name, value)
		if code == want || time.Now().After(deadline) || ctx.Err() != nil {
			return code
		}
		time.Sleep(5 * time.Millisecond)
	}
}
