package auth0_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testKeys are generated once per test binary: the tenant's signing key and
// another key that an attacker could hold.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

const (
	testDomain   = "tenant.test"
	testIssuer   = "https://tenant.test/"
	testAudience = "https://api.example.com"
	testKid      = "key-1"
)

// jwksMode is what the fake tenant answers to /.well-known/jwks.json.
type jwksMode int32

const (
	jwksOK        jwksMode = iota
	jwks500                // 500 with an HTML body
	jwks503Keys            // 503 whose body is a valid JWKS
	jwksGarbage            // 200 with a body that is not JSON
	jwksNotObject          // 200 with a JSON body that is not a JWKS
	jwksHang               // never answers until the client gives up
)

// tenant is an httptest server shaped like an Auth0 tenant: it serves the
// RS256 public key of testKeys()[0] under kid testKid at
// /.well-known/jwks.json, or the set last given to publish.
type tenant struct {
	gate  chan struct{} // when set, JWKS answers wait until it is closed
	srv   *httptest.Server
	mode  atomic.Int32
	fetch atomic.Int32
	jwks  atomic.Pointer[[]byte]
	stall atomic.Pointer[chan struct{}] // when set, JWKS answers wait until it is closed
}

// publish makes the tenant serve keys from now on (nil: an empty set).
func (tn *tenant) publish(keys map[string]*rsa.PublicKey) {
	b := jwksJSON(keys)
	tn.jwks.Store(&b)
}

// hold makes JWKS answers wait until the returned func is called.
func (tn *tenant) hold() (release func()) {
	ch := make(chan struct{})
	tn.stall.Store(&ch)
	return sync.OnceFunc(func() { close(ch) })
}

func newTenant(tb testing.TB, tls bool) *tenant {
	tb.Helper()
	return newGatedTenant(tb, tls, nil)
}

// newGatedTenant is newTenant whose JWKS answers wait for gate to be closed.
func newGatedTenant(tb testing.TB, tls bool, gate chan struct{}) *tenant {
	tb.Helper()
	tn := &tenant{gate: gate}
	tn.publish(map[string]*rsa.PublicKey{testKid: &testKeys()[0].PublicKey})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		tn.fetch.Add(1)
		for _, gate := range []chan struct{}{tn.gate, loadChan(&tn.stall)} {
			if gate == nil {
				continue
			}
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		jwks := *tn.jwks.Load()
		switch jwksMode(tn.mode.Load()) {
		case jwksOK:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(jwks)
		case jwks500:
			http.Error(w, "<html>upstream error</html>", http.StatusInternalServerError)
		case jwks503Keys:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write(jwks)
		case jwksGarbage:
			_, _ = w.Write([]byte("<html>not json</html>"))
		case jwksNotObject:
			_, _ = w.Write([]byte(`["keys"]`))
		case jwksHang:
			<-r.Context().Done()
		}
	})
	if tls {
		tn.srv = httptest.NewTLSServer(mux)
	} else {
		tn.srv = httptest.NewServer(mux)
	}
	tb.Cleanup(tn.srv.Close)
	return tn
}

func (tn *tenant) setMode(m jwksMode) { tn.mode.Store(int32(m)) }

func loadChan(p *atomic.Pointer[chan struct{}]) chan struct{} {
	if c := p.Load(); c != nil {
		return *c
	}
	return nil
}

func jwksJSON(keys map[string]*rsa.PublicKey) []byte {
	type jwk struct {
		Kty string `json:"kty"`
		Use string `json:"use"`
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		N   string `json:"n"`
		E   string `json:"e"`
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	for kid, k := range keys {
		set.Keys = append(set.Keys, jwk{
			Kty: "RSA", Use: "sig", Alg: "RS256", Kid: kid,
			N: b64(k.N.Bytes()), E: b64(big.NewInt(int64(k.E)).Bytes()),
		})
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(err)
	}
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// claims returns the claims of a valid token issued now, with overrides
// applied (a nil value deletes the claim).
func claims(overrides map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss":                          testIssuer,
		"sub":                          "auth0|alice",
		"aud":                          []string{testAudience, testIssuer + "userinfo"},
		"iat":                          now.Add(-time.Minute).Unix(),
		"exp":                          now.Add(time.Hour).Unix(),
		"azp":                          "client-1",
		"scope":                        "openid profile reports:read",
		"https://example.com/email":    "alice@example.com",
		"https://example.com/roles":    []string{"analyst"},
		"https://example.com/tenantID": 42,
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// token describes a token to mint; zero fields take valid defaults.
type token struct {
	alg     string          // default RS256
	kid     string          // default testKid; "-" for none
	key     *rsa.PrivateKey // default testKeys()[0]
	hmacKey []byte          // signs HS256
	claims  map[string]any  // default claims(nil)
	payload []byte          // raw payload, overrides claims
	header  map[string]any  // more header parameters
}

func mint(tb testing.TB, t token) string {
	tb.Helper()
	tok, err := sign(t)
	if err != nil {
		tb.Fatalf("mint: %v", err)
	}
	return tok
}

// sign mints the token t describes.
func sign(t token) (string, error) {
	if t.alg == "" {
		t.alg = "RS256"
	}
	if t.kid == "" {
		t.kid = testKid
	}
	if t.key == nil {
		t.key = testKeys()[0]
	}
	header := map[string]any{"alg": t.alg, "typ": "JWT"}
	for k, v := range t.header {
		header[k] = v
	}
	if t.kid != "-" {
		header["kid"] = t.kid
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	payload := t.payload
	if payload == nil {
		if t.claims == nil {
			t.claims = claims(nil)
		}
		if payload, err = json.Marshal(t.claims); err != nil {
			return "", err
		}
	}
	input := b64(hb) + "." + b64(payload)
	var sig []byte
	switch t.alg {
	case "RS256":
		sum := sha256.Sum256([]byte(input))
		if sig, err = rsa.SignPKCS1v15(nil, t.key, crypto.SHA256, sum[:]); err != nil {
			return "", err
		}
	case "HS256":
		m := hmac.New(sha256.New, t.hmacKey)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "none":
	default:
		return "", fmt.Errorf("unsupported alg %q", t.alg)
	}
	return input + "." + b64(sig), nil
}
