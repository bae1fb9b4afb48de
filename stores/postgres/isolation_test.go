package authpostgres_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/typedauth/auth/internal/testservers"
	authpostgres "github.com/typedauth/auth/stores/postgres"
)

// TestPrincipalScopesArePrivate: the scopes handed to a handler, or returned
// by Lookup, are the request's own. A handler that filters them in place (to
// hide internal scopes before echoing them, say) must not change what the
// cached key grants the next request.
func TestPrincipalScopesArePrivate(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := table(t)
	p := pool(t, url)
	migrate(t, p, name)
	s, err := authpostgres.New(authpostgres.Config{Pool: p, Table: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ready(t, s)
	ctx := context.Background()
	key, _, err := s.Create(ctx, authpostgres.NewKey{Owner: "billing", Scopes: []string{"reports:write", "internal:audit"}})
	if err != nil {
		t.Fatal(err)
	}

	scoped := s.ScopedAuth()
	mux := http.NewServeMux()
	mux.Handle("GET /scopes", scoped.Requires().Handler(func(w http.ResponseWriter, r *http.Request, k authpostgres.Scoped) {
		// Hide every scope but the public ones, in place.
		k.Granted = slices.DeleteFunc(k.Granted, func(s string) bool { return s != "internal:audit" })
		for i := range k.Granted {
			k.Granted[i] = "public"
		}
		io.WriteString(w, "ok")
	}))
	mux.Handle("POST /reports", scoped.Requires("reports:write").Handler(func(w http.ResponseWriter, r *http.Request, k authpostgres.Scoped) {
		io.WriteString(w, k.Owner)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	rep := &replica{store: s, url: srv.URL}

	for i := range 3 {
		if got, err := rep.do(http.MethodGet, "/scopes", key); err != nil || got.code != http.StatusOK {
			t.Fatalf("GET /scopes: %+v, %v", got, err)
		}
		if got, err := rep.do(http.MethodPost, "/reports", key); err != nil || got.code != http.StatusOK {
			t.Fatalf("request %d after a handler edited its scopes: %+v, %v; want 200", i, got, err)
		}
	}

	k, err := s.Lookup(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	clear(k.Scopes)
	k, err = s.Lookup(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(k.Scopes, []string{"reports:write", "internal:audit"}) {
		t.Errorf("Lookup after a caller cleared the scopes it got: %q", k.Scopes)
	}
}
