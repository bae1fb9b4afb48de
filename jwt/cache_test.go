package jwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/revoke"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.set(t)
	return c
}

func (c *fakeClock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// holds reports whether c holds raw, without counting a hit.
func (c *tokenCache) holds(raw string) bool {
	h := c.hash(raw)
	_, b := c.bucket(h)
	for i := range b {
		if e := b[i].Load(); e != nil && e.hash == h && e.raw == raw {
			return true
		}
	}
	return false
}

// entries returns the number of entries c holds and their cost.
func (c *tokenCache) entries() (n int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for j := range s.buckets {
			for k := range s.buckets[j] {
				if s.buckets[j][k].Load() != nil {
					n++
				}
			}
		}
		bytes += s.bytes
		s.mu.Unlock()
	}
	return n, bytes
}

// cacheGet serves GET / through h with tok as bearer token.
func cacheGet(h http.Handler, tok string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// wantCacheStatus asserts the status of w and, for a rejection, the
// problem's detail and challenge.
func wantCacheStatus(tb testing.TB, w *httptest.ResponseRecorder, status int, detail string) {
	tb.Helper()
	if w.Code != status {
		tb.Fatalf("status %d (%s); want %d", w.Code, w.Body, status)
	}
	if status == http.StatusOK {
		return
	}
	var p struct{ Detail string }
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Detail != detail {
		tb.Fatalf("problem %s; want detail %q", w.Body, detail)
	}
	if ch := w.Header().Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_token"`) {
		tb.Fatalf("WWW-Authenticate %q; want invalid_token", ch)
	}
}

// subEcho answers the sub claim.
var subEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c := auth.MustFrom[auth.Claims](r.Context())
	fmt.Fprint(w, c["sub"])
})

func hsCacheConfig(now func() time.Time) Config {
	return Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Algorithms: []string{"HS256"},
		IssuerURL: "https://issuer.example", Expiration: time.Minute, Now: now}
}

func TestCacheServesUntilExp(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	for _, leeway := range []time.Duration{NoLeeway, 0, 3 * time.Second} {
		t.Run("leeway="+leeway.String(), func(t *testing.T) {
			clk := newFakeClock(t0)
			cfg := hsCacheConfig(clk.now)
			cfg.Leeway = leeway
			a := MustNew(cfg, WithCache(CacheOptions{}))
			h := a.Guard(subEcho)
			tok, err := a.Encode(auth.Claims{"sub": "alice", "nbf": t0.Unix()}, 0) // exp = t0 + 1 min
			if err != nil {
				t.Fatal(err)
			}
			effective := a.v.leeway
			exp := t0.Add(time.Minute)

			wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
			if !a.cache.holds(tok) {
				t.Fatal("a verified token is not cached")
			}
			clk.set(exp.Add(effective - time.Nanosecond))
			wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
			if !a.cache.holds(tok) {
				t.Fatal("the token left the cache before its exp")
			}
			clk.set(exp.Add(effective)) // the parser's first rejected instant
			wantCacheStatus(t, cacheGet(h, tok), http.StatusUnauthorized, "Token has expired")
			if a.cache.holds(tok) {
				t.Fatal("an expired token stays cached")
			}
			// A clock set back before nbf (− leeway) must not be served
			// from the cache either.
			clk.set(t0)
			wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
			clk.set(t0.Add(-effective - time.Second))
			wantCacheStatus(t, cacheGet(h, tok), http.StatusUnauthorized, "Token is not valid yet")
		})
	}
}

// remoteCacheFixture is an auth over a remote key set served by a loopback
// server whose keys the test changes.
type remoteCacheFixture struct {
	srv  *jwksTestServer
	set  *RemoteKeySet
	auth *Auth
	keys map[string]*ecdsa.PrivateKey
}

func newRemoteCacheFixture(t *testing.T, kids ...string) *remoteCacheFixture {
	f := &remoteCacheFixture{keys: map[string]*ecdsa.PrivateKey{}}
	for _, kid := range kids {
		f.keys[kid] = mustP256(t)
	}
	f.srv = newJWKSTestServer(t, respondBody(f.jwks(t, kids...)))
	f.set = newRemoteTestSet(t, f.srv.URL, RemoteOptions{UnknownKIDInterval: time.Nanosecond})
	f.auth = MustNew(Config{KeySet: f.set, Algorithms: []string{"ES256"}}, WithCache(CacheOptions{}))
	return f
}

func mustP256(tb testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func (f *remoteCacheFixture) jwks(t *testing.T, kids ...string) []byte {
	var keys []any
	for _, kid := range kids {
		keys = append(keys, jwkOf(t, f.keys[kid].Public(), map[string]any{"kid": kid, "alg": "ES256"}))
	}
	return jwksJSON(t, keys...)
}

// publish makes the server serve kids and the set download them.
func (f *remoteCacheFixture) publish(t *testing.T, kids ...string) {
	f.srv.set(respondBody(f.jwks(t, kids...)))
	if err := f.set.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *remoteCacheFixture) sign(t testing.TB, kid, sub string) string {
	tok := gojwt.NewWithClaims(gojwt.SigningMethodES256, gojwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(f.keys[kid])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCacheDropsTokensOfRemovedKeys(t *testing.T) {
	f := newRemoteCacheFixture(t, "a", "b")
	h := f.auth.Guard(subEcho)
	ta, tb := f.sign(t, "a", "alice"), f.sign(t, "b", "bob")
	wantCacheStatus(t, cacheGet(h, ta), http.StatusOK, "")
	wantCacheStatus(t, cacheGet(h, tb), http.StatusOK, "")
	if !f.auth.cache.holds(ta) || !f.auth.cache.holds(tb) {
		t.Fatal("verified tokens are not cached")
	}

	// A refresh that keeps both keys keeps serving both from the cache.
	f.publish(t, "a", "b")
	wantCacheStatus(t, cacheGet(h, ta), http.StatusOK, "")
	if !f.auth.cache.holds(ta) {
		t.Fatal("a refresh that kept the key dropped its token")
	}

	// Key a leaves the set: its token stops at once, b's goes on.
	f.publish(t, "b")
	wantCacheStatus(t, cacheGet(h, ta), http.StatusUnauthorized, "Token signing key is unknown")
	if f.auth.cache.holds(ta) {
		t.Fatal("a token of a removed key stays cached")
	}
	wantCacheStatus(t, cacheGet(h, tb), http.StatusOK, "")

	// Key b is replaced by another key under the same kid: b's cached
	// token no longer verifies.
	f.keys["b"] = mustP256(t)
	f.publish(t, "b")
	wantCacheStatus(t, cacheGet(h, tb), http.StatusUnauthorized, "Token signature is invalid")
	if f.auth.cache.holds(tb) {
		t.Fatal("a token of a replaced key stays cached")
	}
}

// countingKeySet is a KeySet of another package: it returns key for kid
// "k" while present, and counts its lookups.
type countingKeySet struct {
	key     atomic.Pointer[ecdsa.PublicKey]
	lookups atomic.Int64
}

func (s *countingKeySet) VerificationKey(_ context.Context, kid, alg string) (any, error) {
	s.lookups.Add(1)
	if k := s.key.Load(); k != nil && kid == "k" {
		return k, nil
	}
	return nil, ErrKeyNotFound
}

func TestCacheAsksForeignKeySetsOnEveryHit(t *testing.T) {
	key := mustP256(t)
	set := &countingKeySet{}
	set.key.Store(&key.PublicKey)
	a := MustNew(Config{KeySet: set, Algorithms: []string{"ES256"}}, WithCache(CacheOptions{}))
	h := a.Guard(subEcho)
	tok := gojwt.NewWithClaims(gojwt.SigningMethodES256, gojwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k"
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	wantCacheStatus(t, cacheGet(h, raw), http.StatusOK, "")
	before := set.lookups.Load()
	wantCacheStatus(t, cacheGet(h, raw), http.StatusOK, "")
	if got := set.lookups.Load() - before; got != 1 || !a.cache.holds(raw) {
		t.Fatalf("a hit asked the set %d times (cached %v); want once, from the cache", got, a.cache.holds(raw))
	}
	set.key.Store(nil)
	wantCacheStatus(t, cacheGet(h, raw), http.StatusUnauthorized, "Token signing key is unknown")
}

func TestCacheRevokedTokenIsRejected(t *testing.T) {
	a := MustNew(hsCacheConfig(nil), WithCache(CacheOptions{}))
	list := revoke.NewMemory()
	h := auth.Then(a, revoke.Stage(list, revoke.FromClaims)).Guard(subEcho)
	tok, err := a.Encode(auth.Claims{"sub": "alice", "jti": "t-1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.Encode(auth.Claims{"sub": "bob", "jti": "t-2"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	if !a.cache.holds(tok) {
		t.Fatal("the token is not cached")
	}
	if err := list.RevokeToken(context.Background(), "t-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCacheStatus(t, cacheGet(h, tok), http.StatusUnauthorized, revoke.DetailRevoked)
	if !a.cache.holds(tok) {
		t.Fatal("the revoked token left the cache: the rejection did not come from a hit")
	}
	wantCacheStatus(t, cacheGet(h, other), http.StatusOK, "")
}

func TestCacheHandlersCannotChangeLaterRequests(t *testing.T) {
	a := MustNew(hsCacheConfig(nil), WithCache(CacheOptions{}))
	tok, err := a.Encode(auth.Claims{"sub": "alice", "groups": []any{"admins", "ops"},
		"ext": map[string]any{"tenant": "t1", "tags": []any{"x"}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := func(c auth.Claims) string {
		b, _ := json.Marshal(map[string]any{"sub": c["sub"], "groups": c["groups"], "ext": c["ext"]})
		return string(b)
	}
	first, _ := a.Verify(context.Background(), tok)
	golden := want(first)
	h := a.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := auth.MustFrom[auth.Claims](r.Context())
		if got := want(c); got != golden {
			t.Errorf("handler sees %s; want %s", got, golden)
		}
		c["sub"] = "mallory"
		delete(c, "exp")
		c["groups"].([]any)[0] = "root"
		c["ext"].(map[string]any)["tenant"] = "t2"
		c["ext"].(map[string]any)["tags"].([]any)[0] = "y"
	}))
	for range 3 {
		wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	}
	if !a.cache.holds(tok) {
		t.Fatal("the token is not cached")
	}
	// The claims of the miss were changed by its handler too: the cache
	// keeps a copy of its own.
	if got, _ := a.Verify(context.Background(), tok); want(got) != golden {
		t.Fatalf("Verify after handlers changed their claims: %s; want %s", want(got), golden)
	}
}

// TestCacheForgedTailIsNotServed presents tokens that end like a cached
// token (its signature, which the index hashes) with another header or
// payload: they share its bucket, and each is verified and refused, while
// the cached token keeps being served with its own claims.
func TestCacheForgedTailIsNotServed(t *testing.T) {
	a := MustNew(hsCacheConfig(nil), WithCache(CacheOptions{MaxEntries: 8}))
	tok, err := a.Encode(auth.Claims{"sub": "alice"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Guard(subEcho)
	wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	// Another header, the same payload and signature: the same last 64
	// bytes.
	_, rest, _ := strings.Cut(tok, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","x":1}`)) + "." + rest
	if a.cache.hash(forged) != a.cache.hash(tok) {
		t.Fatal("the forged token does not share the cached token's hash")
	}
	for range 3 {
		wantCacheStatus(t, cacheGet(h, forged), http.StatusUnauthorized, "Token signature is invalid")
		w := cacheGet(h, tok)
		wantCacheStatus(t, w, http.StatusOK, "")
		if w.Body.String() != "alice" {
			t.Fatalf("the cached token is served as %q; want alice", w.Body)
		}
	}
	if a.cache.holds(forged) {
		t.Fatal("the forged token was cached")
	}
}

// cachedUser is a typed principal with fields that share memory when
// copied: a slice and a pointer.
type cachedUser struct {
	RegisteredClaims
	Groups []string `json:"groups" validate:"required"`
}

func TestCacheTypedHitsAreIndependent(t *testing.T) {
	a, err := NewTyped[cachedUser](hsCacheConfig(nil), WithCache(CacheOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Encode(auth.Claims{"sub": "alice", "groups": []string{"admins"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler(func(w http.ResponseWriter, r *http.Request, u cachedUser) {
		if u.Subject != "alice" || len(u.Groups) != 1 || u.Groups[0] != "admins" || u.ExpiresAt == nil {
			t.Errorf("handler sees %+v", u)
		}
		u.Groups[0] = "root"
		u.ExpiresAt.Time = time.Time{}
		u.Audience = append(u.Audience, "x")
	})
	for range 3 {
		wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	}
	if !a.cache.holds(tok) {
		t.Fatal("the token is not cached")
	}
	// A token that fails its validate tags is never cached.
	bad, err := a.Encode(auth.Claims{"sub": "bob"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		wantCacheStatus(t, cacheGet(h, bad), http.StatusUnauthorized, "Invalid claims: groups is required")
	}
	if a.cache.holds(bad) {
		t.Fatal("a rejected token is cached")
	}
}

// opaqueUser keeps its groups in an unexported field, which the cache
// cannot copy: its hits decode the payload again.
type opaqueUser struct {
	RegisteredClaims
	groups []string
}

func (u *opaqueUser) UnmarshalJSON(b []byte) error {
	var v struct {
		RegisteredClaims
		Groups []string `json:"groups"`
	}
	err := json.Unmarshal(b, &v)
	u.RegisteredClaims, u.groups = v.RegisteredClaims, v.Groups
	return err
}

// dynamicUser's Extra is set by its UnmarshalJSON to a type encoding/json
// does not produce for an any, which the cache cannot copy.
type dynamicUser struct {
	RegisteredClaims
	Extra any `json:"-"`
}

func (u *dynamicUser) UnmarshalJSON(b []byte) error {
	var v struct {
		RegisteredClaims
		Groups []string `json:"groups"`
	}
	err := json.Unmarshal(b, &v)
	u.RegisteredClaims, u.Extra = v.RegisteredClaims, v.Groups
	return err
}

// TestCacheTypedFallsBackToDecoding serves repeated tokens through typed
// auths whose P the cache cannot copy: every hit gets a P of its own,
// decoded again from the cached payload.
func TestCacheTypedFallsBackToDecoding(t *testing.T) {
	t.Run("unexported slice", func(t *testing.T) {
		a := MustNewTyped[opaqueUser](hsCacheConfig(nil), WithCache(CacheOptions{}))
		if a.copyable {
			t.Fatal("opaqueUser is copyable")
		}
		tok, err := a.Encode(auth.Claims{"sub": "alice", "groups": []string{"admins"}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		h := a.Handler(func(w http.ResponseWriter, r *http.Request, u opaqueUser) {
			if u.Subject != "alice" || len(u.groups) != 1 || u.groups[0] != "admins" {
				t.Errorf("handler sees %+v", u)
			}
			u.groups[0] = "root"
		})
		for range 3 {
			wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
		}
		if !a.cache.holds(tok) {
			t.Fatal("the token is not cached")
		}
	})
	t.Run("foreign value in an interface", func(t *testing.T) {
		a := MustNewTyped[dynamicUser](hsCacheConfig(nil), WithCache(CacheOptions{}))
		if !a.copyable {
			t.Fatal("dynamicUser is not copyable")
		}
		tok, err := a.Encode(auth.Claims{"sub": "alice", "groups": []string{"admins"}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		h := a.Handler(func(w http.ResponseWriter, r *http.Request, u dynamicUser) {
			g, _ := u.Extra.([]string)
			if u.Subject != "alice" || len(g) != 1 || g[0] != "admins" {
				t.Errorf("handler sees %+v", u)
				return
			}
			g[0] = "root"
		})
		for range 3 {
			wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
		}
		if !a.cache.holds(tok) {
			t.Fatal("the token is not cached")
		}
	})
}

func TestCacheOptions(t *testing.T) {
	if _, err := New(hsCacheConfig(nil), WithCache(CacheOptions{MaxEntries: -1})); err == nil {
		t.Error("New accepted a negative MaxEntries")
	}
	if _, err := NewTyped[cachedUser](hsCacheConfig(nil), WithCache(CacheOptions{MaxBytes: -1})); err == nil {
		t.Error("NewTyped accepted a negative MaxBytes")
	}
	for _, tt := range []struct {
		opts    CacheOptions
		entries int
	}{
		{CacheOptions{}, DefaultCacheEntries},
		{CacheOptions{MaxEntries: 1}, 8},
		{CacheOptions{MaxEntries: 1000}, 512},
		{CacheOptions{MaxEntries: 1 << 20, MaxBytes: 1 << 20}, 1 << 20},
	} {
		a := MustNew(hsCacheConfig(nil), WithCache(tt.opts))
		c := a.cache
		if got := len(c.shards) * len(c.shards[0].buckets) * cacheWays; got != tt.entries {
			t.Errorf("%+v: capacity %d; want %d", tt.opts, got, tt.entries)
		}
		var budget int64
		for i := range c.shards {
			budget += c.shards[i].budget
		}
		want := cmpOr(tt.opts.MaxBytes, DefaultCacheBytes)
		if budget > want || budget < want-int64(len(c.shards)) {
			t.Errorf("%+v: byte budget %d; want %d", tt.opts, budget, want)
		}
	}
	// More distinct tokens than MaxEntries: the cache holds at most
	// MaxEntries.
	a := MustNew(hsCacheConfig(nil), WithCache(CacheOptions{MaxEntries: 64}))
	for i := range 500 {
		tok, err := a.Encode(auth.Claims{"sub": strconv.Itoa(i)}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := a.cache.entries(); n > 64 || n < 32 {
		t.Errorf("cache of 64 entries holds %d after 500 tokens", n)
	}
}

func cmpOr(a, b int64) int64 {
	if a != 0 {
		return a
	}
	return b
}

// TestCacheFloodKeepsBoundsAndHotToken floods a cache with 1,000,000
// distinct verified-token entries of realistic size (a token of about 500
// bytes and its decoded claims, built as a miss builds them, without the
// signature arithmetic, which the bound does not depend on) while a real
// token is requested every 1,000 entries. The heap the cache holds,
// measured after a collection, stays within MaxBytes, and the hot token is
// served from the cache throughout.
func TestCacheFloodKeepsBoundsAndHotToken(t *testing.T) {
	const maxBytes = 8 << 20
	clk := newFakeClock(time.Now()) // stopped: the flood may be slow under -race
	a := MustNew(hsCacheConfig(clk.now), WithCache(CacheOptions{MaxEntries: 1 << 20, MaxBytes: maxBytes}))
	c := a.cache
	hot, err := a.Encode(auth.Claims{"sub": "hot", "scope": "items:read items:write"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Guard(subEcho)
	wantCacheStatus(t, cacheGet(h, hot), http.StatusOK, "")

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	padding := strings.Repeat("x", 300)
	exp := gojwt.NewNumericDate(clk.now().Add(time.Hour))
	const flood = 1_000_000
	// The claims of each entry: the cache holds a copy of its own, as
	// for a miss, so one map serves as the decoded claims of every token.
	claims := map[string]any{"iss": "https://issuer.example", "exp": float64(exp.Unix()), "iat": float64(clk.now().Unix()),
		"scope": "items:read items:write", "aud": "https://api.example"}
	for i := range flood {
		// A distinct token of about 500 bytes and the claims a miss
		// would cache for it. Like tokens that verify, each has a
		// signature of its own (the index hashes the signature).
		n := strconv.Itoa(i)
		raw := "eyJhbGciOiJIUzI1NiJ9." + n + padding + ".c2lnbmF0dXJlLW9mLWEtbWlzcy1vZi10aGUtZmxvb2QtdGVzdA" + n
		claims["sub"], claims["jti"] = "user-"+n, n+"-8d2f4c1e-6b7a"
		rec := verified{key: c.v.local.index().all[0].key, alg: lookupAlgorithm("HS256"), exp: exp}
		e := c.newEntry(c.hash(raw), raw, &rec, nil)
		if !e.keepClaims(claims) {
			t.Fatal("the flood's claims cannot be kept")
		}
		c.add(e)
		if i%1000 == 999 {
			if !c.holds(hot) {
				t.Fatalf("the hot token was evicted after %d flood entries", i+1)
			}
			wantCacheStatus(t, cacheGet(h, hot), http.StatusOK, "")
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	n, accounted := c.entries()
	t.Logf("after %d entries: %d cached, %d bytes accounted, heap grew by %d bytes (bound %d)", flood, n, accounted, held, maxBytes)
	if accounted > maxBytes {
		t.Errorf("entries account for %d bytes; bound %d", accounted, maxBytes)
	}
	if held > maxBytes {
		t.Errorf("heap grew by %d bytes; the cache's bound is %d", held, maxBytes)
	}
	if n < flood/1000 {
		t.Errorf("only %d entries cached: the bound is far from used", n)
	}
	if !c.holds(hot) {
		t.Error("the hot token was evicted")
	}
	runtime.KeepAlive(a)
}

// TestCacheConcurrentHitsMissesAndRotation serves hot tokens, fresh tokens
// and tokens of a key that comes and goes, from several goroutines, while
// the remote set rotates. Run with -race: there is no data race, every
// request sees claims no other handler changed, and a token of a key that
// is absent from the set is never served.
func TestCacheConcurrentHitsMissesAndRotation(t *testing.T) {
	f := newRemoteCacheFixture(t, "stable", "rotating")
	// phase counts the changes of the rotating key's presence: odd while
	// the set surely lacks it (raised after a removal, and again before an
	// addition). A request that sees the same odd phase before and after
	// it ran wholly while the key was absent; a boolean would also match a
	// slow request that spans a whole present phase.
	var phase atomic.Int64
	var seen sync.Map // sub → the claims JSON every request must see
	h := f.auth.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := auth.MustFrom[auth.Claims](r.Context())
		b, _ := json.Marshal(c)
		if prev, loaded := seen.LoadOrStore(c["sub"], string(b)); loaded && prev.(string) != string(b) {
			t.Errorf("claims changed between requests: %s then %s", prev, b)
		}
		c["sub"] = "changed"
		c["exp"] = 0.0
		fmt.Fprint(w, "ok")
	}))
	hot := []string{f.sign(t, "stable", "hot-1"), f.sign(t, "stable", "hot-2")}
	rotating := f.sign(t, "rotating", "rot")

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := hot[i%len(hot)]
				if i%10 == 0 {
					tok = f.sign(t, "stable", fmt.Sprintf("fresh-%d-%d", g, i))
				}
				if w := cacheGet(h, tok); w.Code != http.StatusOK {
					t.Errorf("stable token: status %d", w.Code)
					return
				}
				// A token of the rotating key: rejected when its key was
				// absent for the whole request.
				before := phase.Load()
				w := cacheGet(h, rotating)
				if before%2 == 1 && phase.Load() == before && w.Code == http.StatusOK {
					t.Error("a token of a removed key was served")
					return
				}
			}
		})
	}
	for i := range 20 {
		if i%2 == 0 {
			f.publish(t, "stable")
			phase.Add(1) // odd: absent
		} else {
			phase.Add(1) // even: present, or about to be
			f.publish(t, "stable", "rotating")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
}

// BenchmarkCachedTyped compares a repeated token through a TypedAuth with
// and without the cache: a hit decodes the cached payload into a new P.
func BenchmarkCachedTyped(b *testing.B) {
	for _, opts := range [][]Option{nil, {WithCache(CacheOptions{})}} {
		name := "uncached"
		if opts != nil {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) {
			a, err := NewTyped[cachedUser](hsCacheConfig(nil), opts...)
			if err != nil {
				b.Fatal(err)
			}
			tok, err := a.Encode(auth.Claims{"sub": "alice", "aud": "https://api.example", "groups": []string{"admins", "ops"},
				"jti": "5f1c0e1e-7d27-4f6c-9d54-0c7a1a2b3c4d", "scope": "items:read items:write"}, 0)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if u, err := a.Verify(ctx, tok); err != nil || u.Subject != "alice" {
					b.Fatal(u, err)
				}
			}
		})
	}
}

// BenchmarkCachedGuard serves a repeated token through a cached Guard,
// serially and in parallel.
func BenchmarkCachedGuard(b *testing.B) {
	a := MustNew(hsCacheConfig(nil), WithCache(CacheOptions{}))
	tok, err := a.Encode(auth.Claims{"sub": "alice", "aud": "https://api.example", "jti": "5f1c0e1e-7d27-4f6c-9d54-0c7a1a2b3c4d",
		"scope": "items:read items:write"}, 0)
	if err != nil {
		b.Fatal(err)
	}
	h := a.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := auth.From[auth.Claims](r.Context())
		if c["sub"] != "alice" {
			b.Error("no sub")
		}
	}))
	b.Run("serial", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			for pb.Next() {
				h.ServeHTTP(w, r)
			}
		})
	})
}

// suspended lists the subjects that validatedUser's Validate method refuses,
// as an account check outside the token would.
var suspended sync.Map

type validatedUser struct {
	RegisteredClaims
}

func (u validatedUser) Validate() error {
	if _, ok := suspended.Load(u.Subject); ok {
		return errors.New("account suspended")
	}
	return nil
}

// TestCacheRunsValidateOnHits checks that a Validate method, which the
// parser calls on a miss, is called on every hit too: its verdict may
// change while the token is cached.
func TestCacheRunsValidateOnHits(t *testing.T) {
	a, err := NewTyped[validatedUser](hsCacheConfig(nil), WithCache(CacheOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Encode(auth.Claims{"sub": "carol"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler(func(w http.ResponseWriter, r *http.Request, u validatedUser) {})
	for range 2 {
		wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	}
	if !a.cache.holds(tok) {
		t.Fatal("the token is not cached")
	}
	uncached := MustNewTyped[validatedUser](hsCacheConfig(nil))
	suspended.Store("carol", true)
	t.Cleanup(func() { suspended.Delete("carol") })
	want := cacheGet(uncached.Handler(func(w http.ResponseWriter, r *http.Request, u validatedUser) {}), tok)
	if want.Code != http.StatusUnauthorized {
		t.Fatalf("uncached answer after suspension: %d; want 401", want.Code)
	}
	for range 2 {
		got := cacheGet(h, tok)
		if got.Code != want.Code || got.Body.String() != want.Body.String() || got.Header().Get("WWW-Authenticate") != want.Header().Get("WWW-Authenticate") {
			t.Errorf("cached answer after suspension: %d %s; want the uncached %d %s", got.Code, got.Body, want.Code, want.Body)
		}
	}
	if a.cache.holds(tok) {
		t.Error("a token its Validate method refuses is still cached")
	}
}

// numsUser decodes an array of numbers into []any, where every element
// takes 24 bytes (its interface and the boxed float64) for the 2 bytes of
// "1," in the payload.
type numsUser struct {
	RegisteredClaims
	Nums []any          `json:"nums"`
	Tags map[string]int `json:"tags"`
}

// TestCacheTypedKeepsMemoryBound fills a typed auth's cache with real
// tokens whose decoded P is many times larger than their payload, and
// checks that the heap the cache holds stays within MaxBytes: an entry is
// counted by what its P holds, not by the payload's length.
func TestCacheTypedKeepsMemoryBound(t *testing.T) {
	const maxBytes = 1 << 20
	a := MustNewTyped[numsUser](hsCacheConfig(nil), WithCache(CacheOptions{MaxBytes: maxBytes}))
	nums := make([]any, 1500)
	for i := range nums {
		nums[i] = 1
	}
	tags := map[string]any{}
	for i := range 200 {
		tags[strconv.Itoa(i)] = 1
	}
	h := a.Handler(func(w http.ResponseWriter, r *http.Request, u numsUser) {})
	wantHeldWithin(t, a.cache, maxBytes, 400, func(i int) {
		tok, err := a.Encode(auth.Claims{"sub": strconv.Itoa(i), "nums": nums, "tags": tags}, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	})
	runtime.KeepAlive(a)
}

// TestCacheClaimsKeepsMemoryBound is TestCacheTypedKeepsMemoryBound for a
// claims map holding many small objects: each {"a":1} takes a map of 8
// slots, some 300 bytes, for the 8 bytes of its JSON.
func TestCacheClaimsKeepsMemoryBound(t *testing.T) {
	const maxBytes = 1 << 20
	a := MustNew(hsCacheConfig(nil), WithCache(CacheOptions{MaxBytes: maxBytes}))
	objs := make([]any, 600)
	for i := range objs {
		objs[i] = map[string]any{"a": 1}
	}
	h := a.Guard(subEcho)
	wantHeldWithin(t, a.cache, maxBytes, 400, func(i int) {
		tok, err := a.Encode(auth.Claims{"sub": strconv.Itoa(i), "objs": objs}, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	})
	runtime.KeepAlive(a)
}

// TestCacheKeepsNoRequestMemory sends each token after a long run of
// spaces, which the Authorization header's syntax allows between the
// scheme and the token: the token the scheme returns is then a piece of
// the header's value, and an entry that kept that piece would keep the
// whole header alive (up to net/http's 1 MB of headers), uncounted.
func TestCacheKeepsNoRequestMemory(t *testing.T) {
	const maxBytes = 1 << 20
	a := MustNew(hsCacheConfig(nil), WithCache(CacheOptions{MaxBytes: maxBytes}))
	h := a.Guard(subEcho)
	wantHeldWithin(t, a.cache, maxBytes, 40, func(i int) {
		tok, err := a.Encode(auth.Claims{"sub": strconv.Itoa(i)}, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer"+strings.Repeat(" ", 64<<10)+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		wantCacheStatus(t, w, http.StatusOK, "")
		if !a.cache.holds(tok) {
			t.Fatal("the token is not cached")
		}
	})
	runtime.KeepAlive(a)
}

// wantHeldWithin runs fill n times (each call caching a token of its own),
// then checks that the heap grew by at most maxBytes, measured after a
// collection, and that c holds entries.
func wantHeldWithin(t *testing.T, c *tokenCache, maxBytes int64, n int, fill func(i int)) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		fill(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	cached, accounted := c.entries()
	t.Logf("%d cached, %d bytes accounted, heap grew by %d bytes (bound %d)", cached, accounted, held, maxBytes)
	if held > maxBytes {
		t.Errorf("heap grew by %d bytes; the cache's bound is %d", held, maxBytes)
	}
	if cached == 0 {
		t.Error("nothing cached")
	}
}

// denyingKeySet is a KeySet of another package built on this package's
// MemoryKeySet: its own VerificationKey refuses the kids it denies, as a
// key revocation list would.
type denyingKeySet struct {
	*MemoryKeySet
	denied sync.Map
}

func (s *denyingKeySet) VerificationKey(ctx context.Context, kid, alg string) (any, error) {
	if _, ok := s.denied.Load(kid); ok {
		return nil, ErrKeyNotFound
	}
	return s.MemoryKeySet.VerificationKey(ctx, kid, alg)
}

// TestCacheAsksEmbeddingKeySetsOnEveryHit checks that a KeySet that embeds
// a MemoryKeySet but answers lookups its own way is asked on every hit,
// like any KeySet of another package: its answer may change while the
// embedded keys do not.
func TestCacheAsksEmbeddingKeySetsOnEveryHit(t *testing.T) {
	key := mustP256(t)
	mem, err := ParseKeySet(jwksJSON(t, jwkOf(t, key.Public(), map[string]any{"kid": "k", "alg": "ES256"})))
	if err != nil {
		t.Fatal(err)
	}
	set := &denyingKeySet{MemoryKeySet: mem}
	a := MustNew(Config{KeySet: set, Algorithms: []string{"ES256"}}, WithCache(CacheOptions{}))
	h := a.Guard(subEcho)
	tok := gojwt.NewWithClaims(gojwt.SigningMethodES256, gojwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k"
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		wantCacheStatus(t, cacheGet(h, raw), http.StatusOK, "")
	}
	if !a.cache.holds(raw) {
		t.Fatal("the token is not cached")
	}
	set.denied.Store("k", true)
	wantCacheStatus(t, cacheGet(h, raw), http.StatusUnauthorized, "Token signing key is unknown")
	if a.cache.holds(raw) {
		t.Error("a token whose key the set refuses stays cached")
	}
}

// sessionUser's session must lie in the future: the validator compares a
// time.Time with gt to the time of each validation, not to the token's.
type sessionUser struct {
	RegisteredClaims
	Session time.Time `json:"session" validate:"gt"`
}

// TestCacheRunsTimedValidateTagsOnHits checks that validate tags whose
// verdict depends on the time (gt, gte, lt, lte on a time.Time) are checked
// again on every hit: once the session is over, a cached token gets the
// same 401 as an uncached one.
func TestCacheRunsTimedValidateTagsOnHits(t *testing.T) {
	t.Parallel() // it waits for the wall clock, which the validator reads
	a := MustNewTyped[sessionUser](hsCacheConfig(nil), WithCache(CacheOptions{}))
	if a.timed != true {
		t.Error("sessionUser's validate tags are not known to depend on the time")
	}
	if b := MustNewTyped[cachedUser](hsCacheConfig(nil), WithCache(CacheOptions{})); b.timed {
		t.Error("cachedUser's validate tags are taken to depend on the time")
	}
	end := time.Now().Add(time.Second)
	tok, err := a.Encode(auth.Claims{"sub": "alice", "session": end}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler(func(w http.ResponseWriter, r *http.Request, u sessionUser) {})
	for range 2 {
		wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	}
	if !a.cache.holds(tok) {
		t.Fatal("the token is not cached")
	}
	time.Sleep(time.Until(end) + 10*time.Millisecond)
	uncached := MustNewTyped[sessionUser](hsCacheConfig(nil))
	wantCacheStatus(t, cacheGet(uncached.Handler(func(w http.ResponseWriter, r *http.Request, u sessionUser) {}), tok),
		http.StatusUnauthorized, "Invalid claims: session fails gt")
	wantCacheStatus(t, cacheGet(h, tok), http.StatusUnauthorized, "Invalid claims: session fails gt")
	if a.cache.holds(tok) {
		t.Error("a token its validate tags now refuse is still cached")
	}
}
