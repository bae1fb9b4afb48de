package auth0

import (
	"context"
	"crypto/rsa"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
	jose "gopkg.in/go-jose/go-jose.v2"
)

// tenantKeys sits between the validator and the SDK's caching provider of
// NewTenant. Once the provider holds keys ("warm"), calls go straight to it
// and are answered from its cache. Until then, and again after a failure,
// concurrent calls share one fetch instead of queueing behind the
// provider's lock to fetch one after another: while the key server hangs,
// every request waits at most for one fetch (bounded by the client's
// timeout) or for its own context, whichever ends first.
//
// It also drops RSA keys under [MinRSABits] from the set it hands to the
// validator (RFC 7518 §3.3): a token naming such a key is rejected as
// signed by an unknown key. The filtered set is kept until the provider
// returns another one, so a warm call costs no allocation.
type tenantKeys struct {
	inner    func(context.Context) (any, error)
	warm     atomic.Bool
	flight   singleflight.Group
	filtered atomic.Pointer[filteredSet]
}

// MinRSABits is the smallest RSA modulus of a tenant key that [NewTenant]
// verifies with.
const MinRSABits = 2048

// filteredSet is a key set of the provider and its usable keys.
type filteredSet struct {
	from, to *jose.JSONWebKeySet
}

func (t *tenantKeys) keyFunc(ctx context.Context) (any, error) {
	k, err := t.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return t.usable(k), nil
}

// usable returns k without its weak RSA keys.
func (t *tenantKeys) usable(k any) any {
	set, ok := k.(*jose.JSONWebKeySet)
	if !ok {
		return k
	}
	if f := t.filtered.Load(); f != nil && f.from == set {
		return f.to
	}
	out := &jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(set.Keys))}
	for _, key := range set.Keys {
		if rk, ok := key.Key.(*rsa.PublicKey); ok && (rk.N == nil || rk.N.BitLen() < MinRSABits) {
			continue
		}
		out.Keys = append(out.Keys, key)
	}
	t.filtered.Store(&filteredSet{from: set, to: out})
	return out
}

func (t *tenantKeys) fetch(ctx context.Context) (any, error) {
	if t.warm.Load() {
		k, err := t.inner(ctx)
		if err != nil {
			t.warm.Store(false)
			return nil, err
		}
		return k, nil
	}
	ch := t.flight.DoChan("", func() (any, error) {
		// The fetch serves every waiting request: it must not end when
		// the first of them goes away.
		k, err := t.inner(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		t.warm.Store(true)
		return k, nil
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
