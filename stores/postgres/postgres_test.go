package authpostgres_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/internal/testservers"
	authpostgres "github.com/typedauth/auth/stores/postgres"
)

func TestMain(m *testing.M) { os.Exit(testservers.Main(m)) }

// table returns a table name of its own for a test, so that tests sharing
// the server never see each other's keys or notifications.
func table(tb testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "keys_" + hex.EncodeToString(b)
}

func pool(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.ConnectTimeout = time.Second
	cfg.MaxConns = 8
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

func migrate(tb testing.TB, p *pgxpool.Pool, name string) {
	tb.Helper()
	if err := authpostgres.Migrate(context.Background(), p, name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Exec(context.Background(), "DROP TABLE IF EXISTS "+name) })
}

// replica is one instance of a protected service.
type replica struct {
	store *authpostgres.Store
	url   string
}

func newReplica(tb testing.TB, cfg authpostgres.Config) *replica {
	tb.Helper()
	s, err := authpostgres.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	mux := http.NewServeMux()
	mux.Handle("GET /any", s.Auth().Handler(func(w http.ResponseWriter, r *http.Request, p apikey.Principal) {
		fmt.Fprintf(w, "%s/%s", p.Owner, p.KeyID)
	}))
	mux.Handle("POST /reports", s.ScopedAuth().Requires("reports:write").Handler(func(w http.ResponseWriter, r *http.Request, p authpostgres.Scoped) {
		io.WriteString(w, p.Owner)
	}))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return &replica{store: s, url: srv.URL}
}

func ready(tb testing.TB, s *authpostgres.Store) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		tb.Fatal(err)
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

type response struct {
	code      int
	body      string
	challenge string
	detail    string
}

func (r *replica) do(method, path, key string) (response, error) {
	req, err := http.NewRequest(method, r.url+path, nil)
	if err != nil {
		return response{}, err
	}
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{code: resp.StatusCode, body: string(b), challenge: resp.Header.Get("WWW-Authenticate")}
	if resp.StatusCode != http.StatusOK {
		var p struct{ Detail string }
		json.Unmarshal(b, &p)
		out.detail = p.Detail
	}
	return out, nil
}

func (r *replica) get(tb testing.TB, key string) response {
	tb.Helper()
	resp, err := r.do(http.MethodGet, "/any", key)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

func within(tb testing.TB, d time.Duration, what string, f func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for !f() {
		if time.Since(start) > d {
			tb.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func TestRevokedKeyRejectedByEveryReplica(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := table(t)
	pa, pb := pool(t, url), pool(t, url)
	migrate(t, pa, name)
	a := newReplica(t, authpostgres.Config{Pool: pa, Table: name})
	b := newReplica(t, authpostgres.Config{Pool: pb, Table: name})
	ready(t, a.store)
	ready(t, b.store)
	ctx := context.Background()

	key, k, err := a.store.Create(ctx, authpostgres.NewKey{Owner: "billing", Scopes: []string{"reports:write"}})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := a.store.Create(ctx, authpostgres.NewKey{Owner: "search"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*replica{a, b} {
		if got := r.get(t, key); got.code != http.StatusOK || got.body != "billing/"+k.ID {
			t.Fatalf("valid key: %d %q; want 200 billing/%s", got.code, got.body, k.ID)
		}
		if got, _ := r.do(http.MethodPost, "/reports", key); got.code != http.StatusOK {
			t.Errorf("key with the scope on a scoped route: %d; want 200", got.code)
		}
		if got, _ := r.do(http.MethodPost, "/reports", other); got.code != http.StatusForbidden {
			t.Errorf("key without the scope on a scoped route: %d; want 403", got.code)
		}
	}

	start := time.Now()
	if err := a.store.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if got := a.get(t, key); got.code != http.StatusUnauthorized {
		t.Errorf("replica A right after revoking: %d; want 401", got.code)
	}
	within(t, time.Second, "replica B rejecting the revoked key", func() bool { return b.get(t, key).code == http.StatusUnauthorized })
	t.Logf("key revocation seen by replica B after %v", time.Since(start))
	for _, r := range []*replica{a, b} {
		got := r.get(t, key)
		if got.code != http.StatusUnauthorized || got.detail != apikey.DetailInvalid || got.challenge != apikey.Scheme {
			t.Errorf("revoked key: %+v; want 401 %q with challenge %s", got, apikey.DetailInvalid, apikey.Scheme)
		}
		if got, _ := r.do(http.MethodPost, "/reports", key); got.code != http.StatusUnauthorized {
			t.Errorf("revoked key on a scoped route: %d; want 401", got.code)
		}
		if got := r.get(t, other); got.code != http.StatusOK {
			t.Errorf("other key after a revocation: %d; want 200", got.code)
		}
	}
	if err := b.store.Revoke(ctx, k.ID); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if err := b.store.Revoke(ctx, "nosuchkeyxxxxxxx"); !errors.Is(err, authpostgres.ErrNotFound) {
		t.Errorf("Revoke(unknown) = %v; want ErrNotFound", err)
	}
}

func TestRejections(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := table(t)
	p := pool(t, url)
	migrate(t, p, name)
	now := time.Now()
	clock := atomic.Pointer[time.Time]{}
	clock.Store(&now)
	r := newReplica(t, authpostgres.Config{Pool: p, Table: name, Now: func() time.Time { return *clock.Load() }})
	ready(t, r.store)
	ctx := context.Background()
	key, _, err := r.store.Create(ctx, authpostgres.NewKey{Owner: "o", ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	wrongSecret := key[:len(key)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(key, "a")]
	unknownID := "tak_aaaaaaaaaaaaaaaa" + key[len("tak_")+16:]

	tests := []struct {
		name, key string
		wantErr   error
	}{
		{name: "empty", key: "", wantErr: nil},
		{name: "garbage", key: "hello", wantErr: authpostgres.ErrMalformedKey},
		{name: "wrong prefix", key: "xyz" + key[3:], wantErr: authpostgres.ErrMalformedKey},
		{name: "upper case", key: strings.ToUpper(key), wantErr: authpostgres.ErrMalformedKey},
		{name: "truncated", key: key[:len(key)-1], wantErr: authpostgres.ErrMalformedKey},
		{name: "unknown id", key: unknownID, wantErr: apikey.ErrUnknownKey},
		{name: "wrong secret", key: wrongSecret, wantErr: apikey.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.get(t, tt.key)
			if got.code != http.StatusUnauthorized || got.detail != apikey.DetailInvalid {
				t.Errorf("status %d detail %q; want 401 %q", got.code, got.detail, apikey.DetailInvalid)
			}
			if tt.wantErr == nil {
				return
			}
			if _, err := r.store.Lookup(ctx, tt.key); !errors.Is(err, tt.wantErr) || !errors.Is(err, auth.ErrInvalidCredential) {
				t.Errorf("Lookup = %v; want %v, an auth.ErrInvalidCredential", err, tt.wantErr)
			}
		})
	}

	if got := r.get(t, key); got.code != http.StatusOK {
		t.Fatalf("valid key: %d", got.code)
	}
	later := now.Add(2 * time.Hour)
	clock.Store(&later)
	if got := r.get(t, key); got.code != http.StatusUnauthorized {
		t.Errorf("expired key: %d; want 401", got.code)
	}
	if _, err := r.store.Lookup(ctx, key); !errors.Is(err, authpostgres.ErrExpired) {
		t.Errorf("Lookup(expired) = %v; want ErrExpired", err)
	}
}

// No column of the table holds a key or its secret: only the SHA-256 digest
// of the whole key.
func TestNoPlaintextStored(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := table(t)
	p := pool(t, url)
	migrate(t, p, name)
	s, err := authpostgres.New(authpostgres.Config{Pool: p, Table: name})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	keys := map[string]string{} // id → key
	for i := range 5 {
		key, k, err := s.Create(ctx, authpostgres.NewKey{Owner: fmt.Sprintf("owner-%d", i), Scopes: []string{"a:read"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Lookup(ctx, key); err != nil {
			t.Fatal(err)
		}
		keys[k.ID] = key
	}
	s.Close() // writes last-used times: every column is filled in

	rows, err := p.Query(ctx, "SELECT id, secret_hash, t::text, encode(secret_hash, 'hex'), encode(secret_hash, 'base64') FROM "+name+" AS t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, whole, hexHash, b64Hash string
		var hash []byte
		if err := rows.Scan(&id, &hash, &whole, &hexHash, &b64Hash); err != nil {
			t.Fatal(err)
		}
		n++
		key := keys[id]
		secret := key[len(key)-52:]
		for _, text := range []string{whole, hexHash, b64Hash, string(hash)} {
			if strings.Contains(text, secret) || strings.Contains(text, secret[:16]) {
				t.Errorf("row %s holds the key's secret: %s", id, whole)
			}
		}
		if sum := sha256.Sum256([]byte(key)); string(hash) != string(sum[:]) {
			t.Errorf("row %s: secret_hash is not the SHA-256 of the key", id)
		}
	}
	if n != len(keys) {
		t.Fatalf("read %d rows; want %d", n, len(keys))
	}
	list, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list {
		if k.LastUsedAt.IsZero() {
			t.Errorf("key %s: no last-used time after a successful lookup", k.ID)
		}
	}
}

func TestCreateAndList(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := table(t)
	p := pool(t, url)
	migrate(t, p, name)
	s, err := authpostgres.New(authpostgres.Config{Pool: p, Table: name, KeyPrefix: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	exp := time.Now().Add(24 * time.Hour).Truncate(time.Microsecond)
	key, k, err := s.Create(ctx, authpostgres.NewKey{Owner: "alice", Scopes: []string{"reports:read", "reports:write"}, ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "acme_"+k.ID+"_") || len(key) != len("acme_")+16+1+52 {
		t.Errorf("key %q does not have the form acme_<id>_<secret>", key)
	}
	if _, _, err := s.Create(ctx, authpostgres.NewKey{Owner: "bob"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []authpostgres.NewKey{{}, {Owner: "x", Scopes: []string{"has space"}}, {Owner: "x", Scopes: []string{""}}} {
		if _, _, err := s.Create(ctx, bad); err == nil {
			t.Errorf("Create(%+v) succeeded", bad)
		}
	}
	got, err := s.List(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != k.ID || got[0].Owner != "alice" || len(got[0].Scopes) != 2 || !got[0].ExpiresAt.Equal(exp) || got[0].CreatedAt.IsZero() {
		t.Errorf("List(alice) = %+v; want the key created", got)
	}
	all, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Errorf("List(\"\") returned %d keys; want 2", len(all))
	}
	if err := s.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = s.List(ctx, "alice")
	if len(got) != 1 || got[0].RevokedAt.IsZero() {
		t.Errorf("List after Revoke = %+v; want a revocation time", got)
	}
}

func TestConfigErrors(t *testing.T) {
	p := pool(t, testservers.PostgresURL(t))
	for _, cfg := range []authpostgres.Config{
		{},
		{Pool: p, Table: "Robert'); DROP TABLE students;--"},
		{Pool: p, Table: "a.b.c"},
		{Pool: p, KeyPrefix: "has_underscore"},
	} {
		if _, err := authpostgres.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	if err := authpostgres.Migrate(context.Background(), p, "x; drop"); err == nil {
		t.Error("Migrate accepted a table name that is not an identifier")
	}
}

func TestMigrateConcurrentlyAndTwice(t *testing.T) {
	p := pool(t, testservers.PostgresURL(t))
	name := "public." + table(t)
	t.Cleanup(func() { p.Exec(context.Background(), "DROP TABLE IF EXISTS "+name) })
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- authpostgres.Migrate(context.Background(), p, name) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s, err := authpostgres.New(authpostgres.Config{Pool: p, Table: name})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	key, k, err := s.Create(ctx, authpostgres.NewKey{Owner: "o"})
	if err != nil {
		t.Fatalf("Create in a schema-qualified table: %v", err)
	}
	// Revocations reach the other stores on a schema-qualified table too.
	other, err := authpostgres.New(authpostgres.Config{Pool: p, Table: name})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ready(t, other)
	if _, err := other.Lookup(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "revocation on the other store", func() bool {
		_, err := other.Lookup(ctx, key)
		return errors.Is(err, authpostgres.ErrRevoked)
	})
}

// PostgreSQL stops: within a second every key check answers 503, none is
// accepted until it is back, and service resumes after it restarts.
func TestPostgresStopped(t *testing.T) {
	srv := testservers.StartPostgres(t)
	name := table(t)
	p := pool(t, srv.URL)
	migrate(t, p, name)
	r := newReplica(t, authpostgres.Config{Pool: p, Table: name})
	ready(t, r.store)
	ctx := context.Background()
	key, _, err := r.store.Create(ctx, authpostgres.NewKey{Owner: "o"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, key); got.code != http.StatusOK {
		t.Fatalf("before the stop: %d", got.code)
	}

	srv.Stop()
	stopped := time.Now()
	within(t, time.Second, "503 after PostgreSQL stopped", func() bool { return r.get(t, key).code == http.StatusServiceUnavailable })
	t.Logf("503 after %v", time.Since(stopped))
	for i := range 20 {
		got := r.get(t, key)
		if got.code != http.StatusServiceUnavailable || got.detail != authpostgres.DetailUnavailable {
			t.Fatalf("check %d while PostgreSQL is down: %d %q; want 503 %q", i, got.code, got.detail, authpostgres.DetailUnavailable)
		}
		if got := r.get(t, "tak_aaaaaaaaaaaaaaaa_"+strings.Repeat("a", 52)); got.code != http.StatusServiceUnavailable {
			t.Fatalf("unknown key while PostgreSQL is down: %d; want 503", got.code)
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Start()
	within(t, 15*time.Second, "service after PostgreSQL restarted", func() bool { return r.get(t, key).code == http.StatusOK })
	ready(t, r.store)
}

// pausingProxy forwards TCP connections to a target; while paused it holds
// every byte, as a silent network partition does.
type pausingProxy struct {
	target string
	l      net.Listener
	paused atomic.Bool
	delay  atomic.Int64 // ns each chunk waits before it is forwarded
}

func newPausingProxy(tb testing.TB, target string) *pausingProxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &pausingProxy{target: target, l: l}
	var mu sync.Mutex
	var conns []net.Conn
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			go func() { p.copy(up, c); up.Close(); c.Close() }()
			go func() { p.copy(c, up); up.Close(); c.Close() }()
		}
	}()
	return p
}

func (p *pausingProxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if d := p.delay.Load(); n > 0 && d > 0 {
			time.Sleep(time.Duration(d))
		}
		for n > 0 && p.paused.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// PostgreSQL stops answering without closing connections (a silent
// partition): a key revoked meanwhile is never accepted more than a second
// after its revocation; checks fail with 503; service resumes afterwards.
func TestSilentPartition(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := table(t)
	direct := pool(t, url)
	migrate(t, direct, name)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	px := newPausingProxy(t, cfg.ConnConfig.Host+":"+strconv.Itoa(int(cfg.ConnConfig.Port)))
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = "127.0.0.1", uint16(px.l.Addr().(*net.TCPAddr).Port)
	cfg.ConnConfig.ConnectTimeout = 500 * time.Millisecond
	proxied, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxied.Close)

	admin := newReplica(t, authpostgres.Config{Pool: direct, Table: name})
	b := newReplica(t, authpostgres.Config{Pool: proxied, Table: name, QueryTimeout: 500 * time.Millisecond})
	ready(t, b.store)
	ctx := context.Background()
	key, k, err := admin.store.Create(ctx, authpostgres.NewKey{Owner: "o"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := admin.store.Create(ctx, authpostgres.NewKey{Owner: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, key); got.code != http.StatusOK {
		t.Fatalf("before the partition: %d", got.code)
	}

	px.paused.Store(true)
	if err := admin.store.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	unavailable := 0
	for time.Since(revoked) < 2500*time.Millisecond {
		sent := time.Now()
		got := b.get(t, key)
		if got.code == http.StatusOK && sent.Sub(revoked) > time.Second {
			t.Fatalf("replica B accepted a key %v after its revocation", sent.Sub(revoked))
		}
		if got.code == http.StatusServiceUnavailable {
			unavailable++
		}
	}
	if unavailable == 0 {
		t.Error("no check answered 503 during the partition")
	}
	px.paused.Store(false)
	within(t, 10*time.Second, "service after the partition", func() bool { return b.get(t, other).code == http.StatusOK })
	if got := b.get(t, key); got.code != http.StatusUnauthorized {
		t.Errorf("after the partition, the key revoked meanwhile gets %d; want 401", got.code)
	}
}
