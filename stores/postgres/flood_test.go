package authpostgres_test

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/typedauth/auth/internal/testservers"
	authpostgres "github.com/typedauth/auth/stores/postgres"
)

// A flood of well-formed keys with unknown IDs, each a database lookup,
// does not starve the lookups of keys the Store has seen exist: those
// lookups wait for a bounded share of the pool, and the flood gets 401 or
// 503, never anything else.
func TestUnknownKeyFloodDoesNotStarveKnownKeys(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := table(t)
	direct := pool(t, url)
	migrate(t, direct, name)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	// A slow database: every query holds its connection for 100 ms or more.
	px := newPausingProxy(t, cfg.ConnConfig.Host+":"+strconv.Itoa(int(cfg.ConnConfig.Port)))
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = "127.0.0.1", uint16(px.l.Addr().(*net.TCPAddr).Port)
	cfg.MaxConns = 2
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	// No cache: every check of the valid key goes to the database.
	r := newReplica(t, authpostgres.Config{Pool: p, Table: name, CacheTTL: -1, QueryTimeout: 2 * time.Second})
	key, _, err := r.store.Create(context.Background(), authpostgres.NewKey{Owner: "o"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, key); got.code != http.StatusOK {
		t.Fatalf("valid key before the flood: %+v", got)
	}
	// Both connections open before the database turns slow, so that no
	// check of the valid key waits for a connection to be made.
	c1, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c2, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c1.Release()
	c2.Release()
	px.delay.Store(int64(50 * time.Millisecond))

	var flood401, flood503, floodOther atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 64 { // enough to queue for longer than QueryTimeout on the whole pool
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				unknown := "tak_" + rand.Text()[:16] + "_" + (rand.Text() + rand.Text())[:52]
				for i := range len(unknown) { // base32 upper case → the key alphabet
					if c := unknown[i]; 'A' <= c && c <= 'Z' {
						unknown = unknown[:i] + string(c+'a'-'A') + unknown[i+1:]
					}
				}
				got, err := r.do(http.MethodGet, "/any", unknown)
				switch {
				case err != nil:
					floodOther.Add(1)
				case got.code == http.StatusUnauthorized:
					flood401.Add(1)
				case got.code == http.StatusServiceUnavailable:
					flood503.Add(1)
				default:
					floodOther.Add(1)
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // the flood fills the queue
	var failed []int
	for range 15 {
		if got := r.get(t, key); got.code != http.StatusOK {
			failed = append(failed, got.code)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("flood: %d × 401, %d × 503", flood401.Load(), flood503.Load())
	if len(failed) > 0 {
		t.Errorf("valid key during a flood of unknown IDs: %d of 15 checks failed (%v); want every one 200", len(failed), failed)
	}
	if n := floodOther.Load(); n != 0 {
		t.Errorf("%d flood requests got neither 401 nor 503", n)
	}
	if flood503.Load() == 0 {
		t.Errorf("no flood request got 503: the flood did not saturate the lookups, so the test proves nothing")
	}
}
