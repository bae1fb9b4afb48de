// Command keyadmin manages the API keys that stores/postgres keeps in
// PostgreSQL: it creates them (printing each new key once), lists them and
// revokes them. A revocation reaches every running replica of the service
// within a second.
//
// Usage:
//
//	keyadmin create -owner NAME [-scope S]... [-expires DURATION]
//	keyadmin list [-owner NAME]
//	keyadmin revoke ID
//
// The database is DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); the table is
// KEYS_TABLE (default typedauth_api_keys), created when missing. For
// example, from the root of the repository:
//
//	eval "$(.ci/services.sh start)"
//	export DATABASE_URL=$TYPEDAUTH_POSTGRES_URL
//	go run ./examples/keyadmin create -owner billing -scope reports:read -expires 720h
//	go run ./examples/keyadmin list
//	go run ./examples/keyadmin revoke <id>
//
// Errors are printed on one line to standard error, with exit status 1
// (2 for a usage error).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	authpostgres "github.com/typedauth/auth/stores/postgres"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "keyadmin: %v\n", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: keyadmin create -owner NAME [-scope S]... [-expires DURATION] | list [-owner NAME] | revoke ID")

// scopeList collects repeated -scope flags.
type scopeList []string

func (s *scopeList) String() string     { return strings.Join(*s, " ") }
func (s *scopeList) Set(v string) error { *s = append(*s, v); return nil }

// run executes one command with args, reading DATABASE_URL and KEYS_TABLE
// with getenv and writing its result to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	owner := fs.String("owner", "", "the key's owner")
	var scopes scopeList
	expires := time.Duration(0)
	switch cmd {
	case "create":
		fs.Var(&scopes, "scope", "a scope the key grants (repeatable)")
		fs.DurationVar(&expires, "expires", 0, "lifetime of the key (default: none)")
	case "list", "revoke":
	default:
		return fmt.Errorf("unknown command %q: %w", cmd, errUsage)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if cmd == "create" && *owner == "" || cmd == "revoke" && fs.NArg() != 1 || cmd != "revoke" && fs.NArg() != 0 || expires < 0 {
		return errUsage
	}

	url := getenv("DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	table := getenv("KEYS_TABLE")
	if err := authpostgres.Migrate(ctx, pool, table); err != nil {
		return err
	}
	keys, err := authpostgres.New(authpostgres.Config{Pool: pool, Table: table})
	if err != nil {
		return err
	}
	defer keys.Close()

	switch cmd {
	case "create":
		nk := authpostgres.NewKey{Owner: *owner, Scopes: scopes}
		if expires > 0 {
			nk.ExpiresAt = time.Now().Add(expires)
		}
		plain, k, err := keys.Create(ctx, nk)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "id:  %s\nkey: %s\n", k.ID, plain)
		fmt.Fprintln(stdout, "The key is shown this once; only its SHA-256 digest is stored.")
	case "list":
		list, err := keys.List(ctx, *owner)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tOWNER\tSCOPES\tCREATED\tEXPIRES\tREVOKED\tLAST USED")
		for _, k := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Owner, orDash(strings.Join(k.Scopes, " ")),
				stamp(k.CreatedAt), stamp(k.ExpiresAt), stamp(k.RevokedAt), stamp(k.LastUsedAt))
		}
		return tw.Flush()
	case "revoke":
		if err := keys.Revoke(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", fs.Arg(0))
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
