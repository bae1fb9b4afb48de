package jwt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
)

// Defaults of [RemoteOptions].
const (
	// DefaultRefreshInterval is the time between two background refreshes
	// of a remote key set that last loaded successfully.
	DefaultRefreshInterval = time.Hour

	// DefaultUnknownKIDInterval is the least time between two downloads
	// caused by tokens whose kid the set does not know. Tokens with random
	// kids cost the key server at most one request per interval, while a
	// key the issuer has just published is picked up within the interval
	// of its first use.
	DefaultUnknownKIDInterval = 10 * time.Second

	// DefaultMissWait is the longest a request waits for the download that
	// its unknown kid started (or joined). The download itself goes on in
	// the background, bounded by its own timeout.
	DefaultMissWait = 2 * time.Second

	// minRetry and maxRetry bound the back-off between background attempts
	// after a failed download.
	minRetry = time.Second
	maxRetry = time.Minute
)

// ErrClosed is returned by [RemoteKeySet.Refresh] after [RemoteKeySet.Close]
// or the cancellation of the set's context.
var ErrClosed = errors.New("jwt: remote key set is closed")

// RemoteOptions configure a [RemoteKeySet]. The zero value is a sane
// default: at most one download every [DefaultUnknownKIDInterval] for
// unknown kids, requests waiting at most [DefaultMissWait] for it, a
// refresh every [DefaultRefreshInterval], downloads bounded by
// [DefaultFetchTimeout] and [DefaultMaxBodyBytes], and construction that
// fails when the first download fails.
type RemoteOptions struct {
	// Client sends the requests. nil means a new client without a global
	// timeout (each download has its own, FetchTimeout). A client given here
	// is copied, and its copy refuses redirects to anything but https before
	// consulting the client's own CheckRedirect. Its Transport is the seam
	// for tests that serve keys without a network.
	Client *http.Client

	// RefreshInterval is the time between background refreshes after a
	// successful download. Zero means [DefaultRefreshInterval]. After a
	// failed download the set retries sooner, backing off from one second to
	// one minute (never later than RefreshInterval).
	RefreshInterval time.Duration

	// UnknownKIDInterval is the least time between two downloads triggered
	// by tokens with a kid the set does not know. Zero means
	// [DefaultUnknownKIDInterval]. A miss within the interval schedules
	// one download for the end of the interval, so a newly published key
	// is accepted at most one interval after its first use, whatever came
	// before. Concurrent misses share one download.
	UnknownKIDInterval time.Duration

	// MissWait is the longest a request with an unknown kid waits for the
	// download it started or joined. Zero means [DefaultMissWait]. Requests
	// with known kids never wait.
	MissWait time.Duration

	// FetchTimeout bounds every download, whether started in the
	// background, by Refresh or by an unknown kid. Zero means
	// [DefaultFetchTimeout].
	FetchTimeout time.Duration

	// MaxBodyBytes is the largest key set accepted. Zero means
	// [DefaultMaxBodyBytes]; a larger body fails the download (the keys
	// already loaded stay in use).
	MaxBodyBytes int64

	// AllowInitialFailure makes [NewRemoteKeySet] return a set even when
	// the first download fails. Until a download succeeds, lookups fail with
	// an error matching [ErrKeySetUnavailable] (status 503), and the set
	// keeps retrying in the background. Without it, NewRemoteKeySet returns
	// the download error, which surfaces a wrong URL at start-up.
	AllowInitialFailure bool

	// InsecureAllowHTTP accepts a plain-http key set URL on any host.
	// Anyone on the network path can then replace the keys and forge
	// tokens: use it only inside a network you trust completely. Loopback
	// hosts are accepted without it. Redirects to http are refused
	// regardless.
	InsecureAllowHTTP bool

	// OnError, when set, receives every failed download and every download
	// that skipped malformed keys, for logging. It is called from the
	// set's goroutines, must be safe for concurrent use and must not block
	// for long. The errors carry no key material.
	OnError func(error)
}

// withDefaults returns o with defaults for its zero fields and a hardened
// copy of its client.
func (o RemoteOptions) withDefaults() (RemoteOptions, error) {
	if o.RefreshInterval < 0 || o.UnknownKIDInterval < 0 || o.MissWait < 0 || o.FetchTimeout < 0 || o.MaxBodyBytes < 0 {
		return o, errors.New("jwt: RemoteOptions has a negative interval, timeout or size")
	}
	o.RefreshInterval = cmp.Or(o.RefreshInterval, DefaultRefreshInterval)
	o.UnknownKIDInterval = cmp.Or(o.UnknownKIDInterval, DefaultUnknownKIDInterval)
	o.MissWait = cmp.Or(o.MissWait, DefaultMissWait)
	o.FetchTimeout = cmp.Or(o.FetchTimeout, DefaultFetchTimeout)
	o.MaxBodyBytes = cmp.Or(o.MaxBodyBytes, DefaultMaxBodyBytes)
	o.Client = hardenClient(o.Client, 0) // each download has its own timeout
	return o, nil
}

// RemoteKeySet is a [KeySet] and a [jwkset.Storage] backed by a JWKS URL
// that it keeps up to date: it downloads the set at construction, refreshes
// it in the background, and downloads it again when a token names a kid it
// does not know.
//
// Keys are parsed as by [ParseKeySet]: a set whose every key is unusable
// counts as a failed download, while a set with one bad key among good ones
// loads without it. A failed download (network error, timeout, status other
// than 200, oversized or unparsable body) never discards the keys already
// loaded.
//
// Lookups behave as follows:
//   - a known kid is answered from memory, without I/O or allocation;
//   - an unknown kid starts a download (or joins the one under way) and
//     waits for it at most [RemoteOptions.MissWait]; downloads caused by
//     unknown kids happen at most once per [RemoteOptions.UnknownKIDInterval],
//     and a miss inside the interval schedules one for its end;
//   - once a set has loaded, a kid it still does not hold is not found
//     (401), whether or not the download succeeded; only while no set has
//     ever loaded is the answer [ErrKeySetUnavailable] (503).
//
// It is safe for concurrent use. Close, or cancelling the context given to
// [NewRemoteKeySet], stops its goroutines. Its jwkset.Storage methods that
// write change the keys until the next download replaces them.
//
// Create one with [NewRemoteKeySet] or [DiscoverKeySet]; the zero value is
// not usable.
type RemoteKeySet struct {
	MemoryKeySet

	url       *url.URL
	opts      RemoteOptions // with defaults
	declared  []*algorithm  // algorithms the issuer declares, if known
	discovery string        // the discovery document's URL, for DiscoverKeySet's sets
	notLoaded error

	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{} // closed when every goroutine has returned
	fetches  sync.WaitGroup
	mu       sync.Mutex
	flight   *remoteFetch // the download under way, if any
	lastMiss time.Time    // start of the last download caused by a miss
	pending  *time.Timer  // a download scheduled for the end of the interval
}

// remoteFetch is one download that any number of lookups may wait for.
type remoteFetch struct {
	done chan struct{}
	err  error // set before done is closed
}

// NewRemoteKeySet returns a [RemoteKeySet] for the JWK Set at jwksURL,
// which must be https (or http on a loopback host, see
// [RemoteOptions.InsecureAllowHTTP]). It downloads the set before it
// returns, bounded by ctx and [RemoteOptions.FetchTimeout]; when that
// download fails it returns the error (matching [ErrKeySetUnavailable]),
// unless [RemoteOptions.AllowInitialFailure] is set.
//
// ctx also bounds the life of the set: cancelling it stops the background
// refresh as [RemoteKeySet.Close] does. Pass a context that lives as long
// as the service, not a request's.
func NewRemoteKeySet(ctx context.Context, jwksURL string, opts RemoteOptions) (*RemoteKeySet, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return newRemoteKeySet(ctx, jwksURL, opts, nil)
}

// newRemoteKeySet is NewRemoteKeySet for opts with defaults.
func newRemoteKeySet(ctx context.Context, jwksURL string, opts RemoteOptions, declared []*algorithm) (*RemoteKeySet, error) {
	u, err := checkFetchURL(jwksURL, opts.InsecureAllowHTTP)
	if err != nil {
		return nil, err
	}
	s := &RemoteKeySet{
		url:       u,
		opts:      opts,
		declared:  declared,
		notLoaded: fmt.Errorf("%w: jwt: %s has not loaded yet", ErrKeySetUnavailable, u.Redacted()),
		done:      make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	err = s.fetch()
	if err != nil && !opts.AllowInitialFailure {
		s.cancel()
		return nil, err
	}
	go s.run(err == nil)
	return s, nil
}

// VerificationKey implements [KeySet] with the lookup rules of
// [RemoteKeySet]. It returns an error matching [ErrKeyNotFound] (401) when
// the loaded set has no key for kid and alg, and one matching
// [ErrKeySetUnavailable] (503) while the set has never loaded. An alg
// that no fetched key can serve (HS256, unknown names) never triggers a
// download.
func (s *RemoteKeySet) VerificationKey(ctx context.Context, kid, alg string) (any, error) {
	if s.Loaded() {
		key, err := s.index().lookup(kid, alg)
		if err != errUnknownKID {
			return key, err
		}
	} else if a := lookupAlgorithm(alg); a == nil || a.kind == kindHMAC {
		return nil, errAlgMismatch
	}
	if err := s.awaitMiss(ctx, func(x *keyIndex) bool { _, err := x.lookup(kid, alg); return err != errUnknownKID }); err != nil {
		return nil, err
	}
	return s.index().lookup(kid, alg)
}

// KeyRead implements [jwkset.Storage] with the lookup rules of
// [RemoteKeySet], for keyfunc's Keyfunc.
func (s *RemoteKeySet) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	if s.Loaded() {
		if j, err := s.MemoryKeySet.KeyRead(ctx, kid); err == nil {
			return j, nil
		}
	}
	if err := s.awaitMiss(ctx, func(x *keyIndex) bool { return len(x.byKID[kid]) > 0 }); err != nil {
		return jwkset.JWK{}, err
	}
	return s.MemoryKeySet.KeyRead(ctx, kid)
}

// Keyfunc returns keyfunc's Keyfunc over the set (with the lookup rules of
// [RemoteKeySet]), for golang-jwt's parser and other users of keyfunc.
func (s *RemoteKeySet) Keyfunc() keyfunc.Keyfunc { return mustKeyfunc(s) }

// awaitMiss handles a lookup that missed: it waits for the download the
// miss started or joined, at most missWait in all and no longer than ctx
// allows. When it joined a download begun before the lookup, which may
// predate the key, and found still reports false, it asks for one more
// download and waits for that too if the rate limit lets it start now (it
// is scheduled for later otherwise). It returns an error only while the set
// has never loaded.
func (s *RemoteKeySet) awaitMiss(ctx context.Context, found func(*keyIndex) bool) error {
	var cancel context.CancelFunc
	for range 2 {
		f, joined := s.missFetch()
		if f == nil {
			break
		}
		if cancel == nil {
			ctx, cancel = context.WithTimeout(ctx, s.opts.MissWait)
			defer cancel()
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return s.loadedErr()
		}
		if !joined || found(s.index()) {
			break
		}
	}
	return s.loadedErr()
}

func (s *RemoteKeySet) loadedErr() error {
	if !s.Loaded() {
		return s.notLoaded
	}
	return nil
}

// missFetch returns the download a missed lookup should wait for: the one
// under way (joined is true), or a new one if the rate limit allows. When
// it does not, it schedules one for the end of the interval and returns nil.
func (s *RemoteKeySet) missFetch() (f *remoteFetch, joined bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight != nil {
		return s.flight, true
	}
	if s.ctx.Err() != nil { // closed
		return nil, false
	}
	now := time.Now()
	if wait := s.lastMiss.Add(s.opts.UnknownKIDInterval).Sub(now); !s.lastMiss.IsZero() && wait > 0 {
		if s.pending == nil {
			s.pending = time.AfterFunc(wait, s.pendingFetch)
		}
		return nil, false
	}
	if s.pending != nil {
		s.pending.Stop() // this download is the one it would have started
		s.pending = nil
	}
	s.lastMiss = now
	return s.startFetchLocked(), false
}

// pendingFetch runs a download that a rate-limited miss scheduled, unless
// one has started since, for a miss or otherwise.
func (s *RemoteKeySet) pendingFetch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = nil
	if now := time.Now(); s.ctx.Err() == nil && s.flight == nil && now.Sub(s.lastMiss) >= s.opts.UnknownKIDInterval {
		s.lastMiss = now
		s.startFetchLocked()
	}
}

// Refresh downloads the set now, regardless of the unknown-kid rate limit,
// and returns once a download begun after the call has ended: when one was
// already under way, it waits for it and then for another, since the first
// may have fetched the set before a change the caller knows of. It returns
// that download's error (the keys already loaded stay in use), ctx's if ctx
// ends first, or [ErrClosed] once the set is closed.
func (s *RemoteKeySet) Refresh(ctx context.Context) error {
	for begun := false; ; begun = true {
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			return ErrClosed
		}
		f, fresh := s.flight, begun
		if f == nil {
			f, fresh = s.startFetchLocked(), true
		}
		s.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if fresh {
			return f.err
		}
	}
}

// Loaded reports whether a download has ever succeeded, that is whether
// the set can verify tokens. It suits a readiness probe.
func (s *RemoteKeySet) Loaded() bool { return s.index().gen > 0 }

// DiscoveryURL returns the URL of the OpenID Connect discovery document the
// set was found through when it came from [DiscoverKeySet], and "" when it
// did not. An auth built on such a set is documented as an openIdConnect
// security scheme with this URL (see [auth.WithOpenIDConnect]).
func (s *RemoteKeySet) DiscoveryURL() string { return s.discovery }

// URL returns the URL of the key set, with any password redacted.
func (s *RemoteKeySet) URL() string { return s.url.Redacted() }

// Algorithms returns the signature algorithms the issuer declares: those of
// its discovery document when the set came from [DiscoverKeySet] and it
// lists any, else the alg of each loaded key (a key without one counts for
// its type's usual algorithm: RS256, ES256/ES384/ES512 by curve, EdDSA).
// Only asymmetric algorithms this package supports are listed. A [Config]
// with a RemoteKeySet and no Algorithms accepts these.
func (s *RemoteKeySet) Algorithms() []string {
	if len(s.declared) > 0 {
		return algNames(s.declared)
	}
	var out []*algorithm
	for _, k := range s.index().all { // each fits an algorithm: see usableKey
		// k.alg, else the first in the table: RS256, ES*, EdDSA
		a := algorithms[slices.IndexFunc(algorithms, k.fits)]
		if a.kind != kindHMAC && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return algNames(out)
}

// Close stops the background refresh and cancels any download under way,
// and returns once the set's goroutines have all returned. The keys already
// loaded keep answering lookups; unknown kids no longer trigger downloads.
// Close is idempotent and always returns nil.
func (s *RemoteKeySet) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// startFetchLocked starts a download and records it as the one under way.
// s.mu must be held and s.ctx not done.
func (s *RemoteKeySet) startFetchLocked() *remoteFetch {
	f := &remoteFetch{done: make(chan struct{})}
	s.flight = f
	s.fetches.Add(1)
	go func() {
		defer s.fetches.Done()
		err := s.fetch()
		s.mu.Lock()
		s.flight = nil
		s.mu.Unlock()
		f.err = err
		close(f.done)
	}()
	return f
}

// fetch downloads and parses the set, and installs it if it has a usable
// key.
func (s *RemoteKeySet) fetch() error {
	body, err := fetchDocument(s.ctx, s.url, &s.opts)
	if err != nil {
		s.report(err)
		return err
	}
	jwks, bad, err := parseKeySet(body)
	if err != nil {
		err = fmt.Errorf("%w: jwt: key set at %s: %w", ErrKeySetUnavailable, s.url.Redacted(), err)
		s.report(err)
		return err
	}
	_ = s.KeyReplaceAll(s.ctx, jwks) // cannot fail
	if len(bad) > 0 {
		s.report(fmt.Errorf("jwt: key set at %s: skipped %d malformed keys: %w", s.url.Redacted(), len(bad), errors.Join(bad...)))
	}
	return nil
}

func (s *RemoteKeySet) report(err error) {
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
}

// run refreshes the set in the background until s.ctx ends, then waits
// for downloads under way and closes s.done.
func (s *RemoteKeySet) run(loaded bool) {
	defer close(s.done)
	defer s.fetches.Wait()
	defer func() {
		s.mu.Lock() // from here on no download starts (s.ctx is done)
		if s.pending != nil {
			s.pending.Stop()
		}
		s.mu.Unlock()
	}()
	startRetry := min(minRetry, s.opts.RefreshInterval)
	retry, delay := startRetry, s.opts.RefreshInterval
	if !loaded {
		delay = retry
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(delay):
		}
		s.mu.Lock()
		f := s.flight
		if f == nil {
			f = s.startFetchLocked()
		}
		s.mu.Unlock()
		select {
		case <-s.ctx.Done():
			return
		case <-f.done:
		}
		if f.err != nil {
			delay = retry
			retry = min(retry*2, maxRetry, s.opts.RefreshInterval)
		} else {
			retry, delay = startRetry, s.opts.RefreshInterval
		}
	}
}
