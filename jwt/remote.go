package jwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [RemoteOptions].
const (
	// DefaultRefreshInterval is the time between two background refreshes
	// of a remote key set that last loaded successfully.
	DefaultRefreshInterval = time.Hour

	// DefaultUnknownKIDInterval is the least time between two downloads
	// caused by tokens whose kid the set does not know. It bounds the load
	// that tokens with random kids can put on the key server to one request
	// a minute per set, while a key rotated in without notice is picked up
	// within a minute.
	DefaultUnknownKIDInterval = time.Minute

	// minRetry and maxRetry bound the back-off between background attempts
	// after a failed download.
	minRetry = time.Second
	maxRetry = time.Minute
)

// ErrClosed is returned by [RemoteKeySet.Refresh] after [RemoteKeySet.Close]
// or the cancellation of the set's context.
var ErrClosed = errors.New("jwt: remote key set is closed")

// RemoteOptions configure a [RemoteKeySet]. The zero value is a sane
// default: one download at most every [DefaultUnknownKIDInterval] for
// unknown kids, a refresh every [DefaultRefreshInterval], downloads bounded
// by [DefaultFetchTimeout] and [DefaultMaxBodyBytes], and construction that
// fails when the first download fails.
type RemoteOptions struct {
	// Client sends the requests. nil means a new client without a global
	// timeout (each download has its own, FetchTimeout). A client given here
	// is copied, and its copy refuses redirects to anything but https before
	// consulting the client's own CheckRedirect.
	Client *http.Client

	// RefreshInterval is the time between background refreshes after a
	// successful download. Zero means [DefaultRefreshInterval]. After a
	// failed download the set retries sooner, backing off from one second to
	// one minute (never later than RefreshInterval).
	RefreshInterval time.Duration

	// UnknownKIDInterval is the least time between two downloads triggered
	// by tokens with a kid the set does not know (or by tokens arriving
	// while the set has never loaded). Zero means
	// [DefaultUnknownKIDInterval]. Lookups that miss while a download is
	// already running wait for it instead of starting another, so any
	// number of concurrent misses costs one request.
	UnknownKIDInterval time.Duration

	// FetchTimeout bounds every download, whether started in the
	// background, by Refresh or by an unknown kid. Zero means
	// [DefaultFetchTimeout]. A lookup that waits for a download therefore
	// waits at most this long plus the parsing of the set (bounded by
	// MaxBodyBytes and 1000 keys), less if its own context ends first.
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

func (o *RemoteOptions) check() error {
	if o.RefreshInterval < 0 || o.UnknownKIDInterval < 0 || o.FetchTimeout < 0 || o.MaxBodyBytes < 0 {
		return errors.New("jwt: RemoteOptions has a negative interval, timeout or size")
	}
	return nil
}

// RemoteKeySet is a [KeySet] backed by a JWKS URL that it keeps up to date:
// it downloads the set at construction, refreshes it in the background,
// and downloads it again when a token names a kid it does not know (rate
// limited by [RemoteOptions.UnknownKIDInterval]; concurrent misses share
// one download).
//
// Keys are parsed and chosen as by [FetchKeySet]: a set whose every key is
// unusable counts as a failed download, while a set with one bad key among
// good ones loads without it. A failed download (network error, timeout,
// status other than 200, oversized or unparsable body) never discards the
// keys already loaded: the set keeps serving them until a download
// succeeds.
//
// VerificationKey answers a known kid from memory without I/O or
// allocation. It is safe for concurrent use. Close, or cancelling the
// context given to [NewRemoteKeySet], stops its goroutines.
//
// Create one with [NewRemoteKeySet] or [DiscoverKeySet]; the zero value is
// not usable.
type RemoteKeySet struct {
	url        *url.URL
	client     *http.Client
	refresh    time.Duration
	missEvery  time.Duration
	timeout    time.Duration
	maxBytes   int64
	onError    func(error)
	keys       atomic.Pointer[fetchedIndex]
	ctx        context.Context
	cancel     context.CancelFunc
	done       chan struct{} // closed when every goroutine has returned
	fetches    sync.WaitGroup
	mu         sync.Mutex
	flight     *remoteFetch // the download under way, if any
	lastMiss   time.Time    // start of the last download caused by a miss
	closed     bool
	startRetry time.Duration
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
	u, err := checkFetchURL(jwksURL, opts.InsecureAllowHTTP)
	if err != nil {
		return nil, err
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	s := &RemoteKeySet{
		url:       u,
		refresh:   remoteDefault(opts.RefreshInterval, DefaultRefreshInterval),
		missEvery: remoteDefault(opts.UnknownKIDInterval, DefaultUnknownKIDInterval),
		timeout:   remoteDefault(opts.FetchTimeout, DefaultFetchTimeout),
		maxBytes:  remoteDefault(opts.MaxBodyBytes, DefaultMaxBodyBytes),
		onError:   opts.OnError,
		done:      make(chan struct{}),
	}
	s.client = hardenClient(opts.Client, 0) // each download has its own timeout
	s.startRetry = min(minRetry, s.refresh)
	s.ctx, s.cancel = context.WithCancel(ctx)

	s.mu.Lock()
	first := s.startFetchLocked()
	s.mu.Unlock()
	<-first.done
	if first.err != nil && !opts.AllowInitialFailure {
		s.cancel()
		s.fetches.Wait()
		close(s.done)
		return nil, first.err
	}
	go s.run(first.err == nil)
	return s, nil
}

func remoteDefault[T time.Duration | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// VerificationKey implements [KeySet]. A known kid is answered from memory.
// An unknown kid triggers a download, at most one per
// [RemoteOptions.UnknownKIDInterval], and the lookup waits for it (or for
// one already under way) at most [RemoteOptions.FetchTimeout], or until
// ctx ends. It returns:
//   - an error matching [ErrKeyNotFound] (401) when the loaded set has no
//     key for kid and alg, including when the kid is still unknown after a
//     successful download or when the rate limit allowed no download;
//   - an error matching [ErrKeySetUnavailable] (503) when the set has never
//     loaded, or when the download this lookup waited for failed or did
//     not finish before ctx ended.
//
// An alg that no fetched key can serve (none, HS256, …) is always
// [ErrKeyNotFound], loaded or not, and never triggers a download.
func (s *RemoteKeySet) VerificationKey(ctx context.Context, kid, alg string) (any, error) {
	idx := s.keys.Load()
	if idx != nil {
		key, err := idx.lookup(kid, alg)
		if err != errUnknownKID {
			return key, err
		}
	} else if fetchAlgFamily(alg) == familyNone {
		return nil, errAlgNotServed
	}
	// A download that was already under way when this lookup began may
	// predate the key: if the kid is still unknown after it, try once more
	// with a download of its own, when the rate limit allows.
	for attempt := 0; ; attempt++ {
		f, joined := s.missFetch(idx == nil)
		if f == nil {
			if idx == nil {
				return nil, fmt.Errorf("%w: jwt: %s has not loaded yet", ErrKeySetUnavailable, s.url.Redacted())
			}
			return nil, errUnknownKID
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: jwt: gave up waiting for %s: %w", ErrKeySetUnavailable, s.url.Redacted(), context.Cause(ctx))
		}
		if f.err != nil {
			return nil, f.err
		}
		idx = s.keys.Load()
		key, err := idx.lookup(kid, alg)
		if err != errUnknownKID || !joined || attempt > 0 {
			return key, err
		}
	}
}

// missFetch returns the download a missed lookup should wait for: the one
// under way (joined is true), or a new one if the rate limit allows, or nil.
func (s *RemoteKeySet) missFetch(neverLoaded bool) (f *remoteFetch, joined bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight != nil {
		return s.flight, true
	}
	if s.closed {
		return nil, false
	}
	now := time.Now()
	if !s.lastMiss.IsZero() && now.Sub(s.lastMiss) < s.missEvery {
		return nil, false
	}
	s.lastMiss = now
	return s.startFetchLocked(), false
}

// Refresh downloads the set now, or waits for the download under way,
// regardless of the unknown-kid rate limit. It returns the download's error
// (the keys already loaded stay in use), ctx's if ctx ends first, or
// [ErrClosed] once the set is closed.
func (s *RemoteKeySet) Refresh(ctx context.Context) error {
	s.mu.Lock()
	f := s.flight
	if f == nil && !s.closed {
		f = s.startFetchLocked()
	}
	s.mu.Unlock()
	if f == nil {
		return ErrClosed
	}
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Loaded reports whether a download has ever succeeded, that is whether
// the set can verify tokens. It suits a readiness probe.
func (s *RemoteKeySet) Loaded() bool { return s.keys.Load() != nil }

// URL returns the URL of the key set, with any password redacted.
func (s *RemoteKeySet) URL() string { return s.url.Redacted() }

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
// s.mu must be held and s.closed false.
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
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	body, err := fetchDocument(ctx, s.client, s.url, s.maxBytes)
	if err != nil {
		s.report(err)
		return err
	}
	idx, bad, err := parseKeySet(body)
	if err != nil {
		err = fmt.Errorf("%w: jwt: key set at %s: %w", ErrKeySetUnavailable, s.url.Redacted(), err)
		s.report(err)
		return err
	}
	s.keys.Store(idx)
	if len(bad) > 0 {
		s.report(fmt.Errorf("jwt: key set at %s: skipped %d malformed keys: %w", s.url.Redacted(), len(bad), errors.Join(bad...)))
	}
	return nil
}

func (s *RemoteKeySet) report(err error) {
	if s.onError != nil {
		s.onError(err)
	}
}

// run refreshes the set in the background until s.ctx ends, then waits
// for downloads under way and closes s.done.
func (s *RemoteKeySet) run(loaded bool) {
	defer close(s.done)
	defer s.fetches.Wait()
	defer func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
	}()
	retry := s.startRetry
	delay := s.refresh
	if !loaded {
		delay = retry
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-timer.C:
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
			retry = min(retry*2, maxRetry, s.refresh)
		} else {
			retry = s.startRetry
			delay = s.refresh
		}
		timer.Reset(delay)
	}
}
