package auth0_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// withKid returns tok with its header naming kid. The signature no longer
// matches, which does not matter for a kid that no key has: the token is
// rejected before any signature is checked.
func withKid(tb testing.TB, tok, kid string) string {
	tb.Helper()
	header := b64([]byte(`{"alg":"RS256","typ":"JWT","kid":"` + kid + `"}`))
	return header + tok[strings.IndexByte(tok, '.'):]
}

// warm sends a valid token, checking that the keys NewTenant downloaded
// serve it without another download.
func warm(tb testing.TB, h http.Handler, tn *tenant) {
	tb.Helper()
	if rec := serve(tb, h, "/me", "Bearer "+mint(tb, token{})); rec.Code != http.StatusOK {
		tb.Fatalf("warm-up: status = %d; want 200 (body %s)", rec.Code, rec.Body)
	}
	if n := tn.fetch.Load(); n != 1 {
		tb.Fatalf("warm-up: JWKS fetched %d times; want 1", n)
	}
}

func checkFetches(tb testing.TB, tn *tenant, want int32, when string) {
	tb.Helper()
	if got := tn.fetch.Load(); got != want {
		tb.Errorf("%s: JWKS fetched %d times; want %d", when, got, want)
	}
}

// TestRotatedKeyIsPickedUp: the tenant publishes a new key next to the
// old one; the first token signed by it makes the Auth download the set
// once more and is accepted, and tokens of the old key keep working.
func TestRotatedKeyIsPickedUp(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, tls)
			h := routes(newAuth(t, tn, jwt.RemoteOptions{}))
			warm(t, h, tn)

			tn.publish(map[string]*rsa.PublicKey{testKid: &testKeys()[0].PublicKey, "key-2": &testKeys()[1].PublicKey})
			rotated := "Bearer " + mint(t, token{kid: "key-2", key: testKeys()[1]})
			old := "Bearer " + mint(t, token{})
			for i := range 3 {
				if rec := serve(t, h, "/reports", rotated); rec.Code != http.StatusOK {
					t.Fatalf("new key, request %d: status = %d; want 200 (body %s)", i, rec.Code, rec.Body)
				}
				if rec := serve(t, h, "/reports", old); rec.Code != http.StatusOK {
					t.Fatalf("old key, request %d: status = %d; want 200 (body %s)", i, rec.Code, rec.Body)
				}
			}
			checkFetches(t, tn, 2, "after the rotation")

			// A token of the new kid signed by another key is still refused.
			forged := mint(t, token{kid: "key-2", key: testKeys()[0]})
			checkProblem(t, serve(t, h, "/me", "Bearer "+forged), http.StatusUnauthorized,
				invalidToken(detailSignature), detailSignature)
			checkFetches(t, tn, 2, "after a bad signature")
		})
	}
}

// TestUnknownKIDStorm: a thousand concurrent tokens with made-up kids cost
// the tenant one download, and each is rejected as signed by an unknown key.
func TestUnknownKIDStorm(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	a := newAuth(t, tn, jwt.RemoteOptions{})
	h := routes(a)
	warm(t, h, tn)

	release := tn.hold() // the refetch stays pending while the storm arrives
	t.Cleanup(release)
	tok := mint(t, token{})
	const n = 1000
	recs := make([]*httptest.ResponseRecorder, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			recs[i] = serve(t, h, "/me", "Bearer "+withKid(t, tok, fmt.Sprintf("random-%d", i)))
		})
	}
	close(start)
	for tn.fetch.Load() < 2 {
		runtime.Gosched() // until the refetch reached the tenant
	}
	release()
	wg.Wait()
	for i, rec := range recs {
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != invalidToken(detailUnknownKey) {
			t.Fatalf("request %d: status = %d, WWW-Authenticate = %q; want 401 %q", i, rec.Code,
				rec.Header().Get("WWW-Authenticate"), invalidToken(detailUnknownKey))
		}
	}
	checkFetches(t, tn, 2, fmt.Sprintf("after %d unknown kids", n))

	// The cached keys were replaced by the downloaded set and still serve.
	if rec := serve(t, h, "/me", "Bearer "+tok); rec.Code != http.StatusOK {
		t.Errorf("known kid after the storm: status = %d; want 200", rec.Code)
	}
	checkFetches(t, tn, 2, "after a known kid")
}

// TestUnknownKIDRateLimit: within the interval, a second unknown kid is
// rejected without a download, even if the tenant has published it since.
func TestUnknownKIDRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ks   jwt.RemoteOptions
		// wantStatus and wantFetches are those of the second unknown kid,
		// which the tenant has published by then.
		wantStatus  int
		wantFetches int32
	}{
		{name: "default interval", wantStatus: http.StatusUnauthorized, wantFetches: 2},
		{name: "an hour", ks: jwt.RemoteOptions{UnknownKIDInterval: time.Hour}, wantStatus: http.StatusUnauthorized, wantFetches: 2},
		{name: "a nanosecond", ks: jwt.RemoteOptions{UnknownKIDInterval: time.Nanosecond}, wantStatus: http.StatusOK, wantFetches: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false)
			h := routes(newAuth(t, tn, tt.ks))
			warm(t, h, tn)

			first := mint(t, token{kid: "key-2", key: testKeys()[1]})
			checkProblem(t, serve(t, h, "/me", "Bearer "+first), http.StatusUnauthorized,
				invalidToken(detailUnknownKey), detailUnknownKey)
			checkFetches(t, tn, 2, "after the first unknown kid")

			tn.publish(map[string]*rsa.PublicKey{testKid: &testKeys()[0].PublicKey, "key-3": &testKeys()[1].PublicKey})
			second := mint(t, token{kid: "key-3", key: testKeys()[1]})
			rec := serve(t, h, "/me", "Bearer "+second)
			if rec.Code != tt.wantStatus {
				t.Errorf("second unknown kid: status = %d; want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			checkFetches(t, tn, tt.wantFetches, "after the second unknown kid")
		})
	}
}

// TestUnknownKIDRefetchFails: when the download made for an unknown kid
// fails, that token is still a 401 (the keys loaded before say it is
// unknown), the failure reaches the key set's OnError hook, and tokens of
// the cached keys keep being accepted. Once the tenant recovers, the new
// key is picked up.
func TestUnknownKIDRefetchFails(t *testing.T) {
	t.Parallel()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mode    jwksMode
		publish map[string]*rsa.PublicKey // when not nil, published instead of a failing mode
		down    bool                      // the tenant is closed: connection refused
		timeout bool                      // the reported failure must be a timeout
	}{
		{name: "HTTP 500", mode: jwks500},
		{name: "HTTP 503 with a JWKS body", mode: jwks503Keys},
		{name: "not JSON", mode: jwksGarbage},
		{name: "not a JWKS", mode: jwksNotObject},
		{name: "empty set", publish: map[string]*rsa.PublicKey{}},
		{name: "only a weak key", publish: map[string]*rsa.PublicKey{"key-2": &weak.PublicKey}},
		{name: "hangs", mode: jwksHang, timeout: true},
		{name: "connection refused", down: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false)
			var mu sync.Mutex
			var reported []error
			// Without a rate limit, every unknown kid below downloads.
			a := newAuth(t, tn, jwt.RemoteOptions{UnknownKIDInterval: time.Nanosecond, FetchTimeout: time.Second,
				OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
			h := routes(a)
			warm(t, h, tn)

			switch {
			case tt.down:
				tn.srv.Close()
			case tt.publish != nil:
				tn.publish(tt.publish)
			default:
				tn.setMode(tt.mode)
			}
			unknown := "Bearer " + mint(t, token{kid: "key-2", key: testKeys()[1]})
			checkProblem(t, serve(t, h, "/me", unknown), http.StatusUnauthorized, invalidToken(detailUnknownKey), detailUnknownKey)

			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", unknown)
			_, err := a.Authenticate(req)
			if !errors.Is(err, jwt.ErrKeyNotFound) || errors.Is(err, auth.ErrUnavailable) {
				t.Errorf("Authenticate error %v; want jwt.ErrKeyNotFound, not auth.ErrUnavailable", err)
			}
			mu.Lock()
			got := slices.Clone(reported)
			mu.Unlock()
			if len(got) == 0 {
				t.Error("the failed downloads were not reported to OnError")
			}
			var netErr net.Error
			if tt.timeout && !slices.ContainsFunc(got, func(err error) bool {
				return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()
			}) {
				t.Errorf("reported %v; want a timeout", got)
			}

			known := "Bearer " + mint(t, token{})
			if rec := serve(t, h, "/reports", known); rec.Code != http.StatusOK {
				t.Fatalf("cached kid during the outage: status = %d; want 200 (body %s)", rec.Code, rec.Body)
			}
			if tt.down {
				if n := tn.fetch.Load(); n != 1 {
					t.Errorf("a closed tenant counted %d requests; want 1", n)
				}
				return
			}
			checkFetches(t, tn, 3, "after two unknown kids")

			tn.setMode(jwksOK)
			tn.publish(map[string]*rsa.PublicKey{testKid: &testKeys()[0].PublicKey, "key-2": &testKeys()[1].PublicKey})
			if rec := serve(t, h, "/me", unknown); rec.Code != http.StatusOK {
				t.Errorf("after recovery: status = %d; want 200 (body %s)", rec.Code, rec.Body)
			}
			if rec := serve(t, h, "/me", known); rec.Code != http.StatusOK {
				t.Errorf("old key after recovery: status = %d; want 200 (body %s)", rec.Code, rec.Body)
			}
			checkFetches(t, tn, 4, "after recovery")
		})
	}
}

// TestUnknownKIDRefetchGivesUpWaiting: a request whose context ends while
// the download for its unknown kid hangs is answered at once, with 401:
// the keys in hand do not hold its kid.
func TestUnknownKIDRefetchGivesUpWaiting(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	a := newAuth(t, tn, jwt.RemoteOptions{MissWait: time.Hour})
	warm(t, routes(a), tn)
	release := tn.hold()
	t.Cleanup(release)

	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+mint(t, token{kid: "key-2", key: testKeys()[1]}))
	go func() {
		for tn.fetch.Load() < 2 {
			runtime.Gosched()
		}
		cancel()
	}()
	_, err := a.Authenticate(req)
	if !errors.Is(err, jwt.ErrKeyNotFound) || auth.StatusOf(err) != http.StatusUnauthorized {
		t.Errorf("Authenticate error %v; want a 401 matching jwt.ErrKeyNotFound", err)
	}
}

// TestFailedRefreshKeepsKeys: background refreshes that fail keep the keys
// in hand, however many fail, and a refresh that succeeds again replaces
// them.
func TestFailedRefreshKeepsKeys(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	h := routes(newAuth(t, tn, jwt.RemoteOptions{RefreshInterval: 20 * time.Millisecond}))
	warm(t, h, tn)
	tok := "Bearer " + mint(t, token{})

	tn.setMode(jwks500)
	deadline := time.Now().Add(10 * time.Second) // only a guard against hanging
	for tn.fetch.Load() < 4 {                    // three failed refreshes at least
		if rec := serve(t, h, "/me", tok); rec.Code != http.StatusOK {
			t.Fatalf("during failed refreshes: status = %d; want 200 from the keys in hand", rec.Code)
		}
		if time.Now().After(deadline) {
			t.Fatal("the keys were never refreshed in the background")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if rec := serve(t, h, "/me", tok); rec.Code != http.StatusOK {
		t.Fatalf("after failed refreshes: status = %d; want 200", rec.Code)
	}

	// The tenant recovers with a rotated set: the old key goes away.
	tn.setMode(jwksOK)
	tn.publish(map[string]*rsa.PublicKey{"key-2": &testKeys()[1].PublicKey})
	for serve(t, h, "/me", tok).Code == http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the rotated set was never loaded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	checkProblem(t, serve(t, h, "/me", tok), http.StatusUnauthorized, invalidToken(detailUnknownKey), detailUnknownKey)
}
