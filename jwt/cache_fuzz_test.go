package jwt

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/typedauth/auth"
)

// FuzzCacheMatchesUncached signs arbitrary payloads and verifies each three
// times through a cached auth (a miss, then hits, at a clock that moves)
// and through an uncached one. The cache parses nothing of its own, so the
// target checks what it adds: every answer of the cached auth equals the
// uncached one's (the same claims, or the same rejection), whatever the
// payload's times and nesting, and the claims a caller changes do not
// reach the next answer.
func FuzzCacheMatchesUncached(f *testing.F) {
	for _, seed := range []struct {
		payload string
		step    int64
	}{
		{`{"sub":"alice","exp":1700000060}`, 30},
		{`{"sub":"alice","exp":1700000060,"nbf":1700000030,"iat":1699999990}`, 20},
		{`{"sub":"a","exp":1700000010,"groups":["x",{"y":[1,2,{"z":null}]}],"ext":{"k":[true,false]}}`, 5},
		{`{"sub":"a","exp":1700000010.5,"iat":1700000005}`, -7},
		{`{"sub":"a"}`, 1},
		{`{"sub":"a","exp":"1700000010"}`, 1},
		{`{"sub":"a","exp":1700000010,"EXP":1}`, 1},
		{`[]`, 0},
	} {
		f.Add(seed.payload, seed.step)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	f.Fuzz(func(t *testing.T, payload string, step int64) {
		clk := newFakeClock(time.Unix(1_700_000_000, 0))
		cfg := Config{Secret: secret, Algorithms: []string{"HS256"}, Leeway: 3 * time.Second, Now: clk.now}
		cached := MustNew(cfg, WithCache(CacheOptions{MaxEntries: 8}))
		plain := MustNew(cfg)
		signing := header + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(signing))
		tok := signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		ctx := context.Background()
		for i := range 3 {
			got, gotErr := cached.Verify(ctx, tok)
			want, wantErr := plain.Verify(ctx, tok)
			switch {
			case (gotErr == nil) != (wantErr == nil):
				t.Fatalf("round %d: cached %v, uncached %v", i, gotErr, wantErr)
			case gotErr != nil:
				if g, w := auth.AsError(gotErr), auth.AsError(wantErr); g.Status != w.Status || g.Detail != w.Detail {
					t.Fatalf("round %d: cached %d %q, uncached %d %q", i, g.Status, g.Detail, w.Status, w.Detail)
				}
			case !reflect.DeepEqual(got, want):
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Fatalf("round %d: cached %s, uncached %s", i, g, w)
			default:
				clear(got) // a caller's change must not reach the next answer
			}
			clk.add(time.Duration(step) * time.Second)
		}
	})
}
