package authpostgres_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/typedauth/auth"
	authpostgres "github.com/typedauth/auth/stores/postgres"
)

// Every replica opens the same table; a key revoked on one stops working on
// all of them within a second.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	if err := authpostgres.Migrate(ctx, pool, ""); err != nil {
		log.Fatal(err)
	}
	keys, err := authpostgres.New(authpostgres.Config{Pool: pool})
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()

	// Issue a key: show it once, it is stored only as a digest.
	plain, k, err := keys.Create(ctx, authpostgres.NewKey{Owner: "billing-service", Scopes: []string{"reports:read"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("give this key to billing-service:", plain)

	reports := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.MustFrom[authpostgres.Scoped](r.Context())
		fmt.Fprintln(w, "reports for", p.Owner)
	})
	http.Handle("GET /reports", keys.ScopedAuth().Requires("reports:read").Guard(reports))

	// Later, from any replica:
	if err := keys.Revoke(ctx, k.ID); err != nil {
		log.Print(err)
	}
}
