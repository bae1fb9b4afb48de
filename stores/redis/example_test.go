package authredis_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/typedauth/auth"
	"github.com/typedauth/auth/revoke"
	authredis "github.com/typedauth/auth/stores/redis"
)

// Every replica builds the same Store on the same Redis; a revocation made
// on one is enforced by all within Config.MaxStaleness.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	revocations, err := authredis.New(authredis.Config{Client: rdb})
	if err != nil {
		log.Fatal(err)
	}
	defer revocations.Close()

	// tokens stands in for a token verifier such as jwt.New.
	tokens := auth.New(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
		return auth.Claims{"jti": raw, "sub": "alice"}, nil
	})
	api := auth.Then(tokens, revoke.Stage(revocations, revoke.FromClaims))
	http.Handle("GET /me", api.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))

	// On logout: revoke the token until it would have expired.
	if err := revocations.RevokeToken(context.Background(), "the token's jti", time.Now().Add(time.Hour)); err != nil {
		log.Print(err)
	}
}
