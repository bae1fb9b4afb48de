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
