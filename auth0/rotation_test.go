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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/auth0"
)

// withKid returns tok with its header naming kid. The signature no longer
// matches, which does not matter for a kid that no key has: the token is
// rejected before any signature is checked.
func withKid(tb testing.TB, tok, kid string) string {
	tb.Helper()
	header := b64([]byte(`{"alg":"RS256","typ":"JWT","kid":"` + kid + `"}`))
	return header + tok[strings.IndexByte(tok, '.'):]
}

// warm sends a valid token so that the tenant's keys are cached.
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
			h := routes(newAuth(t, tn))
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
				invalidToken(auth0.DetailSignature), auth0.DetailSignature)
			checkFetches(t, tn, 2, "after a bad signature")
		})
	}
}

// TestUnknownKIDStorm: a thousand concurrent tokens with made-up kids cost
// the tenant one download, and each is rejected as signed by an unknown key.
func TestUnknownKIDStorm(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	a := newAuth(t, tn)
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
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != invalidToken(auth0.DetailUnknownKey) {
			t.Fatalf("request %d: status = %d, WWW-Authenticate = %q; want 401 %q", i, rec.Code,
				rec.Header().Get("WWW-Authenticate"), invalidToken(auth0.DetailUnknownKey))
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
		opts []auth0.Option
		// wantStatus and wantFetches are those of the second unknown kid,
		// which the tenant has published by then.
		wantStatus  int
		wantFetches int32
	}{
		{name: "default interval", wantStatus: http.StatusUnauthorized, wantFetches: 2},
		{name: "an hour", opts: []auth0.Option{auth0.WithUnknownKIDInterval(time.Hour)}, wantStatus: http.StatusUnauthorized, wantFetches: 2},
		{name: "a nanosecond", opts: []auth0.Option{auth0.WithUnknownKIDInterval(time.Nanosecond)}, wantStatus: http.StatusOK, wantFetches: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false)
			h := routes(newAuth(t, tn, tt.opts...))
			warm(t, h, tn)

			first := mint(t, token{kid: "key-2", key: testKeys()[1]})
			checkProblem(t, serve(t, h, "/me", "Bearer "+first), http.StatusUnauthorized,
				invalidToken(auth0.DetailUnknownKey), auth0.DetailUnknownKey)
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
// fails, that token is answered with 503, and tokens of the cached keys
// keep being accepted. Once the tenant recovers, the new key is picked up.
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
		timeout bool                      // the cause must be a timeout
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
			// Without a rate limit, every unknown kid below downloads.
			a := newAuth(t, tn, auth0.WithUnknownKIDInterval(time.Nanosecond), auth0.WithTimeout(100*time.Millisecond))
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
			checkProblem(t, serve(t, h, "/me", unknown), http.StatusServiceUnavailable, "", auth0.DetailKeysUnavailable)

			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", unknown)
			_, err := a.Authenticate(req)
			if !errors.Is(err, auth0.ErrKeysUnavailable) || !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrUnauthorized) {
				t.Errorf("Authenticate error %v; want ErrKeysUnavailable and auth.ErrUnavailable, not auth.ErrUnauthorized", err)
			}
			var netErr net.Error
			if tt.timeout && !(errors.As(err, &netErr) && netErr.Timeout()) {
				t.Errorf("Authenticate error %v; want a timeout in its chain", err)
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
// the download for its unknown kid hangs is answered at once with 503.
func TestUnknownKIDRefetchGivesUpWaiting(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	a := newAuth(t, tn)
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
	if !errors.Is(err, auth0.ErrKeysUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Authenticate error %v; want ErrKeysUnavailable and context.Canceled", err)
	}
}

// TestExpiredKeysAreRefreshed: after the cache TTL, requests are served
// from the keys in hand while they are downloaded again; a refresh that
// fails drops them, so that the outage shows as 503 until the tenant
// recovers.
func TestExpiredKeysAreRefreshed(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false)
	h := routes(newAuth(t, tn, auth0.WithCacheTTL(time.Nanosecond)))
	warm(t, h, tn)
	tok := "Bearer " + mint(t, token{})

	release := tn.hold()
	t.Cleanup(release)
	if rec := serve(t, h, "/me", tok); rec.Code != http.StatusOK { // answered while the refresh hangs
		t.Fatalf("expired keys: status = %d; want 200 from the keys in hand", rec.Code)
	}
	for tn.fetch.Load() < 2 {
		runtime.Gosched()
	}
	tn.setMode(jwks500)
	release()

	deadline := time.Now().Add(10 * time.Second) // only a guard against hanging
	for {
		rec := serve(t, h, "/me", tok)
		if rec.Code == http.StatusServiceUnavailable {
			checkProblem(t, rec, http.StatusServiceUnavailable, "", auth0.DetailKeysUnavailable)
			break
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("status = %d; want 200 until the failed refresh drops the keys, then 503", rec.Code)
		}
		if time.Now().After(deadline) {
			t.Fatal("the keys were never dropped after failed refreshes")
		}
		runtime.Gosched()
	}
	tn.setMode(jwksOK)
	if rec := serve(t, h, "/me", tok); rec.Code != http.StatusOK {
		t.Errorf("after recovery: status = %d; want 200", rec.Code)
	}
}
