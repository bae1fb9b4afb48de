package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/internal/testservers"
	"github.com/typedauth/auth/jwt"
)

// TestLogoutOutlivesLeeway: the replicas accept a token until its exp plus
// the jwt leeway, so a logout must keep the token revoked at least as long;
// a revocation that lapses at exp lets the stolen token back in for the
// rest of the leeway.
func TestLogoutOutlivesLeeway(t *testing.T) {
	urls, table, _ := start(t)
	prefix := "replicas:" + strings.TrimPrefix(table, "replicas_") + ":"
	tokens := jwt.MustNew(jwt.Config{Secret: []byte(secret), Algorithms: []string{"HS256"}, Expiration: tokenLifetime})
	token, err := tokens.Encode(auth.Claims{"sub": "carol", "jti": "logout-leeway"}, tokenLifetime)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := tokens.Verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(int64(claims["exp"].(float64)), 0)

	req, err := http.NewRequest(http.MethodPost, urls[0]+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d; want 204", resp.StatusCode)
	}

	rdb := redis.NewClient(&redis.Options{Addr: testservers.RedisAddr(t)})
	defer rdb.Close()
	ttl, err := rdb.PTTL(context.Background(), prefix+"t:logout-leeway").Result()
	if err != nil {
		t.Fatal(err)
	}
	if accepted := time.Until(exp.Add(jwt.DefaultLeeway)); ttl < accepted-100*time.Millisecond {
		t.Errorf("the revocation lapses in %v, while the token is accepted for %v more", ttl, accepted)
	}
}
