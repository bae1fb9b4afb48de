package jwt_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/revoke"
)

// A cached auth serves a repeated token without checking its signature
// again, but still rejects it once it expires, and a revocation stage still
// runs on every request.
func ExampleWithCache() {
	now := fixedClock()
	a := jwt.MustNew(jwt.Config{
		Secret:     []byte("an HMAC secret of at least 32 bytes"),
		Algorithms: []string{"HS256"},
		Expiration: time.Minute,
		Leeway:     jwt.NoLeeway,
		Now:        func() time.Time { return now },
	}, jwt.WithCache(jwt.CacheOptions{MaxEntries: 10_000, MaxBytes: 16 << 20}))

	revoked := revoke.NewMemory()
	h := auth.Then(a, revoke.Stage(revoked, revoke.FromClaims)).Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims := auth.MustFrom[auth.Claims](r.Context())
		fmt.Fprint(w, "hello ", claims["sub"])
	}))

	tok, err := a.Encode(auth.Claims{"sub": "alice", "jti": "t-1"}, 0)
	if err != nil {
		panic(err)
	}
	get(h, tok) // verified, then cached
	get(h, tok) // a hit

	other, _ := a.Encode(auth.Claims{"sub": "bob", "jti": "t-2"}, 0)
	get(h, other)
	_ = revoked.RevokeToken(context.Background(), "t-2", time.Now().Add(time.Hour))
	get(h, other) // a hit, rejected by the revocation stage

	now = now.Add(time.Minute) // alice's token expires
	get(h, tok)
	// Output:
	// 200 hello alice
	// 200 hello alice
	// 200 hello bob
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Token has been revoked"}
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Token has expired"}
}
