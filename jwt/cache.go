package jwt

import (
	"context"
	"crypto"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"hash/maphash"
	"maps"
	"math/bits"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
)

// Defaults of [CacheOptions].
const (
	// DefaultCacheEntries is the most tokens a cache holds unless
	// [CacheOptions.MaxEntries] says otherwise.
	DefaultCacheEntries = 16384

	// DefaultCacheBytes is the most memory, in bytes, that the entries of a
	// cache account for unless [CacheOptions.MaxBytes] says otherwise.
	DefaultCacheBytes = 32 << 20
)

// CacheOptions bound the verified-token cache of [WithCache]. The zero
// value is the default: at most [DefaultCacheEntries] tokens and
// [DefaultCacheBytes] bytes, whichever is reached first.
type CacheOptions struct {
	// MaxEntries is the most tokens the cache holds. Zero means
	// [DefaultCacheEntries]. It is rounded down to a power of two, and to
	// at least 8.
	MaxEntries int

	// MaxBytes bounds the memory held by the cache's entries: each entry
	// counts the token, the cached claims (the decoded map, or a typed
	// auth's P, counted as its size and what its slices, maps, pointers,
	// interfaces and strings hold, or the payload itself) and its own
	// bookkeeping. Zero means [DefaultCacheBytes]. The bound is split
	// between 1 to 16 shards, and a token whose entry would exceed its
	// shard's share is verified but not cached.
	MaxBytes int64
}

// WithCache caches verified tokens, so that a token presented again (a
// client sends the same access token on every request while it lives) skips
// the signature check and the decoding of its claims: a hit costs a hash of
// the token's end, a comparison with the cached token and a copy of its claims,
// about a microsecond, where a verification costs from 10 µs (HS256) to
// 100 µs (ES256). Only verified tokens are cached; a rejected token is
// verified again each time it is presented.
//
// Entries are found by a keyed hash of the token's last 64 bytes, its
// signature (a seed drawn for each cache, so that nobody can choose tokens
// that collide), and the whole token is compared on a hit. On every hit:
//   - exp, nbf and iat are checked again against the Config's clock with
//     the Config's leeway, exactly as the parser checks them: a token is
//     never served once it has expired;
//   - the key that verified the token must still be the one its kid and
//     alg select: when a [RemoteKeySet] or [MemoryKeySet] changes its keys
//     (a rotation, a refresh, a KeyDelete), the first hit of each entry
//     looks its key up again in memory, and an entry whose key has left the
//     set, or been replaced, is dropped and the token verified anew (and so
//     rejected when its key is gone). A [KeySet] of another package
//     (a type that embeds one of these two included) is asked for the
//     key on every hit. Local keys never change;
//   - the result is the one a miss gives: [Auth] hands every request its
//     own copy of the cached claims map (nested arrays and objects
//     included), so that a handler that changes the map cannot change what
//     the next request sees; the copy costs about 100 ns and 2 allocations
//     for a token of 8 claims. [TypedAuth] keeps a copy of the P it
//     decoded and hands every request a deep copy of it (pointers, slices,
//     maps and the JSON values of interface fields are copied), so that a
//     handler that changes its P cannot change the next request's; the copy
//     costs an allocation for each of them, under a microsecond for
//     [RegisteredClaims] and a slice field (BenchmarkCachedTyped). Its
//     validate tags, a function of P, are not run again, unless one of
//     them compares a time.Time with the clock (gt, gte, lt, lte); a
//     Validate method that golang-jwt calls on a miss is called again (on
//     a copy of a P it has accepted before: it should not change its
//     receiver), and a hit either refuses is verified anew. A P that cannot be copied so
//     (one with a func or a channel, a recursive type, a pointer, slice,
//     map or interface in an unexported field, or an interface field that
//     holds a value encoding/json does not produce) has its JSON payload
//     decoded again on each hit instead, which costs what encoding/json
//     costs for P.
//
// Stages added with [auth.Then], such as the revocation check of package
// revoke, run after the cache, on hits as on misses.
//
// The cache is bounded both in entries and in bytes ([CacheOptions]).
// Eviction keeps a hot working set under a flood of distinct tokens: each
// token hashes to one bucket of 8 entries, and each entry has a small
// frequency counter (0 to 3) that hits raise. To make room, an expired
// entry goes first, then the oldest entry that was never hit again since
// it was cached or since the counters were last lowered; only when every
// entry of the bucket has been hit are the counters lowered by one, as the
// main queue of S3-FIFO does. A flood of tokens that are each sent once
// therefore evicts only its own kind, while a token hit between two
// floods' worth of insertions stays. Hits take no lock: buckets are arrays
// of atomic pointers, entries never change once published (but for their
// counter), and a hit writes nothing once its entry's counter is at 3, so
// hits scale with cores. Misses lock one of up to 16 shards to insert.
//
// [New] and [NewTyped] fail when MaxEntries or MaxBytes is negative.
func WithCache(o CacheOptions) Option {
	return optionFunc(func(opts *options) { opts.cache = &o })
}

// newCache returns the cache WithCache asked for, or nil.
func (o *options) newCache(v *verifier) (*tokenCache, error) {
	if o.cache == nil {
		return nil, nil
	}
	if o.cache.MaxEntries < 0 || o.cache.MaxBytes < 0 {
		return nil, errors.New("jwt: CacheOptions has a negative MaxEntries or MaxBytes")
	}
	return newTokenCache(*o.cache, v), nil
}

// cacheWays is the number of entries of a bucket.
const cacheWays = 8

// maxFreq is the highest value of an entry's frequency counter.
const maxFreq = 3

// minShardBytes is the least share of MaxBytes a shard gets, so that a
// shard can hold several of the largest tokens; there are fewer shards
// when MaxBytes is small.
const minShardBytes = 256 << 10

// maxShards bounds the number of shards. Shards only spread the locking of
// misses; hits take no lock.
const maxShards = 16

// tokenCache holds verified tokens. See WithCache.
type tokenCache struct {
	v          *verifier
	seed       maphash.Seed
	shards     []cacheShard
	shardMask  uint64
	bucketMask uint64 // of the buckets of one shard
}

// cacheShard is a share of the buckets and of the byte budget.
type cacheShard struct {
	mu      sync.Mutex // held by writers only
	buckets []cacheBucket
	bytes   int64  // cost of the entries held; under mu
	budget  int64  // the shard's share of MaxBytes
	hand    int    // the next bucket swept to free bytes; under mu
	seq     uint64 // insertion counter; under mu
	_       [64]byte
}

// cacheBucket is a set of 8 entries. Readers load the pointers without a
// lock; writers store them under the shard's lock.
type cacheBucket [cacheWays]atomic.Pointer[cacheEntry]

// cacheEntry is one verified token. Every field but freq and keys is
// written before the entry is published and never again.
type cacheEntry struct {
	hash uint64
	raw  string

	claims  auth.Claims // Auth: a private copy, never handed out
	nested  bool        // claims holds arrays or objects, copied deeply
	value   any         // TypedAuth: a *P of its own, never handed out
	payload []byte      // TypedAuth, when P cannot be copied: the JSON payload

	hasExp    bool
	expires   time.Time // exp + leeway: served while now is before it
	notBefore time.Time // the later of nbf − leeway and iat − leeway

	key     any        // the key that verified the token
	kid     string     // the token's kid, "" when it has none
	alg     *algorithm // the token's alg
	fromSet bool       // key came from Config.KeySet, not the local keys
	// keys is the index of the verifier's own KeySet under which key was
	// last found (nil for local keys and other packages' sets).
	keys atomic.Pointer[keyIndex]

	freq atomic.Uint32
	seq  uint64 // insertion order in the shard
	cost int64
}

// entryOverhead is what an entry costs besides its token and claims: the
// entry itself, its slot, and rounding of allocations.
const entryOverhead = 256

func newTokenCache(o CacheOptions, v *verifier) *tokenCache {
	entries, maxBytes := o.MaxEntries, o.MaxBytes
	if entries == 0 {
		entries = DefaultCacheEntries
	}
	if maxBytes == 0 {
		maxBytes = DefaultCacheBytes
	}
	buckets := floorPow2(max(entries/cacheWays, 1))
	shards := min(maxShards, buckets, floorPow2(int(max(maxBytes/minShardBytes, 1))))
	c := &tokenCache{
		v:          v,
		seed:       maphash.MakeSeed(),
		shards:     make([]cacheShard, shards),
		shardMask:  uint64(shards - 1),
		bucketMask: uint64(buckets/shards - 1),
	}
	for i := range c.shards {
		c.shards[i].buckets = make([]cacheBucket, buckets/shards)
		c.shards[i].budget = maxBytes / int64(shards)
	}
	return c
}

func floorPow2(n int) int {
	if n < 1 {
		return 1
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// hashedTail is how many bytes at the end of a token the index hashes.
const hashedTail = 64

// hash is the keyed hash that indexes raw: that of its last 64 bytes,
// which hold its signature (or the end of it). Distinct tokens that verify
// have distinct signatures, and only the key's holder makes them; a token
// that shares a tail with a cached one (anyone can forge that) only shares
// its bucket, since a hit compares the whole token. Hashing the whole
// token would cost as much as the rest of a hit for a 1 KiB token.
func (c *tokenCache) hash(raw string) uint64 {
	return maphash.String(c.seed, raw[max(len(raw)-hashedTail, 0):])
}

func (c *tokenCache) bucket(h uint64) (*cacheShard, *cacheBucket) {
	s := &c.shards[h&c.shardMask]
	return s, &s.buckets[(h>>32)&c.bucketMask]
}

// lookup returns the entry of raw, whose hash is h, or nil. It takes no
// lock, and writes only to raise the entry's counter below maxFreq.
func (c *tokenCache) lookup(h uint64, raw string) *cacheEntry {
	_, b := c.bucket(h)
	for i := range b {
		if e := b[i].Load(); e != nil && e.hash == h && e.raw == raw {
			if f := e.freq.Load(); f < maxFreq {
				e.freq.CompareAndSwap(f, f+1)
			}
			return e
		}
	}
	return nil
}

// usable reports whether e may be served now: its times hold against the
// clock, and its key is still the one that verifies it. An entry that may
// not is removed, so that the caller verifies the token anew.
func (c *tokenCache) usable(ctx context.Context, e *cacheEntry) bool {
	now := c.v.now()
	if (e.hasExp && !now.Before(e.expires)) || now.Before(e.notBefore) || !c.keyHolds(ctx, e) {
		c.remove(e)
		return false
	}
	return true
}

// keyHolds reports whether the key that verified e would still be chosen
// for its kid and alg. Local keys never change. For this package's own
// sets, an unchanged index (one pointer comparison) says yes; after a
// change, and for other sets on every hit, the key is looked up again as a
// verification looks it up.
func (c *tokenCache) keyHolds(ctx context.Context, e *cacheEntry) bool {
	if !e.fromSet {
		return true
	}
	x := c.snapshot()
	if x != nil && x == e.keys.Load() {
		return true
	}
	key, fromSet, err := c.v.lookup(ctx, e.kid, e.alg)
	if err != nil || !fromSet || !sameKey(key, e.key) {
		return false
	}
	if x != nil {
		e.keys.Store(x)
	}
	return true
}

// sameKey reports whether a and b are the same verification key.
func sameKey(a, b any) bool {
	switch a := a.(type) {
	case []byte:
		b, ok := b.([]byte)
		return ok && subtle.ConstantTimeCompare(a, b) == 1
	case interface{ Equal(crypto.PublicKey) bool }:
		return a.Equal(b)
	}
	return false
}

// verified records what a successful verification relied on, for the
// cache: filled by [verifier.parseRecording].
type verified struct {
	key           any
	fromSet       bool // key came from Config.KeySet
	kid           string
	alg           *algorithm
	exp, nbf, iat *gojwt.NumericDate
}

// keyed records the key that the parser got for t, and where from.
func (r *verified) keyed(t *gojwt.Token, key any, fromSet bool) {
	r.key, r.fromSet = key, fromSet
	r.kid, _ = t.Header["kid"].(string)
	r.alg = lookupAlgorithm(t.Method.Alg())
}

// timed records the times of the verified claims.
func (r *verified) timed(claims gojwt.Claims) {
	r.exp, _ = claims.GetExpirationTime()
	r.nbf, _ = claims.GetNotBefore()
	r.iat, _ = claims.GetIssuedAt()
}

// snapshot returns the index of the verifier's own KeySet, taken before a
// verification: an entry is stamped with it, so that a change of keys
// during the verification makes the entry's first hit look its key up
// again.
func (c *tokenCache) snapshot() *keyIndex {
	if c.v.own == nil {
		return nil
	}
	return c.v.own.index()
}

// newEntry returns the entry of a token verified as rec says, with keys
// the snapshot taken before verifying it.
func (c *tokenCache) newEntry(h uint64, raw string, rec *verified, keys *keyIndex) *cacheEntry {
	// raw may be a piece of a request's header or query, which the entry
	// must not keep alive: it keeps a copy.
	e := &cacheEntry{hash: h, raw: strings.Clone(raw), key: rec.key, kid: rec.kid, alg: rec.alg}
	if rec.exp != nil {
		e.hasExp, e.expires = true, rec.exp.Add(c.v.leeway)
	}
	if rec.nbf != nil {
		e.notBefore = rec.nbf.Add(-c.v.leeway)
	}
	if rec.iat != nil {
		if t := rec.iat.Add(-c.v.leeway); t.After(e.notBefore) {
			e.notBefore = t
		}
	}
	e.fromSet = rec.fromSet
	if e.fromSet {
		e.keys.Store(keys)
	}
	return e
}

// add publishes e, evicting what it must to keep the bounds.
func (c *tokenCache) add(e *cacheEntry) {
	s, b := c.bucket(e.hash)
	e.cost += entryOverhead + int64(len(e.raw))
	if e.cost > s.budget {
		return // larger than the shard's share: verified every time
	}
	now := c.v.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	slot := -1
	for i := range b {
		x := b[i].Load()
		if x == nil {
			if slot < 0 {
				slot = i
			}
		} else if x.hash == e.hash && x.raw == e.raw {
			slot = i // the same token, verified by a concurrent miss
			break
		}
	}
	if slot < 0 {
		slot = victim(b, now, nil)
	}
	s.evict(b, slot)
	s.seq++
	e.seq = s.seq
	b[slot].Store(e)
	s.bytes += e.cost
	// Free bytes by sweeping the shard's buckets in turn, with the rule of
	// victim. Each full sweep lowers every counter, so that it ends; in
	// case concurrent hits keep raising them, the bound on steps forces an
	// eviction.
	limit := (maxFreq + 2) * len(s.buckets)
	for step := 0; s.bytes > s.budget; step++ {
		sb := &s.buckets[s.hand]
		s.hand = (s.hand + 1) % len(s.buckets)
		if i := sweepVictim(sb, now, e, step >= limit); i >= 0 {
			s.evict(sb, i)
		}
	}
}

// evict empties slot i of b. s.mu must be held.
func (s *cacheShard) evict(b *cacheBucket, i int) {
	if x := b[i].Swap(nil); x != nil {
		s.bytes -= x.cost
	}
}

// remove drops e from the cache, if it is still there.
func (c *tokenCache) remove(e *cacheEntry) {
	s, b := c.bucket(e.hash)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b {
		if b[i].Load() == e {
			s.evict(b, i)
			return
		}
	}
}

// victim returns the slot of a full bucket to reuse: an expired entry,
// else the oldest entry whose counter is 0; when every counter is above 0,
// it lowers them all by one and looks again. keep is never chosen.
func victim(b *cacheBucket, now time.Time, keep *cacheEntry) int {
	for range maxFreq + 1 {
		if i := coldest(b, now, keep); i >= 0 {
			return i
		}
		cool(b)
	}
	return oldest(b, keep) // concurrent hits raised the counters again
}

// sweepVictim is victim for the byte sweep: it lowers the counters of a
// bucket without a cold entry and moves on (returning -1), unless force.
func sweepVictim(b *cacheBucket, now time.Time, keep *cacheEntry, force bool) int {
	if i := coldest(b, now, keep); i >= 0 {
		return i
	}
	if force {
		return oldest(b, keep)
	}
	cool(b)
	return -1
}

// coldest returns an expired entry of b, else its oldest entry with a
// counter of 0, else -1.
func coldest(b *cacheBucket, now time.Time, keep *cacheEntry) int {
	best := -1
	var bestSeq uint64
	for i := range b {
		x := b[i].Load()
		switch {
		case x == nil || x == keep:
			continue
		case x.hasExp && !now.Before(x.expires):
			return i
		case x.freq.Load() == 0 && (best < 0 || x.seq < bestSeq):
			best, bestSeq = i, x.seq
		}
	}
	return best
}

// oldest returns the oldest entry of b other than keep, or -1.
func oldest(b *cacheBucket, keep *cacheEntry) int {
	best := -1
	var bestSeq uint64
	for i := range b {
		if x := b[i].Load(); x != nil && x != keep && (best < 0 || x.seq < bestSeq) {
			best, bestSeq = i, x.seq
		}
	}
	return best
}

// cool lowers the counter of every entry of b by one.
func cool(b *cacheBucket) {
	for i := range b {
		if x := b[i].Load(); x != nil {
			for f := x.freq.Load(); f > 0 && !x.freq.CompareAndSwap(f, f-1); f = x.freq.Load() {
			}
		}
	}
}

// verifyCached is Auth.verify through the cache.
func (a *Auth) verifyCached(ctx context.Context, raw string) (auth.Claims, error) {
	c := a.cache
	h := c.hash(raw)
	if e := c.lookup(h, raw); e != nil && c.usable(ctx, e) {
		return e.copyClaims(), nil
	}
	keys := c.snapshot()
	var rec verified
	claims, err := a.verifyRecording(ctx, raw, &rec)
	if err != nil {
		return nil, err
	}
	if e := c.newEntry(h, raw, &rec, keys); e.keepClaims(claims) {
		c.add(e)
	}
	return claims, nil
}

// keepClaims stores a copy of claims in e, which the handler of the miss
// may change, and counts it by what it holds. It reports false, and e is
// not to be cached, when claims hold a value encoding/json does not
// produce.
func (e *cacheEntry) keepClaims(claims auth.Claims) bool {
	kept, ok := copyJSONValue(map[string]any(claims))
	if !ok {
		return false
	}
	e.claims = kept.(map[string]any)
	e.cost = heldBytes(reflect.ValueOf(e.claims))
	for _, v := range e.claims {
		switch v.(type) {
		case map[string]any, []any:
			e.nested = true
		}
	}
	return true
}

// copyClaims returns a copy of e's claims that shares nothing mutable
// with them: strings, numbers and booleans are immutable, arrays and
// objects are copied.
func (e *cacheEntry) copyClaims() auth.Claims {
	if !e.nested {
		return maps.Clone(e.claims)
	}
	c, _ := copyJSONValue(map[string]any(e.claims)) // it copied them once
	return c.(map[string]any)
}

// validHit runs the Validate method of a P that has one (golang-jwt's
// ClaimsValidator, which the parser calls on a miss when *P is the claims it
// decodes into) again on a hit: such a method may judge by the time or by
// state outside the token, so its verdict is not cached. So are P's
// validate tags when some compare a time with the clock (see timedTags).
func (a *TypedAuth[P]) validHit(p *P) bool {
	if a.timed && a.validate.Struct(*p) != nil {
		return false
	}
	if !a.direct {
		return true
	}
	v, ok := any(p).(gojwt.ClaimsValidator)
	return !ok || v.Validate() == nil
}

// verifyCached is TypedAuth.verify through the cache.
func (a *TypedAuth[P]) verifyCached(ctx context.Context, raw string) (P, error) {
	c := a.cache
	h := c.hash(raw)
	if e := c.lookup(h, raw); e != nil && c.usable(ctx, e) {
		// The entry holds the P the parser decoded, or its payload, and
		// validation, a function of P, accepted it.
		if p, ok := a.hit(e); ok && a.validHit(&p) {
			return p, nil
		}
		// Only a Validate method that now refuses the P gets here: verify
		// anew for the miss's own answer.
		c.remove(e)
	}
	keys := c.snapshot()
	var rec verified
	p, err := a.verifyRecording(ctx, raw, &rec)
	if err != nil {
		return p, err
	}
	e := c.newEntry(h, raw, &rec, keys)
	if kept, ok := a.copyOf(&p); ok {
		// The handler gets p and may change it: the entry keeps a copy,
		// counted by what it holds.
		e.value = kept
		e.cost = int64(reflect.TypeFor[P]().Size()) + heldBytes(reflect.ValueOf(kept).Elem())
	} else if e.payload, err = payloadOf(raw); err == nil {
		e.cost = int64(len(e.payload))
	} else {
		return p, nil // cannot happen: the token verified; not cached
	}
	c.add(e)
	return p, nil
}

// hit returns the P of a cached entry: a copy of the one it keeps, or the
// payload decoded again when P cannot be copied (see copierOf).
func (a *TypedAuth[P]) hit(e *cacheEntry) (P, bool) {
	if e.value != nil {
		p, ok := a.copyOf(e.value.(*P))
		if ok {
			return *p, true
		}
	}
	var p P
	return p, e.payload != nil && json.Unmarshal(e.payload, &p) == nil
}

// copyOf returns a copy of *src that shares nothing a holder could change
// with it, and false when P cannot be copied so.
func (a *TypedAuth[P]) copyOf(src *P) (*P, bool) {
	switch {
	case !a.copyable:
		return nil, false
	case a.copy == nil:
		dst := *src // a flat P: assignment copies it deeply
		return &dst, true
	}
	dst := new(P)
	return dst, a.copy(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem())
}

// payloadOf decodes the payload of a verified compact JWS.
func payloadOf(raw string) ([]byte, error) {
	_, rest, _ := strings.Cut(raw, ".")
	seg, _, _ := strings.Cut(rest, ".")
	return strictBase64.DecodeString(seg)
}
