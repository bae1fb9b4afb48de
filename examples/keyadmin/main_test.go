package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/typedauth/auth/internal/testservers"
	authpostgres "github.com/typedauth/auth/stores/postgres"
)

func TestMain(m *testing.M) { os.Exit(testservers.Main(m)) }

func TestKeyAdmin(t *testing.T) {
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	table := "keyadmin_" + hex.EncodeToString(b)
	url := testservers.PostgresURL(t)
	env := map[string]string{"DATABASE_URL": url, "KEYS_TABLE": table}
	getenv := func(k string) string { return env[k] }
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	t.Cleanup(func() { pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) })

	cmd := func(args ...string) (string, error) {
		var out strings.Builder
		err := run(ctx, args, getenv, &out)
		return out.String(), err
	}

	out, err := cmd("create", "-owner", "billing", "-scope", "reports:read", "-scope", "reports:write", "-expires", "720h")
	if err != nil {
		t.Fatal(err)
	}
	var id, key string
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, "id:"); ok {
			id = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "key:"); ok {
			key = strings.TrimSpace(v)
		}
	}
	if id == "" || !strings.HasPrefix(key, "tak_"+id+"_") {
		t.Fatalf("create printed %q; want the id and the key", out)
	}

	// The key works, with its scopes.
	keys, err := authpostgres.New(authpostgres.Config{Pool: pool, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	k, err := keys.Lookup(ctx, key)
	if err != nil || k.Owner != "billing" || strings.Join(k.Scopes, " ") != "reports:read reports:write" || k.ExpiresAt.IsZero() {
		t.Fatalf("Lookup(created key) = %+v, %v", k, err)
	}

	out, err = cmd("list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, id) || !strings.Contains(out, "billing") || !strings.Contains(out, "reports:read reports:write") {
		t.Errorf("list = %q; want the key's id, owner and scopes", out)
	}
	if strings.Contains(out, key[len(key)-52:]) {
		t.Error("list shows the secret")
	}
	if out, err := cmd("list", "-owner", "nobody"); err != nil || strings.Contains(out, id) {
		t.Errorf("list -owner nobody = %q, %v; want no key", out, err)
	}

	if out, err := cmd("revoke", id); err != nil || !strings.Contains(out, "revoked "+id) {
		t.Fatalf("revoke = %q, %v", out, err)
	}
	if _, err := keys.Lookup(ctx, key); !errors.Is(err, authpostgres.ErrRevoked) {
		t.Errorf("Lookup after revoke = %v; want ErrRevoked", err)
	}
	out, _ = cmd("list")
	if fields := strings.Fields(strings.Split(out, "\n")[1]); len(fields) < 6 || fields[5] == "-" {
		t.Errorf("list after revoke = %q; want a revocation time", out)
	}
	if _, err := cmd("revoke", "nosuchkeyxxxxxxx"); !errors.Is(err, authpostgres.ErrNotFound) {
		t.Errorf("revoke of an unknown id = %v; want ErrNotFound", err)
	}
}

func TestKeyAdminUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"rotate"},
		{"create"},
		{"create", "-owner", "x", "extra"},
		{"create", "-owner", "x", "-expires", "-1h"},
		{"create", "-nope"},
		{"revoke"},
		{"revoke", "a", "b"},
		{"list", "extra"},
	} {
		// The database is never reached: a usage error comes first.
		err := run(context.Background(), args, func(string) string { return "postgres://nobody@127.0.0.1:1/x" }, &strings.Builder{})
		if !errors.Is(err, errUsage) {
			t.Errorf("run(%q) = %v; want a usage error", args, err)
		}
	}
}
