package authpostgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
		// The other keys: rows of random IDs and digests, as Create writes them.
		rows := make([][]any, n-1)
		for i := range rows {
			id := make([]byte, 8)
			sum := make([]byte, 32)
			rand.Read(id)
			rand.Read(sum)
			rows[i] = []any{fmt.Sprintf("%x", id), sum, fmt.Sprintf("owner-%d", i)}
		}
		if _, err := p.CopyFrom(ctx, pgx.Identifier{name}, []string{"id", "secret_hash", "owner"}, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Exec(ctx, "ANALYZE "+name); err != nil {
			b.Fatal(err)
		}
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
