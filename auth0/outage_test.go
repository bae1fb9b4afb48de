package auth0_test

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/typedauth/auth/auth0"
	"github.com/typedauth/auth/jwt"
)

// memTenant serves the tenant's JWKS from memory, as an http.RoundTripper:
// a synctest bubble cannot use real sockets.
type memTenant struct {
	requests atomic.Int32
	down     atomic.Bool // answer 500
	jwks     atomic.Pointer[[]byte]
}

func (m *memTenant) publish(keys map[string]*rsa.PublicKey) {
	b := jwksJSON(keys)
	m.jwks.Store(&b)
}

func (m *memTenant) RoundTrip(r *http.Request) (*http.Response, error) {
	m.requests.Add(1)
	rec := httptest.NewRecorder()
	if m.down.Load() || r.URL.Path != auth0.JWKSPath {
		http.Error(rec, "<html>upstream error</html>", http.StatusInternalServerError)
	} else {
		rec.Header().Set("Content-Type", "application/json")
		_, _ = rec.Write(*m.jwks.Load())
	}
	return rec.Result(), nil
}

// TestTenantOutage: the tenant answers 500 for ten minutes after its keys
// have loaded. Tokens of its known key are accepted throughout, at once;
// tokens naming unknown kids are 401 (never 503), each after a wait of at
// most jwt.DefaultMissWait. When the tenant recovers, a key it has rotated
// in is accepted within one unknown-kid interval.
func TestTenantOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &memTenant{}
		m.publish(map[string]*rsa.PublicKey{testKid: &testKeys()[0].PublicKey})
		a, err := auth0.NewTenant(context.Background(), testDomain, testAudience, auth0.WithBaseURL("http://127.0.0.1"),
			auth0.WithKeySetOptions(jwt.RemoteOptions{Client: &http.Client{Transport: m}}))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		h := routes(a)
		known := "Bearer " + mint(t, token{claims: claims(map[string]any{"exp": time.Now().Add(time.Hour).Unix()})})

		m.down.Store(true)
		start := time.Now()
		for i := 0; time.Since(start) < 10*time.Minute; i++ {
			before := time.Now()
			if rec := serve(t, h, "/reports", known); rec.Code != http.StatusOK {
				t.Fatalf("after %v of outage: known key: status = %d; want 200 (body %s)", time.Since(start), rec.Code, rec.Body)
			}
			if waited := time.Since(before); waited != 0 {
				t.Fatalf("after %v of outage: a known key waited %v", time.Since(start), waited)
			}
			before = time.Now()
			unknown := "Bearer " + mint(t, token{kid: fmt.Sprintf("unknown-%d", i), key: testKeys()[1]})
			checkProblem(t, serve(t, h, "/me", unknown), http.StatusUnauthorized, invalidToken(detailUnknownKey), detailUnknownKey)
			if waited := time.Since(before); waited > jwt.DefaultMissWait {
				t.Fatalf("after %v of outage: an unknown kid waited %v; want at most %v", time.Since(start), waited, jwt.DefaultMissWait)
			}
			time.Sleep(7 * time.Second)
		}
		asked := m.requests.Load()
		if asked < 3 {
			t.Errorf("the tenant was asked %d times in ten minutes; want background retries and unknown-kid downloads", asked)
		}
		if max := int32(10*time.Minute/jwt.DefaultUnknownKIDInterval) + 30; asked > max {
			t.Errorf("the tenant was asked %d times in ten minutes; want at most %d", asked, max)
		}

		// The tenant recovers with a rotated key.
		m.publish(map[string]*rsa.PublicKey{testKid: &testKeys()[0].PublicKey, "key-2": &testKeys()[1].PublicKey})
		m.down.Store(false)
		rotated := "Bearer " + mint(t, token{kid: "key-2", key: testKeys()[1],
			claims: claims(map[string]any{"exp": time.Now().Add(time.Hour).Unix()})})
		_ = serve(t, h, "/me", rotated) // may fall inside the rate limit of the last unknown kid
		time.Sleep(jwt.DefaultUnknownKIDInterval)
		synctest.Wait()
		if rec := serve(t, h, "/me", rotated); rec.Code != http.StatusOK {
			t.Errorf("rotated key after recovery: status = %d; want 200 (body %s)", rec.Code, rec.Body)
		}
	})
}
