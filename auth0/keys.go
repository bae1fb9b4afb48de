package auth0

import (
	"context"
	"crypto/rsa"
	"errors"
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
// signed by an unknown key. A set left without any key is a failure of the
// key server (503), not a reason to reject tokens. The filtered set is kept
// until the provider returns another one, so a warm call costs no
// allocation.
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
	return t.usable(k)
}

// errNoUsableKey is the failure of a tenant JWKS that holds no key to
// verify with: it says nothing about the token, so it is a 503.
var errNoUsableKey = errors.New("auth0: the tenant's JWKS holds no usable signing key")

// usable returns k without its weak RSA keys, or errNoUsableKey when none
// is left.
func (t *tenantKeys) usable(k any) (any, error) {
	set, ok := k.(*jose.JSONWebKeySet)
	if !ok {
		return k, nil
	}
	if f := t.filtered.Load(); f != nil && f.from == set {
		return f.result()
	}
	out := &jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(set.Keys))}
	for _, key := range set.Keys {
		if rk, ok := key.Key.(*rsa.PublicKey); ok && (rk.N == nil || rk.N.BitLen() < MinRSABits) {
			continue
		}
		out.Keys = append(out.Keys, key)
	}
	f := &filteredSet{from: set, to: out}
	t.filtered.Store(f)
	return f.result()
}

func (f *filteredSet) result() (any, error) {
	if len(f.to.Keys) == 0 {
		return nil, errNoUsableKey
	}
	return f.to, nil
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
