package jwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/typedauth/auth"
)

// jwksTestServer is a loopback key server whose behaviour a test can swap
// while it runs, and which counts the requests it receives.
type jwksTestServer struct {
	*httptest.Server
	requests atomic.Int64
	handler  atomic.Pointer[jwksHandler]
	hits     chan struct{} // one value per request, dropped when full
}

func newJWKSTestServer(tb testing.TB, h jwksHandler) *jwksTestServer {
	tb.Helper()
	s := &jwksTestServer{hits: make(chan struct{}, 64)}
	s.set(h)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		select {
		case s.hits <- struct{}{}:
		default:
		}
		(*s.handler.Load())(w, r)
	}))
	tb.Cleanup(s.Close)
	return s
}

func (s *jwksTestServer) set(h jwksHandler) { s.handler.Store(&h) }

// waitHits waits for n more requests, failing the test after a generous
// bound instead of hanging.
func (s *jwksTestServer) waitHits(tb testing.TB, n int) {
	tb.Helper()
	timeout := time.After(30 * time.Second)
	for range n {
		select {
		case <-s.hits:
		case <-timeout:
			tb.Fatalf("server did not receive %d more requests in time", n)
		}
	}
}

// drainHits forgets the requests seen so far.
func (s *jwksTestServer) drainHits() {
	for {
		select {
		case <-s.hits:
		default:
			return
		}
	}
}

func newRemoteTestSet(tb testing.TB, url string, opts RemoteOptions) *RemoteKeySet {
	tb.Helper()
	ks, err := NewRemoteKeySet(context.Background(), url, opts)
	if err != nil {
		tb.Fatalf("NewRemoteKeySet: %v", err)
	}
	tb.Cleanup(func() { ks.Close() })
	return ks
}

func wantKey(tb testing.TB, ks KeySet, kid, alg string, want any) {
	tb.Helper()
	got, err := ks.VerificationKey(context.Background(), kid, alg)
	if err != nil || !samePublicKey(got, want) {
		tb.Fatalf("VerificationKey(%q, %q) = %T, %v; want the published %T", kid, alg, got, err, want)
	}
}

func wantErr(tb testing.TB, ks KeySet, kid, alg string, want error) {
	tb.Helper()
	got, err := ks.VerificationKey(context.Background(), kid, alg)
	if !errors.Is(err, want) || got != nil {
		tb.Fatalf("VerificationKey(%q, %q) = %T, %v; want %v", kid, alg, got, err, want)
	}
}

func TestRemoteKeySetAnswersKnownKidsFromMemory(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	srv := newJWKSTestServer(t, respondBody(jwksJSON(t,
		jwkOf(t, k.rsa.Public(), map[string]any{"kid": "rsa"}),
		jwkOf(t, k.p384.Public(), map[string]any{"kid": "ec", "alg": "ES384"}),
		jwkOf(t, k.ed.Public(), map[string]any{"kid": "ed"}),
	)))
	ks := newRemoteTestSet(t, srv.URL, RemoteOptions{})
	if !ks.Loaded() {
		t.Fatal("Loaded() = false after a successful construction")
	}
	if ks.URL() != srv.URL {
		t.Errorf("URL() = %q; want %q", ks.URL(), srv.URL)
	}
	for range 100 {
		wantKey(t, ks, "rsa", "PS256", k.rsa.Public())
		wantKey(t, ks, "ec", "ES384", k.p384.Public())
		wantKey(t, ks, "ed", "EdDSA", k.ed.Public())
		wantKey(t, ks, "", "EdDSA", k.ed.Public())
		wantErr(t, ks, "ec", "ES256", ErrKeyNotFound) // declared alg mismatch: no refresh
		wantErr(t, ks, "rsa", "HS256", ErrKeyNotFound)
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("server saw %d requests; want 1 (lookups of known kids do no I/O)", got)
	}
}

func TestRemoteKeySetKnownKidDoesNotAllocate(t *testing.T) {
	k := testKeys(t)
	srv := newJWKSTestServer(t, respondBody(jwksJSON(t, jwkOf(t, k.rsa.Public(), map[string]any{"kid": "rsa"}))))
	ks := newRemoteTestSet(t, srv.URL, RemoteOptions{})
	ctx := context.Background()
	if allocs := testing.AllocsPerRun(100, func() { ks.VerificationKey(ctx, "rsa", "RS256") }); allocs != 0 {
		t.Errorf("known-kid lookup allocates %v times; want 0", allocs)
	}
}

func TestRemoteKeySetPicksUpRotatedKeys(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	keyA := jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A", "alg": "RS256"})
	keyB := jwkOf(t, k.p256.Public(), map[string]any{"kid": "B", "alg": "ES256"})
	srv := newJWKSTestServer(t, respondBody(jwksJSON(t, keyA)))
	ks := newRemoteTestSet(t, srv.URL, RemoteOptions{UnknownKIDInterval: time.Nanosecond})

	wantErr(t, ks, "B", "ES256", ErrKeyNotFound)
	if got := srv.requests.Load(); got != 2 {
		t.Fatalf("server saw %d requests; want 2 (an unknown kid triggers one download)", got)
	}

	srv.set(respondBody(jwksJSON(t, keyA, keyB)))
	wantKey(t, ks, "B", "ES256", k.p256.Public())
	wantKey(t, ks, "B", "ES256", k.p256.Public())
	wantKey(t, ks, "A", "RS256", k.rsa.Public())
	if got := srv.requests.Load(); got != 3 {
		t.Fatalf("server saw %d requests; want 3 (the new kid is accepted after one refresh)", got)
	}

	// A revoked key disappears at the next download.
	srv.set(respondBody(jwksJSON(t, keyB)))
	if err := ks.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	wantErr(t, ks, "A", "RS256", ErrKeyNotFound)
	wantKey(t, ks, "B", "ES256", k.p256.Public())
}

func TestRemoteKeySetUnknownKidStormCostsOneRequest(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	keyA := jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A"})
	keyB := jwkOf(t, k.ed.Public(), map[string]any{"kid": "B"})
	srv := newJWKSTestServer(t, respondBody(jwksJSON(t, keyA)))
	ks := newRemoteTestSet(t, srv.URL, RemoteOptions{UnknownKIDInterval: time.Hour, RefreshInterval: time.Hour})

	// The download the storm triggers is held until every lookup has
	// started, so that they pile up on it.
	release := make(chan struct{})
	rotated := jwksJSON(t, keyA, keyB)
	srv.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Write(rotated)
	})
	const storm = 1000
	var started, finished sync.WaitGroup
	errs := make(chan error, storm)
	for range storm {
		started.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			started.Done()
			key, err := ks.VerificationKey(context.Background(), "B", "EdDSA")
			if err == nil && !samePublicKey(key, k.ed.Public()) {
				err = fmt.Errorf("wrong key %T", key)
			}
			errs <- err
		}()
	}
	started.Wait()
	close(release)
	finished.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a lookup in the storm failed: %v", err)
		}
	}
	if got := srv.requests.Load(); got != 2 {
		t.Fatalf("server saw %d requests for %d concurrent misses; want 2 (start-up + one refresh)", got, storm)
	}

	// Within the interval, new unknown kids are refused without I/O.
	var wg sync.WaitGroup
	var notFound atomic.Int64
	for i := range storm {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ks.VerificationKey(context.Background(), fmt.Sprintf("random-%d", i), "EdDSA"); errors.Is(err, ErrKeyNotFound) {
				notFound.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := notFound.Load(); got != storm {
		t.Errorf("%d of %d random kids were ErrKeyNotFound; want all", got, storm)
	}
	if got := srv.requests.Load(); got != 2 {
		t.Errorf("server saw %d requests after a second storm; want still 2 (rate limited)", got)
	}
}

func TestRemoteKeySetSurvivesServerFailures(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	good := jwksJSON(t, jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A"}))
	onlyBad := jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "B"})
	onlyBad["n"] = 42
	const fetchTimeout = time.Second // generous: construction must succeed on a loaded machine
	const maxBody = 64 << 10
	tests := []struct {
		name    string
		handler func(tb testing.TB) jwksHandler
		wantErr error
	}{
		{name: "status 500", handler: func(testing.TB) jwksHandler { return respondStatus(500) }, wantErr: ErrKeySetUnavailable},
		{name: "status 503", handler: func(testing.TB) jwksHandler { return respondStatus(503) }, wantErr: ErrKeySetUnavailable},
		{name: "garbage", handler: func(testing.TB) jwksHandler { return respondBody([]byte("\x00\xff garbage")) }, wantErr: ErrKeySetUnavailable},
		{name: "truncated JSON", handler: func(testing.TB) jwksHandler { return respondBody(good[:len(good)/2]) }, wantErr: ErrKeySetUnavailable},
		{name: "body over the cap", handler: func(tb testing.TB) jwksHandler { return respondHuge(tb, maxBody) }, wantErr: ErrBodyTooLarge},
		{name: "empty set", handler: func(tb testing.TB) jwksHandler { return respondBody(jwksJSON(tb)) }, wantErr: ErrNoUsableKey},
		{name: "only bad keys", handler: func(tb testing.TB) jwksHandler { return respondBody(jwksJSON(tb, onlyBad)) }, wantErr: ErrNoUsableKey},
		{name: "hangs past the timeout", handler: func(tb testing.TB) jwksHandler { return respondHang(stopChan(tb)) }, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newJWKSTestServer(t, respondBody(good))
			var reported atomic.Int64
			ks := newRemoteTestSet(t, srv.URL, RemoteOptions{
				UnknownKIDInterval: time.Nanosecond,
				FetchTimeout:       fetchTimeout,
				MaxBodyBytes:       maxBody,
				OnError:            func(error) { reported.Add(1) },
			})
			srv.set(tt.handler(t))

			start := time.Now()
			err := ks.Refresh(context.Background())
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrKeySetUnavailable) {
				t.Fatalf("Refresh = %v; want %v matching ErrKeySetUnavailable", err, tt.wantErr)
			}
			wantKey(t, ks, "A", "RS256", k.rsa.Public())

			// A token with a new kid makes the set try again; that attempt
			// fails within the fetch timeout even though the lookup's own
			// context has no deadline. The set has loaded, so the kid is
			// unknown (401), not the keys unavailable (503): a client
			// cannot turn a key server's failure into 5xx at will.
			_, err = ks.VerificationKey(context.Background(), "B", "RS256")
			if !errors.Is(err, ErrKeyNotFound) || errors.Is(err, auth.ErrUnavailable) {
				t.Fatalf("VerificationKey(unknown kid) = %v; want ErrKeyNotFound, not auth.ErrUnavailable", err)
			}
			if elapsed := time.Since(start); elapsed > 2*fetchTimeout+15*time.Second {
				t.Errorf("two failed downloads took %v; want each bounded by the %v fetch timeout", elapsed, fetchTimeout)
			}
			wantKey(t, ks, "A", "RS256", k.rsa.Public())
			if got := reported.Load(); got != 2 {
				t.Errorf("OnError was called %d times; want 2, once per failed download", got)
			}
		})
	}
}

func TestRemoteKeySetReportsSkippedKeys(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	bad := jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "bad"})
	bad["e"] = "%%%"
	srv := newJWKSTestServer(t, respondBody(jwksJSON(t,
		jwkOf(t, k.rsa.Public(), map[string]any{"kid": "good"}),
		bad,
		jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "enc", "use": "enc"}),
	)))
	var reports []error
	var mu sync.Mutex
	ks := newRemoteTestSet(t, srv.URL, RemoteOptions{OnError: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, err)
	}})
	wantKey(t, ks, "good", "RS256", k.rsa.Public())
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 1 || !strings.Contains(reports[0].Error(), "skipped 1 malformed keys") {
		t.Errorf("OnError got %v; want one report of the malformed key (the enc key is not malformed)", reports)
	}
}

func TestRemoteKeySetNeverLoaded(t *testing.T) {
	t.Parallel()
	k := testKeys(t)

	t.Run("construction fails by default", func(t *testing.T) {
		t.Parallel()
		srv := newJWKSTestServer(t, respondStatus(500))
		ks, err := NewRemoteKeySet(context.Background(), srv.URL, RemoteOptions{})
		if ks != nil || !errors.Is(err, ErrKeySetUnavailable) {
			t.Fatalf("NewRemoteKeySet = %v, %v; want nil, ErrKeySetUnavailable", ks, err)
		}
	})

	t.Run("AllowInitialFailure answers 503 until loaded", func(t *testing.T) {
		t.Parallel()
		srv := newJWKSTestServer(t, respondStatus(500))
		ks := newRemoteTestSet(t, srv.URL, RemoteOptions{
			AllowInitialFailure: true,
			RefreshInterval:     time.Hour,
			UnknownKIDInterval:  time.Hour,
		})
		if ks.Loaded() {
			t.Fatal("Loaded() = true after a failed first download")
		}
		for _, kid := range []string{"A", "", "A"} {
			_, err := ks.VerificationKey(context.Background(), kid, "RS256")
			if !errors.Is(err, ErrKeySetUnavailable) || !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("VerificationKey(%q) on a never-loaded set = %v; want auth.ErrUnavailable, not ErrKeyNotFound", kid, err)
			}
			if status := auth.StatusOf(err); status != http.StatusServiceUnavailable {
				t.Errorf("status of %v = %d; want 503", err, status)
			}
		}
		if got := srv.requests.Load(); got != 2 {
			t.Errorf("server saw %d requests; want 2 (start-up, then one rate-limited retry on the first lookup)", got)
		}
		srv.set(respondBody(jwksJSON(t, jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A"}))))
		if err := ks.Refresh(context.Background()); err != nil {
			t.Fatalf("Refresh = %v", err)
		}
		wantKey(t, ks, "A", "RS256", k.rsa.Public())
	})

	t.Run("background retries until the server is back", func(t *testing.T) {
		t.Parallel()
		srv := newJWKSTestServer(t, respondStatus(500))
		ks := newRemoteTestSet(t, srv.URL, RemoteOptions{
			AllowInitialFailure: true,
			RefreshInterval:     10 * time.Millisecond,
			UnknownKIDInterval:  time.Hour,
		})
		srv.set(respondBody(jwksJSON(t, jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A"}))))
		srv.drainHits()
		// The background goroutine starts a download only after the
		// previous one has finished, so two more requests mean at least
		// one download of the repaired set has completed.
		srv.waitHits(t, 2)
		if !ks.Loaded() {
			t.Fatal("Loaded() = false after the server recovered")
		}
		if key, err := ks.index().lookup("A", "RS256"); err != nil || !samePublicKey(key, k.rsa.Public()) {
			t.Fatalf("loaded set lookup = %T, %v", key, err)
		}
	})
}

func TestRemoteKeySetBackgroundRefresh(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	srv := newJWKSTestServer(t, respondBody(jwksJSON(t, jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A"}))))
	ks := newRemoteTestSet(t, srv.URL, RemoteOptions{RefreshInterval: 10 * time.Millisecond, UnknownKIDInterval: time.Hour})
	srv.set(respondBody(jwksJSON(t, jwkOf(t, k.ed.Public(), map[string]any{"kid": "B"}))))
	srv.drainHits()
	srv.waitHits(t, 2)
	// Read the index directly: a lookup of B could itself trigger a download.
	if key, err := ks.index().lookup("B", "EdDSA"); err != nil || !samePublicKey(key, k.ed.Public()) {
		t.Fatalf("after background refreshes, B = %T, %v; want the new key", key, err)
	}
	if _, err := ks.index().lookup("A", "RS256"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("after background refreshes, A = %v; want ErrKeyNotFound", err)
	}
}

func TestRemoteKeySetCloseStopsGoroutines(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	good := jwksJSON(t, jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A"}))

	stopped := func(tb testing.TB, ks *RemoteKeySet) {
		tb.Helper()
		select {
		case <-ks.done:
		case <-time.After(30 * time.Second):
			tb.Fatal("the set's goroutines did not stop")
		}
	}

	t.Run("Close cancels a hanging download", func(t *testing.T) {
		t.Parallel()
		srv := newJWKSTestServer(t, respondBody(good))
		ks := newRemoteTestSet(t, srv.URL, RemoteOptions{RefreshInterval: 5 * time.Millisecond, FetchTimeout: time.Hour, UnknownKIDInterval: time.Hour})
		srv.set(respondHang(stopChan(t)))
		srv.drainHits()
		srv.waitHits(t, 1) // a background download is now stuck
		refreshed := make(chan error, 1)
		go func() { refreshed <- ks.Refresh(context.Background()) }() // joins the stuck download
		closed := make(chan struct{})
		go func() {
			ks.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			t.Fatal("Close did not return while a download hung")
		}
		stopped(t, ks)
		if err := <-refreshed; err == nil {
			t.Error("Refresh joined to a cancelled download returned nil")
		}
		if err := ks.Refresh(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Refresh after Close = %v; want ErrClosed", err)
		}
		before := srv.requests.Load()
		wantKey(t, ks, "A", "RS256", k.rsa.Public())
		wantErr(t, ks, "unknown", "RS256", ErrKeyNotFound)
		if got := srv.requests.Load(); got != before {
			t.Errorf("a closed set sent %d requests; want none", got-before)
		}
		ks.Close() // idempotent
	})

	t.Run("cancelling the context stops the set", func(t *testing.T) {
		t.Parallel()
		srv := newJWKSTestServer(t, respondBody(good))
		ctx, cancel := context.WithCancel(context.Background())
		ks, err := NewRemoteKeySet(ctx, srv.URL, RemoteOptions{RefreshInterval: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		srv.waitHits(t, 2) // the background refresh runs
		cancel()
		stopped(t, ks)
		wantKey(t, ks, "A", "RS256", k.rsa.Public())
	})

	t.Run("failed construction leaves nothing running", func(t *testing.T) {
		t.Parallel()
		srv := newJWKSTestServer(t, respondHang(stopChan(t)))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		ks, err := NewRemoteKeySet(ctx, srv.URL, RemoteOptions{})
		if ks != nil || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrKeySetUnavailable) {
			t.Fatalf("NewRemoteKeySet = %v, %v; want nil and a deadline error", ks, err)
		}
		if elapsed := time.Since(start); elapsed > 15*time.Second {
			t.Errorf("construction took %v; want it bounded by ctx", elapsed)
		}
	})
}

func TestRemoteKeySetWaitingLookupHonoursItsContext(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	srv := newJWKSTestServer(t, respondBody(jwksJSON(t, jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A"}))))
	ks := newRemoteTestSet(t, srv.URL, RemoteOptions{FetchTimeout: time.Hour, UnknownKIDInterval: time.Nanosecond})
	srv.set(respondHang(stopChan(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ks.VerificationKey(ctx, "B", "RS256")
	if !errors.Is(err, ErrKeyNotFound) || errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("VerificationKey with an expiring context = %v; want ErrKeyNotFound (the set has loaded)", err)
	}
	// A generous bound for a loaded machine: without the context, the
	// lookup would wait for the hour-long fetch timeout.
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("the lookup waited %v; want about its context's 50ms", waited)
	}
}

func TestRemoteKeySetURLPolicy(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	set := jwksJSON(t, jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A"}))
	plain := newJWKSTestServer(t, respondBody(set))
	secure := httptest.NewTLSServer(http.RedirectHandler(plain.URL, http.StatusFound))
	t.Cleanup(secure.Close)
	// inProcess answers every request in memory, whatever its host, so that
	// a non-loopback http URL can be tested offline.
	inProcess := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		rec.Write(set)
		return rec.Result(), nil
	})}

	tests := []struct {
		name    string
		url     string
		opts    RemoteOptions
		wantErr error // nil: success
	}{
		{name: "redirect from https to http", url: secure.URL, opts: RemoteOptions{Client: secure.Client()}, wantErr: ErrInsecureURL},
		{name: "http on a remote host", url: "http://keys.internal/jwks", opts: RemoteOptions{Client: inProcess}, wantErr: ErrInsecureURL},
		{name: "http on a remote host, allowed", url: "http://keys.internal/jwks", opts: RemoteOptions{Client: inProcess, InsecureAllowHTTP: true}},
		{name: "loopback http", url: plain.URL},
		{name: "negative timeout", url: plain.URL, opts: RemoteOptions{FetchTimeout: -1}, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ks, err := NewRemoteKeySet(context.Background(), tt.url, tt.opts)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("NewRemoteKeySet(%q) = %v", tt.url, err)
				}
				defer ks.Close()
				wantKey(t, ks, "A", "RS256", k.rsa.Public())
				return
			}
			if ks != nil || err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("NewRemoteKeySet(%q) = %v, %v; want %v", tt.url, ks, err, tt.wantErr)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRemoteKeySetBehindGuard runs tokens through auth.Guard with a
// verifier that takes its keys from a RemoteKeySet: the statuses a client
// sees for a key server that is down, a valid token, an unknown kid and a
// forged signature.
func TestRemoteKeySetBehindGuard(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	srv := newJWKSTestServer(t, respondStatus(500))
	ks := newRemoteTestSet(t, srv.URL, RemoteOptions{AllowInitialFailure: true, UnknownKIDInterval: time.Nanosecond})

	verify := func(ctx context.Context, raw string) (auth.Claims, error) {
		claims := gojwt.MapClaims{}
		_, err := gojwt.ParseWithClaims(raw, claims, func(tok *gojwt.Token) (any, error) {
			kid, _ := tok.Header["kid"].(string)
			return ks.VerificationKey(ctx, kid, tok.Method.Alg())
		}, gojwt.WithValidMethods([]string{"RS256", "ES256", "EdDSA"}), gojwt.WithExpirationRequired())
		if err != nil {
			if errors.Is(err, auth.ErrUnavailable) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", auth.ErrInvalidCredential, err)
		}
		return auth.Claims(claims), nil
	}
	h := auth.New(auth.Bearer(), verify).Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := auth.From[auth.Claims](r.Context())
		fmt.Fprint(w, "hello ", claims["sub"])
	}))
	sign := func(key any, method gojwt.SigningMethod, kid string) string {
		tok := gojwt.NewWithClaims(method, gojwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	call := func(token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	valid := sign(k.rsa, gojwt.SigningMethodRS256, "A")
	if rec := call(valid); rec.Code != http.StatusServiceUnavailable || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("key server down: status %d %q; want 503 problem+json", rec.Code, rec.Header().Get("Content-Type"))
	}

	srv.set(respondBody(jwksJSON(t,
		jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A", "alg": "RS256"}),
		jwkOf(t, k.ed.Public(), map[string]any{"kid": "E"}),
	)))
	tests := []struct {
		name       string
		token      string
		wantStatus int
	}{
		{name: "valid RS256", token: valid, wantStatus: http.StatusOK},
		{name: "valid EdDSA", token: sign(k.ed, gojwt.SigningMethodEdDSA, "E"), wantStatus: http.StatusOK},
		{name: "unknown kid", token: sign(k.rsa, gojwt.SigningMethodRS256, "Z"), wantStatus: http.StatusUnauthorized},
		{name: "forged signature", token: sign(k.rsa2, gojwt.SigningMethodRS256, "A"), wantStatus: http.StatusUnauthorized},
		{name: "kid of another key type", token: sign(k.p256, gojwt.SigningMethodES256, "A"), wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := call(tt.token)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d (%s); want %d", rec.Code, rec.Body, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusOK && rec.Body.String() != "hello alice" {
				t.Errorf("body = %q; want %q", rec.Body, "hello alice")
			}
			if tt.wantStatus == http.StatusUnauthorized && !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q; want an invalid_token challenge", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// BenchmarkKeySetLookup compares a known-kid lookup in a remote set with a
// bare map lookup, the floor for any kid-indexed set.
func BenchmarkKeySetLookup(b *testing.B) {
	k := testKeys(b)
	srv := newJWKSTestServer(b, respondBody(jwksJSON(b,
		jwkOf(b, k.rsa.Public(), map[string]any{"kid": "rsa"}),
		jwkOf(b, k.p256.Public(), map[string]any{"kid": "ec"}),
		jwkOf(b, k.ed.Public(), map[string]any{"kid": "ed"}),
	)))
	ks := newRemoteTestSet(b, srv.URL, RemoteOptions{})
	ctx := context.Background()
	b.Run("map", func(b *testing.B) {
		m := map[string]any{"rsa": k.rsa.Public(), "ec": k.p256.Public(), "ed": k.ed.Public()}
		b.ReportAllocs()
		for b.Loop() {
			if m["ec"] == nil {
				b.Fatal("missing")
			}
		}
	})
	b.Run("remote", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ks.VerificationKey(ctx, "ec", "ES256"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("remote-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ks.VerificationKey(ctx, "ec", "ES256"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// A lookup that joins a download which began before the key was published
// must not give up on that stale answer: it downloads once more, when the
// rate limit allows.
func TestRemoteKeySetLookupAfterStaleDownload(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	keyA := jwkOf(t, k.rsa.Public(), map[string]any{"kid": "A", "alg": "RS256"})
	keyB := jwkOf(t, k.p256.Public(), map[string]any{"kid": "B", "alg": "ES256"})
	srv := newJWKSTestServer(t, respondBody(jwksJSON(t, keyA)))
	ks := newRemoteTestSet(t, srv.URL, RemoteOptions{UnknownKIDInterval: time.Nanosecond})
	srv.drainHits()

	// A refresh is under way and answers with the old set; only once it has
	// been received is key B published.
	release := make(chan struct{})
	old := jwksJSON(t, keyA)
	srv.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Content-Type", "application/json")
		w.Write(old)
	})
	refreshed := make(chan error, 1)
	go func() { refreshed <- ks.Refresh(context.Background()) }()
	srv.waitHits(t, 1)

	looked := make(chan error, 1)
	go func() {
		key, err := ks.VerificationKey(context.Background(), "B", "ES256")
		if err == nil && !samePublicKey(key, k.p256.Public()) {
			err = fmt.Errorf("got another key: %T", key)
		}
		looked <- err
	}()
	// Let the lookup join the refresh under way, then publish B and let the
	// stale refresh answer.
	time.Sleep(20 * time.Millisecond)
	srv.set(respondBody(jwksJSON(t, keyA, keyB)))
	close(release)
	if err := <-refreshed; err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if err := <-looked; err != nil {
		t.Fatalf("VerificationKey(B) after a stale download = %v; want key B from one more download", err)
	}
}
