package jwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/typedauth/auth"
)

// remoteTestKeys are the key pairs the JWKS tests publish. They are made
// once per test binary and never modified.
type remoteTestKeys struct {
	rsa, rsa2, rsa3, rsaSmall *rsa.PrivateKey
	p256, p384, p521          *ecdsa.PrivateKey
	ed                        ed25519.PrivateKey
}

var remoteKeysOnce = sync.OnceValue(func() *remoteTestKeys {
	mustRSA := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	mustEC := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return &remoteTestKeys{
		rsa:      mustRSA(2048),
		rsa2:     mustRSA(2048),
		rsa3:     mustRSA(2048),
		rsaSmall: mustRSA(1024),
		p256:     mustEC(elliptic.P256()),
		p384:     mustEC(elliptic.P384()),
		p521:     mustEC(elliptic.P521()),
		ed:       ed,
	}
})

func testKeys(tb testing.TB) *remoteTestKeys {
	tb.Helper()
	return remoteKeysOnce()
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwkOf marshals a public key as a JWK map with the given extra members
// (kid, alg, use, …), the way a key server would.
func jwkOf(tb testing.TB, pub crypto.PublicKey, members map[string]any) map[string]any {
	tb.Helper()
	m := map[string]any{}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64(k.N.Bytes())
		m["e"] = b64(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		if err != nil {
			tb.Fatal(err)
		}
		size := (len(raw) - 1) / 2
		m["kty"] = "EC"
		m["crv"] = k.Curve.Params().Name
		m["x"] = b64(raw[1 : 1+size])
		m["y"] = b64(raw[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64(k)
	default:
		tb.Fatalf("jwkOf: unsupported key %T", pub)
	}
	for name, v := range members {
		m[name] = v
	}
	return m
}

// jwksJSON marshals a JWK Set document.
func jwksJSON(tb testing.TB, keys ...any) []byte {
	tb.Helper()
	if keys == nil {
		keys = []any{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// serveJSON starts a loopback server that answers every request with body.
func serveJSON(tb testing.TB, body []byte) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// fetchTestSet fetches body from a loopback server.
func fetchTestSet(tb testing.TB, body []byte) KeySet {
	tb.Helper()
	srv := serveJSON(tb, body)
	ks, err := FetchKeySet(context.Background(), nil, srv.URL)
	if err != nil {
		tb.Fatalf("FetchKeySet: %v", err)
	}
	return ks
}

func samePublicKey(got any, want crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := want.(equaler)
	return ok && got != nil && e.Equal(got)
}

func TestFetchKeySetLookup(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	ks := fetchTestSet(t, jwksJSON(t,
		jwkOf(t, k.rsa.Public(), map[string]any{"kid": "rsa", "use": "sig"}),
		jwkOf(t, k.p256.Public(), map[string]any{"kid": "ec256", "alg": "ES256"}),
		jwkOf(t, k.p384.Public(), map[string]any{"kid": "ec384"}),
		jwkOf(t, k.p521.Public(), map[string]any{"kid": "ec521", "alg": "ES512", "key_ops": []string{"verify"}}),
		jwkOf(t, k.ed.Public(), map[string]any{"kid": "ed", "alg": "EdDSA"}),
	))
	tests := []struct {
		name, kid, alg string
		want           crypto.PublicKey // nil: ErrKeyNotFound
	}{
		{name: "rsa RS256", kid: "rsa", alg: "RS256", want: k.rsa.Public()},
		{name: "rsa PS512 without declared alg", kid: "rsa", alg: "PS512", want: k.rsa.Public()},
		{name: "rsa key for ES256", kid: "rsa", alg: "ES256"},
		{name: "rsa key for HS256", kid: "rsa", alg: "HS256"},
		{name: "rsa key for none", kid: "rsa", alg: "none"},
		{name: "ec256 ES256", kid: "ec256", alg: "ES256", want: k.p256.Public()},
		{name: "ec256 declared ES256 used as ES384", kid: "ec256", alg: "ES384"},
		{name: "ec256 for RS256", kid: "ec256", alg: "RS256"},
		{name: "ec384 without alg serves ES384", kid: "ec384", alg: "ES384", want: k.p384.Public()},
		{name: "ec384 curve does not fit ES256", kid: "ec384", alg: "ES256"},
		{name: "ec521 ES512", kid: "ec521", alg: "ES512", want: k.p521.Public()},
		{name: "ed EdDSA", kid: "ed", alg: "EdDSA", want: k.ed.Public()},
		{name: "ed for ES256", kid: "ed", alg: "ES256"},
		{name: "unknown kid", kid: "nope", alg: "RS256"},
		{name: "kid is case sensitive", kid: "RSA", alg: "RS256"},
		{name: "no kid RS256 has one candidate", alg: "RS256", want: k.rsa.Public()},
		{name: "no kid PS256 has one candidate", alg: "PS256", want: k.rsa.Public()},
		{name: "no kid ES256 has one candidate", alg: "ES256", want: k.p256.Public()},
		{name: "no kid EdDSA has one candidate", alg: "EdDSA", want: k.ed.Public()},
		{name: "no kid HS256", alg: "HS256"},
		{name: "no kid empty alg", alg: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ks.VerificationKey(context.Background(), tt.kid, tt.alg)
			if tt.want == nil {
				if !errors.Is(err, ErrKeyNotFound) || got != nil {
					t.Fatalf("VerificationKey(%q, %q) = %T, %v; want nil, ErrKeyNotFound", tt.kid, tt.alg, got, err)
				}
				if !errors.Is(err, auth.ErrInvalidCredential) {
					t.Errorf("error %v does not match auth.ErrInvalidCredential", err)
				}
				return
			}
			if err != nil || !samePublicKey(got, tt.want) {
				t.Fatalf("VerificationKey(%q, %q) = %T, %v; want the %T published", tt.kid, tt.alg, got, err, tt.want)
			}
		})
	}
}

func TestFetchKeySetKidlessNeedsExactlyOneKey(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	tests := []struct {
		name string
		keys []any
		alg  string
		want crypto.PublicKey
	}{
		{
			name: "two RSA keys",
			keys: []any{jwkOf(t, k.rsa.Public(), map[string]any{"kid": "a"}), jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "b"})},
			alg:  "RS256",
		},
		{
			name: "two RSA keys, one declared for another alg",
			keys: []any{jwkOf(t, k.rsa.Public(), map[string]any{"kid": "a", "alg": "RS256"}), jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "b", "alg": "PS256"})},
			alg:  "PS256",
			want: k.rsa2.Public(),
		},
		{
			name: "one RSA key without kid",
			keys: []any{jwkOf(t, k.rsa.Public(), nil)},
			alg:  "RS384",
			want: k.rsa.Public(),
		},
		{
			name: "same key published twice",
			keys: []any{jwkOf(t, k.rsa.Public(), map[string]any{"kid": "a"}), jwkOf(t, k.rsa.Public(), map[string]any{"kid": "a"})},
			alg:  "RS256",
			want: k.rsa.Public(),
		},
		{
			name: "ignored keys do not count",
			keys: []any{
				jwkOf(t, k.rsa.Public(), map[string]any{"kid": "a"}),
				jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "enc", "use": "enc"}),
			},
			alg:  "RS256",
			want: k.rsa.Public(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ks := fetchTestSet(t, jwksJSON(t, tt.keys...))
			got, err := ks.VerificationKey(context.Background(), "", tt.alg)
			if tt.want == nil {
				if !errors.Is(err, ErrKeyNotFound) {
					t.Fatalf("VerificationKey(\"\", %q) = %T, %v; want ErrKeyNotFound", tt.alg, got, err)
				}
				return
			}
			if err != nil || !samePublicKey(got, tt.want) {
				t.Fatalf("VerificationKey(\"\", %q) = %T, %v; want the sole fitting key", tt.alg, got, err)
			}
		})
	}
}

func TestFetchKeySetSharedKidIsResolvedByAlg(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	ks := fetchTestSet(t, jwksJSON(t,
		jwkOf(t, k.rsa.Public(), map[string]any{"kid": "k1"}),
		jwkOf(t, k.p256.Public(), map[string]any{"kid": "k1"}),
		jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "dup"}),
		jwkOf(t, k.rsa.Public(), map[string]any{"kid": "dup"}),
	))
	if got, err := ks.VerificationKey(context.Background(), "k1", "ES256"); err != nil || !samePublicKey(got, k.p256.Public()) {
		t.Errorf("k1/ES256 = %T, %v; want the EC key", got, err)
	}
	if got, err := ks.VerificationKey(context.Background(), "k1", "RS256"); err != nil || !samePublicKey(got, k.rsa.Public()) {
		t.Errorf("k1/RS256 = %T, %v; want the RSA key", got, err)
	}
	if got, err := ks.VerificationKey(context.Background(), "dup", "RS256"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("dup/RS256 = %T, %v; want ErrKeyNotFound for two different keys under one kid", got, err)
	}
}

func TestFetchKeySetSkipsUnusableKeys(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	privateRSA := jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "private"})
	privateRSA["d"] = b64(k.rsa2.D.Bytes())
	badRSA := jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "malformed"})
	badRSA["n"] = "!!not base64!!"
	offCurve := jwkOf(t, k.p256.Public(), map[string]any{"kid": "offcurve"})
	offCurve["y"] = offCurve["x"]
	skipped := map[string]any{
		"enc":       jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "enc", "use": "enc"}),
		"oct":       map[string]any{"kty": "oct", "kid": "oct", "k": b64([]byte("0123456789abcdef0123456789abcdef"))},
		"private":   privateRSA,
		"malformed": badRSA,
		"offcurve":  offCurve,
		"small":     jwkOf(t, k.rsaSmall.Public(), map[string]any{"kid": "small"}),
		"wrongalg":  jwkOf(t, k.p256.Public(), map[string]any{"kid": "wrongalg", "alg": "RS256"}),
		"hsalg":     jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "hsalg", "alg": "HS256"}),
		"encops":    jwkOf(t, k.rsa2.Public(), map[string]any{"kid": "encops", "key_ops": []string{"encrypt"}}),
		"x25519":    map[string]any{"kty": "OKP", "crv": "X25519", "kid": "x25519", "x": b64(make([]byte, 32))},
		"unknown":   map[string]any{"kty": "XYZ", "kid": "unknown"},
		"notobject": "just a string",
	}
	keys := []any{jwkOf(t, k.rsa.Public(), map[string]any{"kid": "good"})}
	for _, v := range skipped {
		keys = append(keys, v)
	}
	ks := fetchTestSet(t, jwksJSON(t, keys...))
	if got, err := ks.VerificationKey(context.Background(), "good", "RS256"); err != nil || !samePublicKey(got, k.rsa.Public()) {
		t.Fatalf("good key = %T, %v; want it despite the bad keys beside it", got, err)
	}
	if got, err := ks.VerificationKey(context.Background(), "", "RS256"); err != nil || !samePublicKey(got, k.rsa.Public()) {
		t.Errorf("kid-less RS256 = %T, %v; want the good key, the only usable RSA key", got, err)
	}
	for kid := range skipped {
		for _, alg := range []string{"RS256", "ES256", "EdDSA", "HS256"} {
			if got, err := ks.VerificationKey(context.Background(), kid, alg); !errors.Is(err, ErrKeyNotFound) {
				t.Errorf("VerificationKey(%q, %q) = %T, %v; want ErrKeyNotFound for a skipped key", kid, alg, got, err)
			}
		}
	}
}

// jwksHandler is a server behaviour used by the failure tables.
type jwksHandler func(w http.ResponseWriter, r *http.Request)

func respondStatus(code int) jwksHandler {
	return func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", code) }
}

func respondBody(body []byte) jwksHandler {
	return func(w http.ResponseWriter, r *http.Request) { w.Write(body) }
}

// respondHang blocks until the client gives up or stop is closed.
func respondHang(stop <-chan struct{}) jwksHandler {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}
}

// respondHuge streams a valid-looking key set larger than limit, without a
// Content-Length.
func respondHuge(tb testing.TB, limit int64) jwksHandler {
	set := jwksJSON(tb, jwkOf(tb, testKeys(tb).rsa.Public(), map[string]any{"kid": "huge", "pad": strings.Repeat("x", int(limit))}))
	return func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush() // no Content-Length: the limit must hold while reading
		w.Write(set)
	}
}

// stopChan returns a channel closed when the test ends, before the test's
// servers are closed (cleanups run last-registered first).
func stopChan(tb testing.TB) <-chan struct{} {
	tb.Helper()
	c := make(chan struct{})
	tb.Cleanup(func() { close(c) })
	return c
}

func TestFetchKeySetFailures(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	onlyBad := jwkOf(t, k.rsa.Public(), map[string]any{"kid": "bad"})
	onlyBad["e"] = "***"
	tests := []struct {
		name    string
		handler func(tb testing.TB) jwksHandler
		timeout time.Duration
		wantErr error
	}{
		{name: "status 500", handler: func(testing.TB) jwksHandler { return respondStatus(500) }, wantErr: ErrKeySetUnavailable},
		{name: "status 404", handler: func(testing.TB) jwksHandler { return respondStatus(404) }, wantErr: ErrKeySetUnavailable},
		{name: "garbage", handler: func(testing.TB) jwksHandler { return respondBody([]byte("<html>oops")) }, wantErr: ErrKeySetUnavailable},
		{name: "no keys member", handler: func(testing.TB) jwksHandler { return respondBody([]byte(`{"kees":[]}`)) }, wantErr: ErrKeySetUnavailable},
		{name: "keys not an array", handler: func(testing.TB) jwksHandler { return respondBody([]byte(`{"keys":{}}`)) }, wantErr: ErrKeySetUnavailable},
		{name: "empty set", handler: func(tb testing.TB) jwksHandler { return respondBody(jwksJSON(tb)) }, wantErr: ErrNoUsableKey},
		{name: "only bad keys", handler: func(tb testing.TB) jwksHandler { return respondBody(jwksJSON(tb, onlyBad)) }, wantErr: ErrNoUsableKey},
		{name: "only enc keys", handler: func(tb testing.TB) jwksHandler {
			return respondBody(jwksJSON(tb, jwkOf(tb, k.rsa.Public(), map[string]any{"use": "enc"})))
		}, wantErr: ErrNoUsableKey},
		{name: "too many keys", handler: func(tb testing.TB) jwksHandler {
			// Distinct keys under one kid cost quadratic work to index;
			// the count is bounded before any key is parsed.
			keys := make([]any, maxKeySetKeys+1)
			for i := range keys {
				keys[i] = jwkOf(tb, k.p256.Public(), map[string]any{"kid": "same"})
			}
			return respondBody(jwksJSON(tb, keys...))
		}, wantErr: ErrTooManyKeys},
		{name: "body over 1 MiB", handler: func(tb testing.TB) jwksHandler { return respondHuge(tb, DefaultMaxBodyBytes) }, wantErr: ErrBodyTooLarge},
		{name: "hangs past the deadline", handler: func(tb testing.TB) jwksHandler { return respondHang(stopChan(tb)) }, timeout: 200 * time.Millisecond, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(tt.handler(t)))
			t.Cleanup(srv.Close)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			ks, err := FetchKeySet(ctx, nil, srv.URL)
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrKeySetUnavailable) || !errors.Is(err, auth.ErrUnavailable) {
				t.Fatalf("FetchKeySet = %v, %v; want %v matching ErrKeySetUnavailable and auth.ErrUnavailable", ks, err, tt.wantErr)
			}
			if ks != nil {
				t.Errorf("FetchKeySet returned a set with its error")
			}
			if elapsed := time.Since(start); elapsed > tt.timeout+15*time.Second {
				t.Errorf("FetchKeySet took %v; want it bounded by the deadline", elapsed)
			}
		})
	}
}

func TestFetchKeySetURLAndRedirects(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	set := jwksJSON(t, jwkOf(t, k.ed.Public(), map[string]any{"kid": "ed"}))
	plain := serveJSON(t, set)
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-http":
			http.Redirect(w, r, plain.URL, http.StatusFound)
		case "/to-https":
			http.Redirect(w, r, "/jwks", http.StatusMovedPermanently)
		case "/jwks":
			w.Write(set)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(secure.Close)
	plainRedirect := httptest.NewServer(http.RedirectHandler(plain.URL, http.StatusFound))
	t.Cleanup(plainRedirect.Close)

	tests := []struct {
		name    string
		client  *http.Client
		url     string
		wantErr error // nil: success
	}{
		{name: "https", client: secure.Client(), url: secure.URL + "/jwks"},
		{name: "https redirect to https", client: secure.Client(), url: secure.URL + "/to-https"},
		{name: "https redirect to http", client: secure.Client(), url: secure.URL + "/to-http", wantErr: ErrInsecureURL},
		{name: "loopback http", url: plain.URL},
		{name: "loopback http redirect to http", url: plainRedirect.URL, wantErr: ErrInsecureURL},
		{name: "http on a public host", url: "http://keys.example.com/jwks", wantErr: ErrInsecureURL},
		{name: "no scheme", url: "keys.example.com/jwks", wantErr: ErrInsecureURL},
		{name: "other scheme", url: "file:///etc/passwd", wantErr: ErrInsecureURL},
		{name: "unparsable", url: "https://[::1", wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ks, err := FetchKeySet(context.Background(), tt.client, tt.url)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("FetchKeySet(%q) = %v; want success", tt.url, err)
				}
				if _, err := ks.VerificationKey(context.Background(), "ed", "EdDSA"); err != nil {
					t.Errorf("VerificationKey after %s = %v", tt.name, err)
				}
				return
			}
			if err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("FetchKeySet(%q) = %v, %v; want %v", tt.url, ks, err, tt.wantErr)
			}
		})
	}
}

// errAny stands for "some error" in tables.
var errAny = errors.New("any error")

func TestFetchKeySetKeepsCallerRedirectPolicy(t *testing.T) {
	t.Parallel()
	set := jwksJSON(t, jwkOf(t, testKeys(t).ed.Public(), map[string]any{"kid": "ed"}))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/jwks", http.StatusFound)
			return
		}
		w.Write(set)
	}))
	t.Cleanup(srv.Close)
	client := srv.Client()
	errNoRedirects := errors.New("no redirects here")
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return errNoRedirects }
	if _, err := FetchKeySet(context.Background(), client, srv.URL+"/moved"); !errors.Is(err, errNoRedirects) {
		t.Fatalf("FetchKeySet = %v; want the caller's CheckRedirect error", err)
	}
	if client.CheckRedirect == nil {
		t.Fatal("FetchKeySet modified the caller's client")
	}
}

func TestFetchedKeySetLookupDoesNotAllocate(t *testing.T) {
	k := testKeys(t)
	ks := fetchTestSet(t, jwksJSON(t,
		jwkOf(t, k.rsa.Public(), map[string]any{"kid": "rsa"}),
		jwkOf(t, k.p256.Public(), map[string]any{"kid": "ec"}),
	))
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ks.VerificationKey(ctx, "rsa", "RS256"); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.VerificationKey(ctx, "nope", "RS256"); err == nil {
			t.Fatal("unknown kid accepted")
		}
	})
	if allocs != 0 {
		t.Errorf("VerificationKey allocates %v times per call pair; want 0", allocs)
	}
}

// FuzzParseKeySet feeds arbitrary documents to the JWK Set parser, the
// first code that sees a key server's response. It must never panic, and
// whatever it accepts must only ever yield keys that fit the alg asked for.
func FuzzParseKeySet(f *testing.F) {
	k := testKeys(f)
	f.Add(jwksJSON(f, jwkOf(f, k.rsa.Public(), map[string]any{"kid": "rsa", "alg": "RS256"})))
	f.Add(jwksJSON(f, jwkOf(f, k.p256.Public(), map[string]any{"kid": "ec", "use": "sig"}), jwkOf(f, k.ed.Public(), nil)))
	f.Add(jwksJSON(f, jwkOf(f, k.p521.Public(), map[string]any{"kid": "p521", "key_ops": []string{"verify"}})))
	f.Add(jwksJSON(f, jwkOf(f, k.rsa.Public(), map[string]any{"use": "enc"})))
	f.Add(jwksJSON(f, map[string]any{"kty": "oct", "k": "c2VjcmV0"}))
	f.Add(jwksJSON(f, map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"}))
	f.Add(jwksJSON(f, map[string]any{"kty": "RSA", "n": "", "e": "////////////"}))
	f.Add(jwksJSON(f, map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}))
	f.Add(jwksJSON(f, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AA"}))
	f.Add(jwksJSON(f, map[string]any{"kty": "RSA", "x5c": []string{"MIIB"}}))
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`{"keys":[1,"a",null,{},[]]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`not json`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		jwks, _, err := parseKeySet(body)
		if err != nil {
			if jwks != nil {
				t.Fatalf("parseKeySet returned keys with error %v", err)
			}
			return
		}
		s := &MemoryKeySet{}
		s.install(jwks)
		idx := s.index()
		if len(idx.all) == 0 {
			t.Fatal("parseKeySet accepted a set without usable keys")
		}
		for kid := range idx.byKID {
			for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "none", ""} {
				key, err := idx.lookup(kid, alg)
				if err != nil {
					if !errors.Is(err, ErrKeyNotFound) {
						t.Fatalf("lookup(%q, %q) error %v does not match ErrKeyNotFound", kid, alg, err)
					}
					continue
				}
				if !keyFitsAlg(key, alg) {
					t.Fatalf("lookup(%q, %q) returned a %T that does not fit", kid, alg, key)
				}
			}
		}
	})
}

// keyFitsAlg is the test's own statement of which key serves which alg.
func keyFitsAlg(key any, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return (alg == "ES256" && k.Curve == elliptic.P256()) ||
			(alg == "ES384" && k.Curve == elliptic.P384()) ||
			(alg == "ES512" && k.Curve == elliptic.P521())
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}
