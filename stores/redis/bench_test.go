package authredis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/typedauth/auth/internal/testservers"
	"github.com/typedauth/auth/revoke"
	authredis "github.com/typedauth/auth/stores/redis"
)

// BenchmarkRevoked checks a token against lists of 100 and 10,000
// revocations: a lookup in the local view, without a round trip to Redis,
// whatever the size of the list.
func BenchmarkRevoked(b *testing.B) {
	ctx := context.Background()
	addr := testservers.RedisAddr(b)
	for _, n := range []int{100, 10_000} {
		p := prefix(b)
		rdb := client(b, addr)
		s, err := authredis.New(authredis.Config{Client: rdb, Prefix: p})
		if err != nil {
			b.Fatal(err)
		}
		ready(b, s)
		exp := time.Now().Add(time.Hour)
		for i := range n {
			if err := s.RevokeToken(ctx, fmt.Sprintf("jti-%d", i), exp); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
		b.Run(fmt.Sprintf("revocations=%d", n), func(b *testing.B) {
			s, err := authredis.New(authredis.Config{Client: rdb, Prefix: p})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ready(b, s)
			if s.Len() != n {
				b.Fatalf("loaded %d revocations; want %d", s.Len(), n)
			}
			tok := revoke.Token{ID: "not-revoked", Subject: "alice", IssuedAt: time.Now()}
			b.ReportAllocs()
			for b.Loop() {
				if revoked, err := s.Revoked(ctx, tok); err != nil || revoked {
					b.Fatal(revoked, err)
				}
			}
		})
		// Leave nothing behind on a shared server.
		rdb.Eval(ctx, `for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, nil, p+"*")
	}
}
