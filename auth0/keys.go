package auth0

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
)

// tenantKeys sits between the validator and the SDK's caching provider of
// NewTenant. Once the provider holds keys ("warm"), calls go straight to it
// and are answered from its cache. Until then, and again after a failure,
// concurrent calls share one fetch instead of queueing behind the
// provider's lock to fetch one after another: while the key server hangs,
// every request waits at most for one fetch (bounded by the client's
// timeout) or for its own context, whichever ends first.
type tenantKeys struct {
	inner  func(context.Context) (any, error)
	warm   atomic.Bool
	flight singleflight.Group
}

func (t *tenantKeys) keyFunc(ctx context.Context) (any, error) {
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
