package auth0

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	jose "gopkg.in/go-jose/go-jose.v2"
)

// tenantKeys is the key cache of NewTenant, in front of the SDK's
// [jwks.Provider], which downloads and decodes the tenant's JWKS once per
// call. It keeps the SDK's caching rules: keys are fetched on first use,
// served from memory until the cache TTL, then refreshed in the background
// while the keys in hand keep serving; a failed background refresh drops
// them, and the next request fetches them again. On top of them it
// downloads the set again when a token names a kid the cached set does not
// hold (see refresh).
//
// Every download goes through one singleflight key, so downloads never
// overlap and concurrent callers share one instead of queueing: while the
// key server hangs, every request waits at most for one download (bounded
// by the client's timeout) or for its own context, whichever ends first.
//
// RSA keys under [MinRSABits] are dropped from each downloaded set (RFC
// 7518 §3.3): a token naming such a key is rejected as signed by an
// unknown key. A set left without any key is a failure of the key server
// (503), not a reason to reject tokens. The filtered set is built once per
// download, so a cached call costs no allocation.
type tenantKeys struct {
	download   func(context.Context) (any, error) // one download, uncached
	ttl        time.Duration
	interval   time.Duration // between two downloads for unknown kids
	cur        atomic.Pointer[keySet]
	flight     singleflight.Group
	refreshing atomic.Bool  // a background refresh is under way
	lastMiss   atomic.Int64 // unix nanoseconds of the last download for an unknown kid; 0 if none
}

// MinRSABits is the smallest RSA modulus of a tenant key that [NewTenant]
// verifies with.
const MinRSABits = 2048

// keySet is one downloaded set, without its weak keys.
type keySet struct {
	keys    *jose.JSONWebKeySet
	expires time.Time
}

// errNoUsableKey is the failure of a tenant JWKS that holds no key to
// verify with: it says nothing about the token, so it is a 503.
var errNoUsableKey = errors.New("auth0: the tenant's JWKS holds no usable signing key")

// errNotFetched is the failure of a request that shared a download which,
// rate limited, did not take place while no set was cached.
var errNotFetched = errors.New("auth0: the tenant's JWKS has not been fetched")

func (s *keySet) result() (any, error) {
	if len(s.keys.Keys) == 0 {
		return nil, errNoUsableKey
	}
	return s.keys, nil
}

// fetchKey is the singleflight key of every download.
const fetchKey = "jwks"

// keyFunc is the key func of the validator: the cached set, or the one
// fetched now if none is cached.
func (t *tenantKeys) keyFunc(ctx context.Context) (any, error) {
	if s := t.cur.Load(); s != nil {
		if time.Now().After(s.expires) && t.refreshing.CompareAndSwap(false, true) {
			go t.refreshExpired(s)
		}
		return s.result()
	}
	ch := t.flight.DoChan(fetchKey, func() (any, error) {
		// The download serves every waiting request: it must not end when
		// the first of them goes away.
		s, err := t.load(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		t.cur.Store(s)
		return s, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		s, _ := r.Val.(*keySet)
		if s == nil { // joined a rate-limited refresh while no set was cached
			if s = t.cur.Load(); s == nil {
				return nil, errNotFetched
			}
		}
		return s.result()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// refreshExpired downloads the set again once old has outlived the TTL,
// and drops old if that fails, as the SDK's CachingProvider does.
func (t *tenantKeys) refreshExpired(old *keySet) {
	defer t.refreshing.Store(false)
	_, _, _ = t.flight.Do(fetchKey, func() (any, error) {
		s, err := t.load(context.Background())
		if err != nil {
			t.cur.CompareAndSwap(old, nil)
			return nil, err
		}
		t.cur.Store(s)
		return s, nil
	})
}

// refresh is called when a token names a kid that the cached set does not
// hold. It downloads the set again unless an earlier call did so less than
// the interval ago, and replaces the cached set with it if it holds a
// usable key; the caller then verifies the token once more. Concurrent
// calls, and calls that arrive while another download is under way, share
// that download. An error means the set could not be obtained (the key
// server failed, or the new set holds no usable key, or ctx ended while
// waiting); the cached set is kept and goes on serving the keys it holds.
// A nil error without a download (rate limited) is not a failure: the
// token is checked against the keys in hand.
func (t *tenantKeys) refresh(ctx context.Context) error {
	ch := t.flight.DoChan(fetchKey, func() (any, error) {
		now := time.Now().UnixNano()
		if last := t.lastMiss.Load(); last != 0 && now-last < int64(t.interval) {
			return nil, nil
		}
		t.lastMiss.Store(now)
		s, err := t.load(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		if _, err := s.result(); err != nil {
			return nil, err
		}
		t.cur.Store(s)
		return s, nil
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// load downloads the tenant's JWKS and drops its weak RSA keys.
func (t *tenantKeys) load(ctx context.Context) (*keySet, error) {
	k, err := t.download(ctx)
	if err != nil {
		return nil, err
	}
	set, ok := k.(*jose.JSONWebKeySet)
	if !ok || set == nil {
		return nil, fmt.Errorf("auth0: the JWKS provider returned a %T, not a key set", k)
	}
	out := &jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(set.Keys))}
	for _, key := range set.Keys {
		if rk, ok := key.Key.(*rsa.PublicKey); ok && (rk.N == nil || rk.N.BitLen() < MinRSABits) {
			continue
		}
		out.Keys = append(out.Keys, key)
	}
	return &keySet{keys: out, expires: time.Now().Add(t.ttl)}, nil
}
