package authpostgres_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/typedauth/auth/internal/testservers"
	authpostgres "github.com/typedauth/auth/stores/postgres"
)

// TestLongTableNameRevokes: a schema-qualified table name that New accepts
// can be longer than PostgreSQL's 63-byte limit on channel names; its keys
// must still be revocable, on every replica.
func TestLongTableNameRevokes(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := "public." + table(t) + "_" + strings.Repeat("x", 45)
	if len(name) < 64 {
		t.Fatalf("table name %q is not longer than a channel name may be", name)
	}
	pa, pb := pool(t, url), pool(t, url)
	migrate(t, pa, name)
	a := newReplica(t, authpostgres.Config{Pool: pa, Table: name})
	b := newReplica(t, authpostgres.Config{Pool: pb, Table: name})
	ready(t, a.store)
	ready(t, b.store)
	ctx := context.Background()
	key, k, err := a.store.Create(ctx, authpostgres.NewKey{Owner: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*replica{a, b} {
		if got := r.get(t, key); got.code != http.StatusOK {
			t.Fatalf("valid key: %+v; want 200", got)
		}
	}
	if err := a.store.Revoke(ctx, k.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	within(t, time.Second, "replica B rejecting the revoked key", func() bool { return b.get(t, key).code == http.StatusUnauthorized })
}

// TestLongTableNamesGetTheirOwnIndex: PostgreSQL truncates identifiers to
// 63 bytes, so two long (schema-qualified) table names whose index names
// share a 63-byte prefix must not name their owner indexes alike, or the
// second is silently never created.
func TestLongTableNamesGetTheirOwnIndex(t *testing.T) {
	url := testservers.PostgresURL(t)
	p := pool(t, url)
	base := table(t) + "_" + strings.Repeat("y", 40)
	names := []string{base + "_one", base + "_two"}
	for _, name := range names {
		if len(name) > 63 || len("public_"+base) < 63 {
			t.Fatalf("table name %q: want at most 63 bytes, and over 63 with its schema", name)
		}
		migrate(t, p, "public."+name)
	}
	for _, name := range names {
		var n int
		err := p.QueryRow(context.Background(), `SELECT count(*) FROM pg_indexes
WHERE schemaname = 'public' AND tablename = $1 AND indexdef LIKE '%(owner, created_at)%'`, name).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("table %s has %d owner indexes; want 1", name, n)
		}
	}
}
