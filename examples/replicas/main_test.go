package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/demotest"
	"github.com/typedauth/auth/internal/testservers"
	"github.com/typedauth/auth/jwt"
	authpostgres "github.com/typedauth/auth/stores/postgres"
)

func TestMain(m *testing.M) { os.Exit(testservers.Main(m)) }

const secret = "a test secret of at least 32 bytes, shared"

// start runs the program against the real servers, with a table and a
// Redis prefix of its own, waits for its demo to finish and returns the
// URLs of replicas A and B, the table and the output.
func start(t *testing.T) (urls [2]string, table string, out *demotest.Output) {
	t.Helper()
	return startWith(t, nil)
}

// startWith is start with some settings of the environment replaced.
func startWith(t *testing.T, override map[string]string) (urls [2]string, table string, out *demotest.Output) {
	t.Helper()
	b := make([]byte, 6)
	crand.Read(b)
	suffix := hex.EncodeToString(b)
	table = "replicas_" + suffix
	env := map[string]string{
		"REDIS_ADDR":    testservers.RedisAddr(t),
		"DATABASE_URL":  testservers.PostgresURL(t),
		"ADDR_A":        "127.0.0.1:0",
		"ADDR_B":        "127.0.0.1:0",
		"JWT_SECRET":    secret,
		"KEYS_TABLE":    table,
		"REVOKE_PREFIX": "replicas:" + suffix + ":",
	}
	for k, v := range override {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	out = demotest.NewOutput()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, func(k string) string { return env[k] }, out) }()
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections()
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("run returned %v after shutdown; want nil", err)
		}
		p, err := pgxpool.New(context.Background(), env["DATABASE_URL"])
		if err == nil {
			p.Exec(context.Background(), "DROP TABLE IF EXISTS "+table)
			p.Close()
		}
	})
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "serving until interrupted") {
		select {
		case err := <-errc:
			errc <- err
			t.Fatalf("run: %v\n%s", err, out)
		case <-deadline:
			t.Fatalf("the demo did not finish in 30 s:\n%s", out)
		case <-time.After(10 * time.Millisecond):
		}
	}
	urls[0] = out.Line(t, "replica A on")
	urls[1] = out.Line(t, "replica B on")
	return urls, table, out
}

var after = regexp.MustCompile(`rejects it \((\d+)\) after (\S+)$`)

func TestReplicas(t *testing.T) {
	urls, table, out := start(t)

	t.Run("demo", func(t *testing.T) {
		if strings.Contains(out.String(), "demo failed") {
			t.Fatalf("the demo failed:\n%s", out)
		}
		for _, r := range []string{"A", "B"} {
			if got := out.Line(t, "before: replica "+r+":"); got != "/me 200, /reports 200" {
				t.Errorf("before revoking, replica %s: %s; want /me 200, /reports 200", r, got)
			}
			for _, what := range []string{"token revoked", "key revoked"} {
				line := out.Line(t, what+": replica "+r)
				m := after.FindStringSubmatch(line)
				if m == nil || m[1] != "401" {
					t.Errorf("%s, replica %s: %q; want a 401", what, r, line)
					continue
				}
				d, err := time.ParseDuration(m[2])
				if err != nil || d > time.Second {
					t.Errorf("%s, replica %s: rejected after %s; want within 1s", what, r, m[2])
				}
			}
		}
		if got := out.Line(t, "logout on replica A:"); got != "204" {
			t.Errorf("logout: %s; want 204", got)
		}
	})

	t.Run("load", func(t *testing.T) { load(t, urls, table) })
}

// credential is a token or an API key of the load test.
type credential struct {
	path, header, value string
	keyID               string // for a key
	token               bool
	// revoked is the time (UnixNano) at which its revocation returned, or 0;
	// by is the replica that revoked a token (-1 for a key, revoked from the
	// database like examples/keyadmin does).
	revoked atomic.Int64
	by      atomic.Int32
}

// Under load, with both replicas, 50 concurrent clients and revocations in
// flight: no revoked credential is accepted by the replica that revoked it
// after the revocation returned, nor by the other more than 1 s after; and
// every revocation holds on both replicas at the end.
func load(t *testing.T, urls [2]string, table string) {
	const (
		clients        = 50
		perClient      = 80
		tokens, keys   = 120, 40
		revokedTokens  = 40
		revokedKeys    = 15
		grace          = time.Second
		overallTimeout = 90 * time.Second
	)
	ctx, cancel := context.WithTimeout(context.Background(), overallTimeout)
	defer cancel()
	issuer := jwt.MustNew(jwt.Config{Secret: []byte(secret), Algorithms: []string{"HS256"}, Expiration: time.Hour})
	pool, err := pgxpool.New(ctx, testservers.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	admin, err := authpostgres.New(authpostgres.Config{Pool: pool, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	var creds []*credential
	for i := range tokens {
		tok, err := issuer.Encode(auth.Claims{"sub": fmt.Sprintf("user-%d", i), "jti": fmt.Sprintf("load-%d-%s", i, crand.Text())}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds, &credential{path: "/me", header: "Authorization", value: "Bearer " + tok, token: true})
	}
	for i := range keys {
		key, k, err := admin.Create(ctx, authpostgres.NewKey{Owner: fmt.Sprintf("client-%d", i), Scopes: []string{"reports:read"}})
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds, &credential{path: "/reports", header: "X-Api-Key", value: key, keyID: k.ID})
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	send := func(ctx context.Context, method string, replica int, c *credential, path string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, method, urls[replica]+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set(c.header, c.value)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	var (
		statuses     sync.Map // status → *atomic.Int64
		wrongAccepts atomic.Int64
		failures     atomic.Int64
		firstWrong   atomic.Value
	)
	unavailable := map[string]*atomic.Int64{"/me": new(atomic.Int64), "/reports": new(atomic.Int64)}
	count := func(code int) {
		v, _ := statuses.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}

	// The revoker: tokens by logging out on either replica, keys from the
	// database, spread over the run.
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		order := rng.Perm(tokens)[:revokedTokens]
		korder := rng.Perm(keys)[:revokedKeys]
		for i := 0; i < revokedTokens || i < revokedKeys; i++ {
			if ctx.Err() != nil {
				return
			}
			if i < revokedTokens {
				c := creds[order[i]]
				replica := rng.IntN(2)
				// A replica unsure that its view is current answers 503:
				// the client learns the logout failed, and retries.
				code, err := send(ctx, http.MethodPost, replica, c, "/logout")
				for err == nil && code == http.StatusServiceUnavailable && ctx.Err() == nil {
					time.Sleep(10 * time.Millisecond)
					code, err = send(ctx, http.MethodPost, replica, c, "/logout")
				}
				if err != nil || code != http.StatusNoContent {
					failures.Add(1)
					t.Errorf("logout on replica %d: %d %v", replica, code, err)
				} else {
					c.by.Store(int32(replica))
					c.revoked.Store(time.Now().UnixNano())
				}
			}
			if i < revokedKeys {
				c := creds[tokens+korder[i]]
				if err := admin.Revoke(ctx, c.keyID); err != nil {
					failures.Add(1)
					t.Errorf("revoke key: %v", err)
				} else {
					c.by.Store(-1)
					c.revoked.Store(time.Now().UnixNano())
				}
			}
			time.Sleep(15 * time.Millisecond)
		}
	})

	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range perClient {
				if ctx.Err() != nil {
					return
				}
				c := creds[rng.IntN(len(creds))]
				replica := rng.IntN(2)
				sent := time.Now().UnixNano()
				code, err := send(ctx, http.MethodGet, replica, c, c.path)
				if err != nil {
					failures.Add(1)
					continue
				}
				count(code)
				if code == http.StatusServiceUnavailable {
					unavailable[c.path].Add(1)
				}
				if code != http.StatusOK {
					continue
				}
				rev := c.revoked.Load()
				if rev == 0 || sent < rev {
					continue
				}
				// Accepted after its revocation returned: wrong on the
				// replica that revoked it; past the grace period anywhere.
				if c.by.Load() == int32(replica) || time.Duration(sent-rev) > grace {
					if wrongAccepts.Add(1) == 1 {
						firstWrong.Store(fmt.Sprintf("%s on replica %d, %v after its revocation", c.path, replica, time.Duration(sent-rev)))
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("the load test did not finish within %v", overallTimeout)
	}

	// No lost revocation: every revoked credential is rejected by both
	// replicas, every other one accepted.
	lost, wrongRejects := 0, 0
	for _, c := range creds {
		for replica := range 2 {
			code, err := send(context.Background(), http.MethodGet, replica, c, c.path)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.revoked.Load() != 0 && code != http.StatusUnauthorized:
				lost++
			case c.revoked.Load() == 0 && code != http.StatusOK:
				wrongRejects++
			}
		}
	}

	var summary []string
	total := int64(0)
	statuses.Range(func(k, v any) bool {
		n := v.(*atomic.Int64).Load()
		total += n
		summary = append(summary, fmt.Sprintf("%d×%d", n, k))
		return true
	})
	t.Logf("%d requests by %d clients in %v (%s; 503: %d tokens, %d keys); %d token and %d key revocations in flight; %d wrong accepts, %d lost revocations, %d transport failures",
		total, clients, elapsed.Round(time.Millisecond), strings.Join(summary, " "), unavailable["/me"].Load(), unavailable["/reports"].Load(),
		revokedTokens, revokedKeys, wrongAccepts.Load(), lost, failures.Load())
	if n := wrongAccepts.Load(); n != 0 {
		t.Errorf("%d wrong accepts; first: %v", n, firstWrong.Load())
	}
	if lost != 0 {
		t.Errorf("%d lost revocations", lost)
	}
	if wrongRejects != 0 {
		t.Errorf("%d valid credentials rejected after the run", wrongRejects)
	}
	if failures.Load() != 0 {
		t.Errorf("%d requests failed", failures.Load())
	}
	if v, ok := statuses.Load(http.StatusInternalServerError); ok {
		t.Errorf("%d requests got 500", v.(*atomic.Int64).Load())
	}
	if total < clients*perClient*9/10 {
		t.Errorf("only %d of %d requests were answered", total, clients*perClient)
	}
}
