package jwt

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/typedauth/auth"
)

// The remote key set's promises, tested twice: deterministically inside a
// synctest bubble, where the key server is a handler behind an in-memory
// transport (a bubble cannot use real sockets), and through a real
// httptest server with real time and short intervals.

// keyServer is a JWKS endpoint whose response can change, counting the
// requests it gets. It serves in memory as an http.RoundTripper, or as the
// handler of an httptest server.
type keyServer struct {
	requests atomic.Int64
	mu       sync.Mutex
	h        jwksHandler
	times    []time.Time // of the requests
}

func (s *keyServer) set(h jwksHandler) {
	s.mu.Lock()
	s.h = h
	s.mu.Unlock()
}

func (s *keyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	h := s.h
	s.mu.Unlock()
	h(w, r)
}

// RoundTrip serves r with the handler in memory and honours r's context.
func (s *keyServer) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeHTTP(rec, r)
	}()
	select {
	case <-done:
		return rec.Result(), nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

// remoteFixture is a key server, a remote set on it and an Auth verifying
// with the set, plus an issuer per published key.
type remoteFixture struct {
	srv     *keyServer
	set     *RemoteKeySet
	auth    *Auth
	signers map[string]*Issuer
}

// newRemoteFixture loads a set holding key A through the in-memory
// transport (inMemory) or a real httptest server. Keys A, B and C are RSA
// keys signing RS256.
func newRemoteFixture(t *testing.T, inMemory bool, opts RemoteOptions) *remoteFixture {
	t.Helper()
	k := testKeys(t)
	f := &remoteFixture{srv: &keyServer{}, signers: map[string]*Issuer{}}
	for kid, key := range map[string]crypto.Signer{"A": k.rsa, "B": k.rsa2, "C": k.rsa3} {
		iss, err := NewIssuer(Config{Keys: []Key{{ID: kid, Key: key}}, Algorithms: []string{"RS256"}, Expiration: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		f.signers[kid] = iss
	}
	f.publish(t, "A")
	url := "http://127.0.0.1/jwks.json"
	if inMemory {
		opts.Client = &http.Client{Transport: f.srv}
	} else {
		hs := httptest.NewServer(f.srv)
		t.Cleanup(hs.Close)
		url = hs.URL
	}
	set, err := NewRemoteKeySet(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	f.set = set
	f.auth, err = New(Config{KeySet: set, Algorithms: []string{"RS256"}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// publish makes the server serve the public keys of kids.
func (f *remoteFixture) publish(t *testing.T, kids ...string) {
	t.Helper()
	var keys []any
	for _, kid := range kids {
		keys = append(keys, jwkOf(t, publicOf(f.signers[kid].signer.sign), map[string]any{"kid": kid, "alg": "RS256"}))
	}
	f.srv.set(respondBody(jwksJSON(t, keys...)))
}

// status is the status of a request bearing a token signed by kid's key
// (any kid: unknown ones are signed by A's key).
func (f *remoteFixture) status(t *testing.T, kid string) int {
	t.Helper()
	signer := f.signers[kid]
	if signer == nil {
		signer = f.signers["A"]
	}
	tok, err := signer.Encode(auth.Claims{"sub": "u"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if signer == f.signers["A"] && kid != "A" {
		tok = resign(t, signer, kid)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	f.auth.Guard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, req)
	return rec.Code
}

// resign returns a token signed by iss's key under another kid.
func resign(t *testing.T, iss *Issuer, kid string) string {
	t.Helper()
	other := *iss.signer
	other.id = kid
	cp := *iss
	cp.signer = &other
	tok, err := cp.Encode(auth.Claims{"sub": "u"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// untilAccepted polls kid once a second, up to limit, and returns how long
// after the first request it was first accepted, or limit+1s.
func (f *remoteFixture) untilAccepted(t *testing.T, kid string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) <= limit {
		if f.status(t, kid) == http.StatusOK {
			return time.Since(start)
		}
		time.Sleep(time.Second)
	}
	return limit + time.Second
}

// TestRemoteUnknownKidIs401OnceLoaded: once a set has loaded, a token with
// an unknown kid gets 401 whatever the download it triggers meets: 500s,
// garbage, an empty set, a server that hangs. Known kids keep working.
func TestRemoteUnknownKidIs401OnceLoaded(t *testing.T) {
	failures := map[string]func(t *testing.T) jwksHandler{
		"500":     func(*testing.T) jwksHandler { return respondStatus(500) },
		"garbage": func(*testing.T) jwksHandler { return respondBody([]byte("<html>not json")) },
		"empty":   func(t *testing.T) jwksHandler { return respondBody(jwksJSON(t)) },
		"hangs":   func(t *testing.T) jwksHandler { return respondHang(stopChan(t)) },
	}
	for name, failure := range failures {
		t.Run(name+"/synctest", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newRemoteFixture(t, true, RemoteOptions{})
				f.srv.set(failure(t))
				start := time.Now()
				if got := f.status(t, "unknown"); got != http.StatusUnauthorized {
					t.Errorf("unknown kid: status %d; want 401", got)
				}
				if waited := time.Since(start); waited > DefaultMissWait {
					t.Errorf("the request waited %v; want at most %v", waited, DefaultMissWait)
				}
				if got := f.status(t, "A"); got != http.StatusOK {
					t.Errorf("known kid: status %d; want 200", got)
				}
			})
		})
		t.Run(name+"/httptest", func(t *testing.T) {
			t.Parallel()
			f := newRemoteFixture(t, false, RemoteOptions{FetchTimeout: 5 * time.Second, MissWait: 200 * time.Millisecond})
			f.srv.set(failure(t))
			if got := f.status(t, "unknown"); got != http.StatusUnauthorized {
				t.Errorf("unknown kid: status %d; want 401", got)
			}
			if got := f.status(t, "A"); got != http.StatusOK {
				t.Errorf("known kid: status %d; want 200", got)
			}
		})
	}
}

// neverLoaded returns a key server answering 500 and a remote set on it
// that has never loaded, closed at the end of the test.
func neverLoaded(t *testing.T) (*keyServer, *RemoteKeySet) {
	t.Helper()
	srv := &keyServer{}
	srv.set(respondStatus(500))
	set, err := NewRemoteKeySet(context.Background(), "http://127.0.0.1/jwks.json",
		RemoteOptions{Client: &http.Client{Transport: srv}, AllowInitialFailure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	return srv, set
}

// TestRemoteNeverLoadedIs503: only while no set has ever loaded is a token
// answered 503; the set keeps retrying and serves once the server recovers.
func TestRemoteNeverLoadedIs503(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, set := neverLoaded(t)
		f := &remoteFixture{srv: srv, set: set, signers: map[string]*Issuer{}}
		f.signers["A"] = MustNewIssuer(Config{Keys: []Key{{ID: "A", Key: testKeys(t).rsa}}, Algorithms: []string{"RS256"}, Expiration: time.Hour})
		f.auth = MustNew(Config{KeySet: set, Algorithms: []string{"RS256"}})
		if got := f.status(t, "A"); got != http.StatusServiceUnavailable {
			t.Errorf("never loaded: status %d; want 503", got)
		}
		f.publish(t, "A")
		if waited := f.untilAccepted(t, "A", time.Minute); waited > 2*time.Second {
			t.Errorf("after the server recovered, key A was accepted after %v; want within the 1 s retry", waited)
		}
		srv.set(respondStatus(500))
		if got := f.status(t, "unknown"); got != http.StatusUnauthorized {
			t.Errorf("loaded, server failing, unknown kid: status %d; want 401", got)
		}
	})
}

// TestRemoteNeverLoadedSymmetricIs401: a token whose alg no fetched key can
// serve (HS256: key sets drop oct keys) is refused with 401 at once, without
// a download, even while the set has never loaded.
func TestRemoteNeverLoadedSymmetricIs401(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, set := neverLoaded(t)
		secret := []byte("0123456789abcdef0123456789abcdef")
		a := MustNew(Config{Secret: secret, KeyID: "local", KeySet: set, Algorithms: []string{"HS256", "RS256"}, Expiration: time.Hour})
		other := MustNewIssuer(Config{Keys: []Key{{ID: "other", Key: secret}}, Algorithms: []string{"HS256"}, Expiration: time.Hour})
		requests := srv.requests.Load()
		start := time.Now()
		for kid, want := range map[string]int{"local": http.StatusOK, "other": http.StatusUnauthorized} {
			iss := other
			if kid == "local" {
				iss = a.Issuer
			}
			tok, err := iss.Encode(auth.Claims{"sub": "u"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			status := http.StatusOK
			if _, err = a.Verify(context.Background(), tok); err != nil {
				var ae *auth.Error
				if status = http.StatusInternalServerError; errors.As(err, &ae) {
					status = ae.Status
				}
			}
			if status != want || (want != http.StatusOK && !errors.Is(err, ErrKeyNotFound)) {
				t.Errorf("HS256 token with kid %q: status %d (%v); want %d", kid, status, err, want)
			}
		}
		if got := srv.requests.Load(); got != requests || time.Since(start) != 0 {
			t.Errorf("HS256 tokens caused %d downloads and waited %v; want none", got-requests, time.Since(start))
		}
	})
}

// TestRemoteKnownKidsNeverWait: while an unknown kid's download hangs, a
// request with a known kid is answered at once, and the unknown one waits
// MissWait at most.
func TestRemoteKnownKidsNeverWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRemoteFixture(t, true, RemoteOptions{})
		f.srv.set(respondHang(stopChan(t)))
		done := make(chan time.Duration)
		go func() {
			start := time.Now()
			f.status(t, "unknown")
			done <- time.Since(start)
		}()
		synctest.Wait() // the unknown kid's download is under way, hanging
		start := time.Now()
		if got := f.status(t, "A"); got != http.StatusOK || time.Since(start) != 0 {
			t.Errorf("known kid during a hanging download: status %d after %v; want 200 at once", got, time.Since(start))
		}
		if waited := <-done; waited != DefaultMissWait {
			t.Errorf("the unknown kid waited %v; want exactly %v", waited, DefaultMissWait)
		}
	})
}

// TestRemoteRotationAfterFailure: a key the issuer publishes right after a
// failed download is accepted within 15 s of its first use.
func TestRemoteRotationAfterFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRemoteFixture(t, true, RemoteOptions{})
		f.srv.set(respondStatus(500))
		if got := f.status(t, "B"); got != http.StatusUnauthorized {
			t.Fatalf("B before it is published: status %d; want 401", got)
		}
		f.publish(t, "A", "B")
		if waited := f.untilAccepted(t, "B", time.Minute); waited > 15*time.Second {
			t.Errorf("B was accepted %v after its first use; want at most 15 s", waited)
		}
	})
	t.Run("httptest", func(t *testing.T) {
		t.Parallel()
		f := newRemoteFixture(t, false, RemoteOptions{UnknownKIDInterval: 300 * time.Millisecond, MissWait: 200 * time.Millisecond})
		f.srv.set(respondStatus(500))
		if got := f.status(t, "B"); got != http.StatusUnauthorized {
			t.Fatalf("B before it is published: status %d; want 401", got)
		}
		f.publish(t, "A", "B")
		// Real time under a loaded machine: the key is due one interval
		// after its first use; 15 s is the promise of the default options.
		first := time.Now()
		for f.status(t, "B") != http.StatusOK {
			if time.Since(first) > 15*time.Second {
				t.Fatal("B was not accepted within 15 s of its first use")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestRemoteBurstThenRotation: a burst of 1,000 unknown kids, and a trickle
// of more after it, cost at most one download per 10 s; a key published
// during the trickle is accepted within 15 s of its first use.
func TestRemoteBurstThenRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRemoteFixture(t, true, RemoteOptions{})
		start, before := time.Now(), f.srv.requests.Load()
		var wg sync.WaitGroup
		var not401 atomic.Int64
		for i := range 1000 {
			wg.Go(func() {
				if f.status(t, fmt.Sprintf("random-%d", i)) != http.StatusUnauthorized {
					not401.Add(1)
				}
			})
		}
		wg.Wait()
		if n := not401.Load(); n != 0 {
			t.Errorf("%d of 1000 unknown kids did not get 401", n)
		}
		stop := make(chan struct{})
		trickle := make(chan struct{})
		go func() {
			defer close(trickle)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					f.status(t, fmt.Sprintf("trickle-%d", i))
				}
			}
		}()
		time.Sleep(3 * time.Second)
		f.publish(t, "A", "C")
		waited := f.untilAccepted(t, "C", time.Minute)
		close(stop)
		<-trickle
		if waited > 15*time.Second {
			t.Errorf("C was accepted %v after its first use; want at most 15 s", waited)
		}
		elapsed := time.Since(start)
		downloads := f.srv.requests.Load() - before
		if limit := 1 + int64(elapsed/DefaultUnknownKIDInterval); downloads > limit {
			t.Errorf("%d downloads in %v; want at most one per %v (%d); times %v since %v", downloads, elapsed, DefaultUnknownKIDInterval, limit, f.srv.times, start)
		}
	})
	t.Run("httptest", func(t *testing.T) {
		t.Parallel()
		const interval = 500 * time.Millisecond
		f := newRemoteFixture(t, false, RemoteOptions{UnknownKIDInterval: interval, MissWait: 200 * time.Millisecond})
		start, before := time.Now(), f.srv.requests.Load()
		var wg sync.WaitGroup
		for i := range 1000 {
			wg.Go(func() { f.status(t, fmt.Sprintf("random-%d", i)) })
		}
		wg.Wait()
		f.publish(t, "A", "C")
		first := time.Now()
		for f.status(t, "C") != http.StatusOK {
			if time.Since(first) > 15*time.Second {
				t.Fatal("C was not accepted within 15 s of its first use after the burst")
			}
			time.Sleep(50 * time.Millisecond)
		}
		// Real time on a loaded machine: downloads start at least one
		// interval apart, so the elapsed time bounds their number; one
		// more is allowed for a download under way as the clock is read.
		// The synctest variant above checks the exact bound.
		elapsed := time.Since(start)
		if downloads, limit := f.srv.requests.Load()-before, 2+int64(elapsed/interval); downloads > limit {
			f.srv.mu.Lock()
			var gaps []time.Duration
			for i := 1; i < len(f.srv.times); i++ {
				gaps = append(gaps, f.srv.times[i].Sub(f.srv.times[i-1]))
			}
			f.srv.mu.Unlock()
			t.Errorf("%d downloads in %v; want at most one per %v (%d); gaps %v", downloads, elapsed, interval, limit, gaps)
		}
	})
}

// TestRemoteKeySetErrorsAreShared: the errors a remote set gives are this
// package's sentinels, which match golang-jwt's and auth's.
func TestRemoteKeySetErrorsAreShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRemoteFixture(t, true, RemoteOptions{})
		_, err := f.set.VerificationKey(context.Background(), "unknown", "RS256")
		if !errors.Is(err, ErrKeyNotFound) || !errors.Is(err, auth.ErrInvalidCredential) {
			t.Errorf("unknown kid: %v; want ErrKeyNotFound, an auth.ErrInvalidCredential", err)
		}
		if gen := f.set.Generation(); gen == 0 || !f.set.HasKey("A") || f.set.HasKey("unknown") {
			t.Errorf("Generation %d, HasKey(A) %v; want a loaded generation holding A only", gen, f.set.HasKey("A"))
		}
	})
}
