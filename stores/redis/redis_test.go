package authredis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/typedauth/auth"
	"github.com/typedauth/auth/internal/testservers"
	"github.com/typedauth/auth/revoke"
	authredis "github.com/typedauth/auth/stores/redis"
)

func TestMain(m *testing.M) { os.Exit(testservers.Main(m)) }

// prefix returns a key prefix of its own for a test, so that tests sharing
// the server never see each other's revocations.
func prefix(tb testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test:" + hex.EncodeToString(b) + ":"
}

func client(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 300 * time.Millisecond,
		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
	tb.Cleanup(func() { c.Close() })
	return c
}

// replica is one instance of a protected service: its store and its server.
type replica struct {
	store *authredis.Store
	url   string
}

// tokenAuth stands in for a JWT verifier: a token "jti/sub" has those
// claims; so the tests need no signing.
var tokenAuth = auth.New(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
	for i := 0; i < len(raw); i++ {
		if raw[i] == '.' {
			return auth.Claims{"jti": raw[:i], "sub": raw[i+1:], "iat": float64(time.Now().Add(-time.Minute).Unix())}, nil
		}
	}
	return nil, auth.Unauthorized("Unknown token")
})

func newReplica(tb testing.TB, cfg authredis.Config) *replica {
	tb.Helper()
	s, err := authredis.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	h := auth.Then(tokenAuth, revoke.Stage(s, revoke.FromClaims)).Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &replica{store: s, url: srv.URL}
}

func ready(tb testing.TB, s *authredis.Store) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		tb.Fatal(err)
	}
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// status sends GET / with the token to r and returns the status.
func (r *replica) status(tb testing.TB, token string) int {
	tb.Helper()
	code, err := r.get(token)
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

// get is status for goroutines other than the test's.
func (r *replica) get(token string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, r.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// within polls f until it returns true or d passes, and returns how long it
// took, failing the test on timeout.
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

func TestRevocationReachesOtherReplica(t *testing.T) {
	addr := testservers.RedisAddr(t)
	p := prefix(t)
	a := newReplica(t, authredis.Config{Client: client(t, addr), Prefix: p})
	b := newReplica(t, authredis.Config{Client: client(t, addr), Prefix: p})
	ready(t, a.store)
	ready(t, b.store)
	ctx := context.Background()

	for _, r := range []*replica{a, b} {
		for _, tok := range []string{"t1.alice", "t2.bob"} {
			if got := r.status(t, tok); got != http.StatusOK {
				t.Fatalf("before revocation: %s gets %d; want 200", tok, got)
			}
		}
	}

	start := time.Now()
	if err := a.store.RevokeToken(ctx, "t1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := a.status(t, "t1.alice"); got != http.StatusUnauthorized {
		t.Errorf("replica A right after revoking: %d; want 401", got)
	}
	within(t, time.Second, "token revocation on replica B", func() bool { return b.status(t, "t1.alice") == http.StatusUnauthorized })
	t.Logf("token revocation seen by replica B after %v", time.Since(start))

	start = time.Now()
	if err := b.store.RevokeSubject(ctx, "bob", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "subject revocation on replica A", func() bool { return a.status(t, "t2.bob") == http.StatusUnauthorized })
	t.Logf("subject revocation seen by replica A after %v", time.Since(start))
	if got := a.status(t, "t3.carol"); got != http.StatusOK {
		t.Errorf("an unrevoked token gets %d; want 200", got)
	}

	// A replica started afterwards loads the list.
	c := newReplica(t, authredis.Config{Client: client(t, addr), Prefix: p})
	ready(t, c.store)
	if got := c.status(t, "t1.alice"); got != http.StatusUnauthorized {
		t.Errorf("a new replica accepts a revoked token: %d", got)
	}
	if got := c.status(t, "t2.bob"); got != http.StatusUnauthorized {
		t.Errorf("a new replica accepts a token of a revoked subject: %d", got)
	}
}

func TestEntriesExpireWithTheToken(t *testing.T) {
	addr := testservers.RedisAddr(t)
	p := prefix(t)
	rdb := client(t, addr)
	s := newReplica(t, authredis.Config{Client: rdb, Prefix: p})
	ready(t, s.store)
	ctx := context.Background()

	exp := time.Now().Add(1500 * time.Millisecond)
	if err := s.store.RevokeToken(ctx, "short", exp); err != nil {
		t.Fatal(err)
	}
	if err := s.store.RevokeToken(ctx, "long", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ttl, err := rdb.PTTL(ctx, p+"t:short").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 1500*time.Millisecond {
		t.Errorf("PTTL = %v; want the token's remaining lifetime (0, 1.5s]", ttl)
	}
	// Revoking an expired token records nothing.
	if err := s.store.RevokeToken(ctx, "past", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, p+"t:past").Result(); n != 0 {
		t.Error("a revocation of an expired token was stored")
	}
	within(t, 5*time.Second, "key expiry", func() bool {
		n, err := rdb.Exists(ctx, p+"t:short").Result()
		return err == nil && n == 0
	})
	if got, err := s.store.Revoked(ctx, revoke.Token{ID: "short"}); err != nil || got {
		t.Errorf("Revoked(expired entry) = %v, %v; want false", got, err)
	}
	if got, err := s.store.Revoked(ctx, revoke.Token{ID: "long"}); err != nil || !got {
		t.Errorf("Revoked(long) = %v, %v; want true", got, err)
	}
	if err := s.store.RevokeToken(ctx, "", exp); !errors.Is(err, revoke.ErrEmpty) {
		t.Errorf("RevokeToken(\"\") = %v; want ErrEmpty", err)
	}
	if err := s.store.RevokeSubject(ctx, "", exp, exp); !errors.Is(err, revoke.ErrEmpty) {
		t.Errorf("RevokeSubject(\"\") = %v; want ErrEmpty", err)
	}
}

func TestSubjectRevocationNeverNarrows(t *testing.T) {
	addr := testservers.RedisAddr(t)
	p := prefix(t)
	rdb := client(t, addr)
	s := newReplica(t, authredis.Config{Client: rdb, Prefix: p})
	ready(t, s.store)
	ctx := context.Background()
	now := time.Now()
	if err := s.store.RevokeSubject(ctx, "dave", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.store.RevokeSubject(ctx, "dave", now.Add(-time.Hour), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	tok := revoke.Token{Subject: "dave", IssuedAt: now.Add(-time.Minute)}
	if got, err := s.store.Revoked(ctx, tok); err != nil || !got {
		t.Errorf("Revoked after a narrower second revocation = %v, %v; want true", got, err)
	}
	if ttl, _ := rdb.PTTL(ctx, p+"s:dave").Result(); ttl < 50*time.Minute {
		t.Errorf("PTTL = %v; the later expiry was lost", ttl)
	}
	if got, err := s.store.Revoked(ctx, revoke.Token{Subject: "dave"}); err != nil || !got {
		t.Errorf("Revoked(no iat) = %v, %v; want true: nothing proves it was issued after", got, err)
	}
	if got, err := s.store.Revoked(ctx, revoke.Token{Subject: "dave", IssuedAt: now.Add(time.Second)}); err != nil || got {
		t.Errorf("Revoked(issued after) = %v, %v; want false", got, err)
	}
	s.store.Close()
	if _, err := s.store.Revoked(ctx, tok); !errors.Is(err, authredis.ErrStale) {
		t.Errorf("Revoked after Close = %v; want ErrStale", err)
	}
}

func TestNotLoadedRejects(t *testing.T) {
	// Nothing listens on this port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r := newReplica(t, authredis.Config{Client: client(t, addr), Prefix: prefix(t)})
	if got := r.status(t, "t1.alice"); got != http.StatusServiceUnavailable {
		t.Errorf("with Redis unreachable: %d; want 503", got)
	}
	_, err = r.store.Revoked(context.Background(), revoke.Token{ID: "x"})
	if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, authredis.ErrStale) {
		t.Errorf("Revoked = %v; want ErrStale, an auth.ErrUnavailable", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := r.store.Ready(ctx); err == nil {
		t.Error("Ready succeeded without Redis")
	}
	if err := r.store.RevokeToken(context.Background(), "x", time.Now().Add(time.Hour)); err == nil {
		t.Error("RevokeToken succeeded without Redis")
	}
}

func TestConfigErrors(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	for _, cfg := range []authredis.Config{
		{},
		{Client: rdb, MaxStaleness: -time.Second},
		{Client: rdb, WhenUnavailable: 7},
	} {
		if _, err := authredis.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func TestMalformedMessagesIgnored(t *testing.T) {
	addr := testservers.RedisAddr(t)
	p := prefix(t)
	rdb := client(t, addr)
	r := newReplica(t, authredis.Config{Client: rdb, Prefix: p})
	ready(t, r.store)
	ctx := context.Background()
	for _, msg := range []string{"", "t", "t 1 2", "x 0 99999999999999 id", "t a b id", "s 1", "t 0 -5 y"} {
		if err := rdb.Publish(ctx, p+"events", msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Garbage keys under the prefix are skipped by a reload too.
	rdb.Set(ctx, p+"t:junk", "not numbers", time.Hour)
	if err := r.store.RevokeToken(ctx, "real", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "own message", func() bool { return r.store.Len() >= 1 })
	if n := r.store.Len(); n != 1 {
		t.Errorf("Len = %d; want 1: malformed messages were applied", n)
	}
	if got := r.status(t, "y.u"); got != http.StatusOK {
		t.Errorf("token named by a malformed message: %d; want 200", got)
	}
	fresh := newReplica(t, authredis.Config{Client: rdb, Prefix: p})
	ready(t, fresh.store)
	if n := fresh.store.Len(); n != 1 {
		t.Errorf("Len after a load = %d; want 1: a malformed key was loaded", n)
	}
}

// proxy forwards TCP connections to a target until cut; cutting closes every
// connection and refuses new ones until restored.
type proxy struct {
	target string
	l      net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
	paused atomic.Bool // hold every byte, as a silent network partition does
}

func newProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{target: target, l: l}
	tb.Cleanup(func() { l.Close(); p.setCut(true) })
	go p.serve()
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { p.copy(up, c); up.Close(); c.Close() }()
		go func() { p.copy(c, up); up.Close(); c.Close() }()
	}
}

// copy forwards src to dst, holding the data while the proxy is paused.
func (p *proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
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

func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// A revocation published while a replica is cut off from Redis reaches it
// when it reconnects; meanwhile it answers 503, never accepting the token.
func TestRevocationWhileDisconnectedIsNotMissed(t *testing.T) {
	addr := testservers.RedisAddr(t)
	p := prefix(t)
	px := newProxy(t, addr)
	a := newReplica(t, authredis.Config{Client: client(t, addr), Prefix: p})
	b := newReplica(t, authredis.Config{Client: client(t, px.addr()), Prefix: p})
	ready(t, a.store)
	ready(t, b.store)

	var accepted atomic.Int32
	var revoked atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // hammers B with the token to be revoked
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if code, _ := b.get("gone.eve"); code == http.StatusOK && revoked.Load() {
				accepted.Add(1)
			}
			time.Sleep(time.Millisecond)
		}
	}()

	px.setCut(true)
	within(t, 2*time.Second, "replica B noticing the cut", func() bool { return b.status(t, "ok.frank") == http.StatusServiceUnavailable })
	revoked.Store(true) // from now on B must never accept gone.eve
	if err := a.store.RevokeToken(context.Background(), "gone", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	px.setCut(false)
	within(t, 5*time.Second, "replica B serving again", func() bool { return b.status(t, "ok.frank") == http.StatusOK })
	if got := b.status(t, "gone.eve"); got != http.StatusUnauthorized {
		t.Errorf("after reconnecting, the token revoked meanwhile gets %d; want 401", got)
	}
	close(stop)
	wg.Wait()
	if n := accepted.Load(); n != 0 {
		t.Errorf("replica B accepted the revoked token %d times", n)
	}
}

func TestInsecureServeLocalView(t *testing.T) {
	addr := testservers.RedisAddr(t)
	p := prefix(t)
	px := newProxy(t, addr)
	var errs atomic.Int32
	b := newReplica(t, authredis.Config{Client: client(t, px.addr()), Prefix: p,
		WhenUnavailable: authredis.InsecureServeLocalView, OnError: func(error) { errs.Add(1) }})
	ready(t, b.store)
	if err := b.store.RevokeToken(context.Background(), "known", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	px.setCut(true)
	within(t, 3*time.Second, "an error reported", func() bool { return errs.Load() > 0 })
	if got := b.status(t, "known.x"); got != http.StatusUnauthorized {
		t.Errorf("known revoked token while cut off: %d; want 401", got)
	}
	if got := b.status(t, "other.x"); got != http.StatusOK {
		t.Errorf("other token while cut off: %d; want 200 (local view)", got)
	}
}

// Redis restarts in the middle of a stream of requests: no revoked token is
// ever accepted, and service resumes once both replicas have reconnected.
func TestRedisRestart(t *testing.T) {
	srv := testservers.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	p := prefix(t)
	a := newReplica(t, authredis.Config{Client: client(t, srv.Addr), Prefix: p})
	b := newReplica(t, authredis.Config{Client: client(t, srv.Addr), Prefix: p})
	ready(t, a.store)
	ready(t, b.store)
	if err := a.store.RevokeToken(context.Background(), "stolen", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "revocation on B", func() bool { return b.status(t, "stolen.x") == http.StatusUnauthorized })

	var wrongAccepts, ok, unavailable atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, r := range []*replica{a, b} {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					switch code, _ := r.get("stolen.x"); code {
					case http.StatusOK:
						wrongAccepts.Add(1)
					case http.StatusServiceUnavailable:
						unavailable.Add(1)
					}
					if code, _ := r.get("fine.y"); code == http.StatusOK {
						ok.Add(1)
					}
				}
			}()
		}
	}
	within(t, 2*time.Second, "requests flowing", func() bool { return ok.Load() > 20 })
	srv.Stop()
	within(t, 3*time.Second, "both replicas refusing while Redis is down", func() bool {
		return a.status(t, "fine.y") == http.StatusServiceUnavailable && b.status(t, "fine.y") == http.StatusServiceUnavailable
	})
	srv.Start()
	within(t, 10*time.Second, "both replicas serving again", func() bool {
		return a.status(t, "fine.y") == http.StatusOK && b.status(t, "fine.y") == http.StatusOK
	})
	before := ok.Load()
	within(t, 2*time.Second, "requests flowing again", func() bool { return ok.Load() > before+20 })
	close(stop)
	wg.Wait()
	if n := wrongAccepts.Load(); n != 0 {
		t.Errorf("a revoked token was accepted %d times", n)
	}
	if unavailable.Load() == 0 {
		t.Error("no request saw 503 while Redis was down")
	}
	t.Logf("accepted %d valid requests, %d answered 503 during the restart, 0 wrong accepts", ok.Load(), unavailable.Load())
}

// Redis stops answering without closing the connection (a silent partition):
// the replica stops trusting its view within MaxStaleness, reconnects by
// itself, and misses no revocation made meanwhile.
func TestSilentPartition(t *testing.T) {
	addr := testservers.RedisAddr(t)
	p := prefix(t)
	px := newProxy(t, addr)
	var hung atomic.Bool
	a := newReplica(t, authredis.Config{Client: client(t, addr), Prefix: p})
	b := newReplica(t, authredis.Config{Client: client(t, px.addr()), Prefix: p, OnError: func(err error) {
		if strings.Contains(err.Error(), "does not answer") {
			hung.Store(true)
		}
	}})
	ready(t, a.store)
	ready(t, b.store)

	px.paused.Store(true)
	paused := time.Now()
	within(t, 3*time.Second, "replica B distrusting its view", func() bool { return b.status(t, "ok.frank") == http.StatusServiceUnavailable })
	t.Logf("503 after %v of silence", time.Since(paused))
	if err := a.store.RevokeToken(context.Background(), "quiet", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "the hang reported", hung.Load)
	if got := b.status(t, "quiet.eve"); got == http.StatusOK {
		t.Fatal("replica B accepted a token revoked while it was partitioned")
	}
	px.paused.Store(false)
	within(t, 5*time.Second, "replica B serving again", func() bool { return b.status(t, "ok.frank") == http.StatusOK })
	if got := b.status(t, "quiet.eve"); got != http.StatusUnauthorized {
		t.Errorf("after the partition, the token revoked meanwhile gets %d; want 401", got)
	}
}

// A reload after a reconnection never forgets a revocation the local view
// holds: a Redis that lost it (a failover to a replica that missed the write,
// a restart without persistence) cannot un-revoke a token. The entry stays
// until its own expiry.
func TestReloadKeepsLocalRevocations(t *testing.T) {
	addr := testservers.RedisAddr(t)
	p := prefix(t)
	px := newProxy(t, addr)
	b := newReplica(t, authredis.Config{Client: client(t, px.addr()), Prefix: p})
	ready(t, b.store)
	ctx := context.Background()
	expires := time.Now().Add(3 * time.Second)
	if err := b.store.RevokeToken(ctx, "lost", expires); err != nil {
		t.Fatal(err)
	}
	if err := b.store.RevokeSubject(ctx, "mallory", time.Now(), expires); err != nil {
		t.Fatal(err)
	}
	// The write is lost behind the store's back.
	if n, err := client(t, addr).Del(ctx, p+"t:lost", p+"s:mallory").Result(); err != nil || n != 2 {
		t.Fatalf("deleting the revocations in Redis: %d, %v; want 2 deleted", n, err)
	}
	px.setCut(true)
	within(t, 2*time.Second, "the replica noticing the cut", func() bool { return b.status(t, "ok.frank") == http.StatusServiceUnavailable })
	px.setCut(false)
	within(t, 5*time.Second, "the replica serving again", func() bool { return b.status(t, "ok.frank") == http.StatusOK })
	for _, tok := range []string{"lost.eve", "x.mallory"} {
		if got := b.status(t, tok); got != http.StatusUnauthorized && time.Now().Before(expires) {
			t.Errorf("after a reload from a Redis that lost the revocation, %s gets %d; want 401", tok, got)
		}
	}
	within(t, 5*time.Second, "the revocation expiring", func() bool { return b.status(t, "lost.eve") == http.StatusOK })
}
