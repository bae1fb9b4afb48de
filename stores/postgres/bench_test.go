package authpostgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/typedauth/auth/internal/testservers"
	authpostgres "github.com/typedauth/auth/stores/postgres"
)

// BenchmarkLookup checks one key in tables of 100 and 10,000 keys, from the
// cache and from the database (CacheTTL < 0): the cost does not grow with the
// number of keys, since a key is found by its ID through the primary key.
func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	p := pool(b, testservers.PostgresURL(b))
	for _, n := range []int{100, 10_000} {
		name := table(b)
		migrate(b, p, name)
		fill := authpostgres.Config{Pool: p, Table: name}
		s, err := authpostgres.New(fill)
		if err != nil {
			b.Fatal(err)
		}
		key, _, err := s.Create(ctx, authpostgres.NewKey{Owner: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		fillKeys(b, p, name, n-1) // the other keys
		for _, mode := range []struct {
			name string
			ttl  int64
		}{{name: "cached", ttl: 0}, {name: "database", ttl: -1}} {
			b.Run(fmt.Sprintf("%s/keys=%d", mode.name, n), func(b *testing.B) {
				s, err := authpostgres.New(authpostgres.Config{Pool: p, Table: name, CacheTTL: time.Duration(mode.ttl)})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				ready(b, s)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.Lookup(ctx, key); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// fillKeys adds n rows of random IDs and digests, as Create writes them, and
// analyzes the table.
func fillKeys(tb testing.TB, p *pgxpool.Pool, name string, n int) {
	tb.Helper()
	ctx := context.Background()
	rows := make([][]any, n)
	for i := range rows {
		id := make([]byte, 8)
		sum := make([]byte, 32)
		rand.Read(id)
		rand.Read(sum)
		rows[i] = []any{fmt.Sprintf("%x", id), sum, fmt.Sprintf("owner-%d", i)}
	}
	if _, err := p.CopyFrom(ctx, pgx.Identifier{name}, []string{"id", "secret_hash", "owner"}, pgx.CopyFromRows(rows)); err != nil {
		tb.Fatal(err)
	}
	if _, err := p.Exec(ctx, "ANALYZE "+name); err != nil {
		tb.Fatal(err)
	}
}

// With 10,000 keys, a presented key is found through the primary key index,
// never by scanning the table.
func TestLookupUsesTheIndex(t *testing.T) {
	p := pool(t, testservers.PostgresURL(t))
	name := table(t)
	migrate(t, p, name)
	fillKeys(t, p, name, 10_000)
	var plan string
	err := p.QueryRow(context.Background(), "EXPLAIN SELECT secret_hash, owner, scopes, created_at, expires_at, revoked_at, last_used_at FROM "+
		name+" WHERE id = $1", "abcdefghijklmnop").Scan(&plan)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "Index Scan using "+name+"_pkey") {
		t.Errorf("plan of a key lookup: %s; want an index scan of the primary key", plan)
	}
}
