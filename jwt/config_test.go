package jwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     jwt.Config
		wantErr string
	}{
		{name: "RS256 with an HMAC secret", cfg: jwt.Config{Secret: secret64, Algorithms: []string{"RS256"}},
			wantErr: "fits none of Config.Algorithms"},
		{name: "HS256 and RS256 with a secret only", cfg: jwt.Config{Secret: secret64[:32], Algorithms: []string{"HS256", "RS256"}},
			wantErr: "RS256 is allowed but no configured key can verify it"},
		{name: "PEM public key as secret", cfg: jwt.Config{Secret: pemEncode(t, &rsaKey().PublicKey), Algorithms: []string{"HS256"}},
			wantErr: "looks like a public key"},
		{name: "DER public key as secret", cfg: jwt.Config{Keys: []jwt.Key{{ID: "k", Key: derPublic(t, &p256Key().PublicKey)}}, Algorithms: []string{"HS256"}},
			wantErr: "looks like a public key"},
		{name: "certificate PEM as secret", cfg: jwt.Config{Secret: []byte("-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"), Algorithms: []string{"HS256"}},
			wantErr: "looks like a public key"},
		{name: "JWK as secret", cfg: jwt.Config{Secret: []byte(`{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`), Algorithms: []string{"HS256"}},
			wantErr: "looks like a public key"},
		{name: "zero RSA public key", cfg: jwt.Config{Key: &rsa.PublicKey{}, Algorithms: []string{"RS256"}}, wantErr: "RSA key has no modulus"},
		{name: "zero RSA private key", cfg: jwt.Config{Key: &rsa.PrivateKey{}, Algorithms: []string{"RS256"}}, wantErr: "RSA key has no modulus"},
		{name: "RSA key without exponent", cfg: jwt.Config{Key: &rsa.PublicKey{N: rsaKey().N}, Algorithms: []string{"RS256"}}, wantErr: "exponent"},
		{name: "ECDSA key without a point", cfg: jwt.Config{Key: &ecdsa.PublicKey{Curve: elliptic.P256()}, Algorithms: []string{"ES256"}}, wantErr: "no valid public point"},
		{name: "ECDSA point off the curve", cfg: jwt.Config{Key: &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(2)}, Algorithms: []string{"ES256"}}, wantErr: "no valid public point"},
		{name: "short Ed25519 public key", cfg: jwt.Config{Key: ed25519.PublicKey(make([]byte, 31)), Algorithms: []string{"EdDSA"}}, wantErr: "Ed25519 public key"},
		{name: "short Ed25519 private key", cfg: jwt.Config{Key: ed25519.PrivateKey(make([]byte, 63)), Algorithms: []string{"EdDSA"}}, wantErr: "Ed25519 private key length 63"},
		{name: "no algorithms", cfg: jwt.Config{Secret: secret64}, wantErr: "Config.Algorithms is empty"},
		{name: "none", cfg: jwt.Config{Secret: secret64, Algorithms: []string{"HS256", "none"}}, wantErr: `"none" can never be enabled`},
		{name: "NoNe", cfg: jwt.Config{Secret: secret64, Algorithms: []string{"NoNe"}}, wantErr: `"none" can never be enabled`},
		{name: "unknown algorithm", cfg: jwt.Config{Secret: secret64, Algorithms: []string{"HS257"}}, wantErr: `unknown algorithm "HS257"`},
		{name: "lower-case algorithm", cfg: jwt.Config{Secret: secret64, Algorithms: []string{"hs256"}}, wantErr: `unknown algorithm "hs256"`},
		{name: "HS256 secret too short", cfg: jwt.Config{Secret: secret64[:31], Algorithms: []string{"HS256"}},
			wantErr: "HS256 needs a secret of at least 32 bytes, got 31"},
		{name: "HS384 secret too short", cfg: jwt.Config{Secret: secret64[:47], Algorithms: []string{"HS384"}},
			wantErr: "HS384 needs a secret of at least 48 bytes"},
		{name: "HS512 secret too short", cfg: jwt.Config{Secret: secret64[:63], Algorithms: []string{"HS512"}},
			wantErr: "HS512 needs a secret of at least 64 bytes"},
		{name: "RSA under 2048 bits", cfg: jwt.Config{Key: small, Algorithms: []string{"RS256"}}, wantErr: "RSA key has 1024 bits"},
		{name: "EC on the wrong curve", cfg: jwt.Config{Key: p256Key(), Algorithms: []string{"ES384"}}, wantErr: "(curve P-256) fits none"},
		{name: "declared alg on the wrong curve", cfg: jwt.Config{Keys: []jwt.Key{{ID: "a", Algorithm: "ES512", Key: p384Key()}}, Algorithms: []string{"ES512"}},
			wantErr: "ES512 needs curve P-521, the key is on P-384"},
		{name: "declared alg of another family", cfg: jwt.Config{Keys: []jwt.Key{{ID: "a", Algorithm: "HS256", Key: rsaKey()}}, Algorithms: []string{"HS256"}},
			wantErr: "HS256 does not fit a RSA key"},
		{name: "declared alg not allowed", cfg: jwt.Config{Keys: []jwt.Key{{ID: "a", Algorithm: "RS512", Key: rsaKey()}}, Algorithms: []string{"RS256"}},
			wantErr: "RS512 is not in Config.Algorithms"},
		{name: "no key", cfg: jwt.Config{Algorithms: []string{"HS256"}}, wantErr: "jwt: no key"},
		{name: "string secret", cfg: jwt.Config{Key: "secret", Algorithms: []string{"HS256"}}, wantErr: "a string is not a key"},
		{name: "unsupported key", cfg: jwt.Config{Key: 42, Algorithms: []string{"HS256"}}, wantErr: "unsupported key type int"},
		{name: "secret and key", cfg: jwt.Config{Secret: secret64, Key: rsaKey(), Algorithms: []string{"HS256"}}, wantErr: "not both"},
		{name: "duplicate kid", cfg: jwt.Config{Keys: []jwt.Key{{ID: "a", Key: secret64[:32]}, {ID: "a", Key: secret64[32:]}}, Algorithms: []string{"HS256"}},
			wantErr: `two keys have kid "a"`},
		{name: "unknown signing key", cfg: jwt.Config{Secret: secret64[:32], KeyID: "a", SigningKeyID: "b", Algorithms: []string{"HS256"}},
			wantErr: `SigningKeyID "b" names no private key`},
		{name: "empty audience", cfg: jwt.Config{Secret: secret64[:32], Audience: []string{""}, Algorithms: []string{"HS256"}}, wantErr: "empty string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := jwt.New(tt.cfg)
			if err == nil {
				t.Fatalf("New succeeded (%v); want error containing %q", a, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "jwt: ") {
				t.Errorf("New error = %q; want it to contain %q", err, tt.wantErr)
			}
			defer func() {
				if r := recover(); r == nil {
					t.Error("MustNew did not panic")
				}
			}()
			jwt.MustNew(tt.cfg)
		})
	}
}

func TestEncodeDefaults(t *testing.T) {
	t.Parallel()
	cfg := hsConfig()
	cfg.IssuerURL = "https://example.com"
	a := newAuth(t, cfg)
	iat := epoch.Unix()
	tests := []struct {
		name          string
		claims        auth.Claims
		expiresIn     time.Duration
		wantIss       any
		wantIat       float64
		wantExp       float64
		wantExpiresIn int64
	}{
		{name: "defaults", claims: auth.Claims{"sub": "user-1"}, wantIss: "https://example.com",
			wantIat: float64(iat), wantExp: float64(iat + 3600), wantExpiresIn: 3600},
		{name: "expires_in overrides the configured lifetime", claims: auth.Claims{"sub": "user-1"}, expiresIn: 60 * time.Second,
			wantIss: "https://example.com", wantIat: float64(iat), wantExp: float64(iat + 60), wantExpiresIn: 60},
		{name: "explicit values win", claims: auth.Claims{"sub": "user-1", "iss": "https://other.example", "iat": iat - 100, "exp": iat + 500},
			expiresIn: time.Minute, wantIss: "https://other.example", wantIat: float64(iat - 100), wantExp: float64(iat + 500), wantExpiresIn: 600},
		{name: "uint exp", claims: auth.Claims{"sub": "user-1", "exp": uint(iat + 90)},
			wantIss: "https://example.com", wantIat: float64(iat), wantExp: float64(iat + 90), wantExpiresIn: 90},
		{name: "int32 iat", claims: auth.Claims{"sub": "user-1", "iat": int32(iat - 10)},
			wantIss: "https://example.com", wantIat: float64(iat - 10), wantExp: float64(iat + 3590), wantExpiresIn: 3600},
		{name: "time.Time exp", claims: auth.Claims{"sub": "user-1", "exp": epoch.Add(2 * time.Minute)},
			wantIss: "https://example.com", wantIat: float64(iat), wantExp: float64(iat + 120), wantExpiresIn: 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before, _ := json.Marshal(tt.claims)
			bearer, err := a.CreateAccessToken(tt.claims, tt.expiresIn)
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := json.Marshal(tt.claims); string(after) != string(before) {
				t.Errorf("caller's claims changed: %s -> %s", before, after)
			}
			if bearer.TokenType != "bearer" || bearer.ExpiresIn != tt.wantExpiresIn {
				t.Errorf("bearer = %+v; want token_type bearer, expires_in %d", bearer, tt.wantExpiresIn)
			}
			// Read the claims back with a verifier that accepts other issuers.
			vcfg := hsConfig()
			c, err := newAuth(t, vcfg).Verify(context.Background(), bearer.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if c["iss"] != tt.wantIss || c["iat"] != tt.wantIat || c["exp"] != tt.wantExp {
				t.Errorf("claims = %v; want iss %v iat %v exp %v", c, tt.wantIss, tt.wantIat, tt.wantExp)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		t.Parallel()
		bearer, err := a.CreateAccessToken(auth.Claims{"sub": "user-1"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(bearer)
		want := `{"token_type":"bearer","access_token":"` + bearer.AccessToken + `","expires_in":60}`
		if string(b) != want {
			t.Errorf("JSON = %s; want %s", b, want)
		}
	})
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		noExp := hsConfig()
		noExp.Expiration = 0
		tests := []struct {
			name    string
			a       *jwt.Auth
			claims  auth.Claims
			wantErr string
		}{
			{name: "no exp while required", a: newAuth(t, noExp), claims: auth.Claims{"sub": "x"}, wantErr: "would have no exp"},
			{name: "exp not a number", a: a, claims: auth.Claims{"exp": "soon"}, wantErr: "exp is not a number"},
			{name: "iat not a number", a: a, claims: auth.Claims{"iat": "now"}, wantErr: "iat is not a number"},
		}
		for _, tt := range tests {
			if _, err := tt.a.Encode(tt.claims, 0); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: Encode err = %v; want %q", tt.name, err, tt.wantErr)
			}
		}
	})
}

func TestSigningKeySelection(t *testing.T) {
	t.Parallel()
	cfg := jwt.Config{
		Keys:       []jwt.Key{{ID: "old", Key: rsaKey()}, {ID: "new", Key: rsaForeign()}},
		Algorithms: []string{"RS256"}, Expiration: time.Hour, Now: clock,
	}
	if _, err := newAuth(t, cfg).Encode(auth.Claims{"sub": "x"}, 0); err == nil || !strings.Contains(err.Error(), "SigningKeyID") {
		t.Errorf("Encode with two signers: err = %v; want a SigningKeyID error", err)
	}
	cfg.SigningKeyID = "new"
	a := newAuth(t, cfg)
	tok := encode(t, a, auth.Claims{"sub": "x"})
	h, _, _ := splitToken(t, tok)
	if raw, _ := jwtSegment(h); !strings.Contains(raw, `"kid":"new"`) {
		t.Errorf("header = %s; want kid new", raw)
	}
	if _, err := a.Verify(context.Background(), tok); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	a := newAuth(t, jwt.Config{
		Keys: []jwt.Key{
			{ID: "rsa-1", Key: rsaKey()},
			{ID: "ec-1", Key: &p384Key().PublicKey},
			{Key: edKey()},
			{ID: "hmac", Key: secret64},
		},
		Algorithms: []string{"PS256", "RS256", "ES384", "EdDSA", "HS512"},
		Now:        clock,
	})
	set := a.JWKS()
	if len(set.Keys) != 3 {
		t.Fatalf("JWKS has %d keys; want 3 (the secret is never published): %+v", len(set.Keys), set)
	}
	byKty := map[jwkset.KTY]jwkset.JWKMarshal{}
	for _, k := range set.Keys {
		byKty[k.KTY] = k
		if k.USE != "sig" || k.KID == "" || k.ALG == "" {
			t.Errorf("key %+v lacks use, kid or alg", k)
		}
	}
	if k := byKty["RSA"]; k.KID != "rsa-1" || k.ALG != "PS256" || k.E != "AQAB" || k.N == "" {
		t.Errorf("RSA JWK = %+v", k)
	}
	if k := byKty["EC"]; k.CRV != "P-384" || len(k.X) != 64 || len(k.Y) != 64 || k.ALG != "ES384" {
		t.Errorf("EC JWK = %+v; want P-384 with 48-byte coordinates", k)
	}
	if k := byKty["OKP"]; k.CRV != "Ed25519" || len(k.X) != 43 || k.ALG != "EdDSA" {
		t.Errorf("OKP JWK = %+v", k)
	}
	body, _ := json.Marshal(set)
	for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"k"`} {
		if strings.Contains(string(body), private+":") {
			t.Errorf("JWKS %s contains private member %s", body, private)
		}
	}

	rec := httptest.NewRecorder()
	a.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/jwk-set+json" ||
		!strings.Contains(rec.Header().Get("Cache-Control"), "max-age=") || rec.Body.String() != string(body) {
		t.Errorf("GET: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	a.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", rec.Code, rec.Header())
	}
	if empty, _ := json.Marshal(newAuth(t, hsConfig()).JWKS()); string(empty) != `{"keys":[]}` {
		t.Errorf("JWKS of a secret = %s; want {\"keys\":[]}", empty)
	}
}

// TestThumbprint checks the derived kid against the example of RFC 7638
// §3.1.
func TestThumbprint(t *testing.T) {
	t.Parallel()
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	const want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	nb, err := jwtDecode(n)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: newInt(nb), E: 65537}
	a := newAuth(t, jwt.Config{Key: pub, Algorithms: []string{"RS256"}})
	if got := a.JWKS().Keys[0].KID; got != want {
		t.Errorf("kid = %q; want the RFC 7638 thumbprint %q", got, want)
	}
	// RFC 8037 §A.3: the thumbprint of an Ed25519 key.
	x, err := jwtDecode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	okp := newAuth(t, jwt.Config{Key: ed25519.PublicKey(x), Algorithms: []string{"EdDSA"}})
	if got, want := okp.JWKS().Keys[0].KID, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("Ed25519 kid = %q; want the RFC 8037 thumbprint %q", got, want)
	}
	// Stable across constructions.
	ec := &ecdsa.PublicKey{}
	*ec = p256Key().PublicKey
	k1 := newAuth(t, jwt.Config{Key: ec, Algorithms: []string{"ES256"}}).JWKS().Keys[0].KID
	k2 := newAuth(t, jwt.Config{Key: &p256Key().PublicKey, Algorithms: []string{"ES256"}}).JWKS().Keys[0].KID
	if k1 != k2 || k1 == "" {
		t.Errorf("EC thumbprints %q and %q; want equal and non-empty", k1, k2)
	}
}

// TestFetchJWKS publishes the JWKS of an issuing Auth on an httptest server
// and fetches it at start-up, before the verifying Auth is built.
func TestFetchJWKS(t *testing.T) {
	t.Parallel()
	issuer := newAuth(t, jwt.Config{Key: p256Key(), Algorithms: []string{"ES256"}, Expiration: time.Hour, Now: clock})
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", issuer.JWKSHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	if _, err := jwt.FetchKeySet(context.Background(), srv.Client(), srv.URL+"/missing.json"); !errors.Is(err, jwt.ErrKeySetUnavailable) {
		t.Errorf("FetchKeySet of a 404: err = %v; want ErrKeySetUnavailable", err)
	}
	if _, err := jwt.FetchKeySet(context.Background(), srv.Client(), "http://evil.example/jwks.json"); !errors.Is(err, jwt.ErrInsecureURL) {
		t.Errorf("FetchKeySet of a remote http URL: err = %v; want ErrInsecureURL", err)
	}
	keys, err := jwt.FetchKeySet(context.Background(), srv.Client(), srv.URL+"/.well-known/jwks.json")
	if err != nil {
		t.Fatalf("FetchKeySet: %v", err)
	}
	a := newAuth(t, jwt.Config{KeySet: keys, IssuerURL: srv.URL, Algorithms: []string{"ES256"}, Now: clock})
	tok, err := issuer.Encode(auth.Claims{"sub": "user-1", "iss": srv.URL}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec := do(t, a.Guard(subHandler), tok); rec.Code != 200 || rec.Body.String() != "user-1" {
		t.Errorf("with the fetched keys: %d %s; want 200 user-1", rec.Code, rec.Body)
	}
	foreign := encode(t, newAuth(t, jwt.Config{Key: p256Key2(), Algorithms: []string{"ES256"}, Expiration: time.Hour, Now: clock}), auth.Claims{"iss": srv.URL})
	if rec := do(t, a.Guard(subHandler), foreign); rec.Code != 401 {
		t.Errorf("foreign key: status %d; want 401", rec.Code)
	}
	if a.Issuer != nil {
		t.Errorf("an Auth without local keys has an Issuer")
	}
	if _, err := a.Encode(auth.Claims{"sub": "x"}, 0); err == nil || !strings.Contains(err.Error(), "no private key") {
		t.Errorf("Encode on a verify-only Auth: err = %v; want a no-private-key error", err)
	}
}

// TestFetchJWKSWhileServing replaces the keys of a MemoryKeySet while
// requests are verified; run with -race.
func TestFetchJWKSWhileServing(t *testing.T) {
	t.Parallel()
	issuer := newAuth(t, jwt.Config{Key: edKey(), Algorithms: []string{"EdDSA"}, Expiration: time.Hour, Now: clock})
	srv := httptest.NewServer(issuer.JWKSHandler())
	t.Cleanup(srv.Close)
	keys, err := jwt.FetchKeySet(context.Background(), nil, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, jwt.Config{KeySet: keys, IssuerURL: srv.URL, Algorithms: []string{"EdDSA"}, Now: clock})
	tok, err := issuer.Encode(auth.Claims{"sub": "user-1", "iss": srv.URL}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Guard(subHandler)
	done := make(chan struct{})
	errs := make(chan string, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- ""
					return
				default:
				}
				if rec := do(t, h, tok); rec.Code != 200 {
					errs <- rec.Body.String()
					return
				}
			}
		}()
	}
	for range 5 {
		fresh, err := jwt.FetchKeySet(context.Background(), nil, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := fresh.KeyReadAll(context.Background())
		if err := keys.KeyReplaceAll(context.Background(), all); err != nil {
			t.Error(err)
		}
	}
	close(done)
	for range 4 {
		if msg := <-errs; msg != "" {
			t.Errorf("request failed during a key swap: %s", msg)
		}
	}
}

// TestRemoteKeySetIntegration verifies with a RemoteKeySet as
// Config.KeySet: a rotated-in key is found by its kid, and a key server that
// is down gives 503.
func TestRemoteKeySetIntegration(t *testing.T) {
	t.Parallel()
	oldKey := newAuth(t, jwt.Config{Key: p256Key(), KeyID: "old", Algorithms: []string{"ES256"}, Expiration: time.Hour, Now: clock})
	newKey := newAuth(t, jwt.Config{Key: p256Key2(), KeyID: "new", Algorithms: []string{"ES256"}, Expiration: time.Hour, Now: clock})
	var published atomic.Pointer[jwkset.JWKSMarshal]
	first := oldKey.JWKS()
	published.Store(&first)
	down := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(published.Load())
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	set, err := jwt.NewRemoteKeySet(ctx, srv.URL, jwt.RemoteOptions{UnknownKIDInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	a := newAuth(t, jwt.Config{KeySet: set, Algorithms: []string{"ES256"}, Now: clock})

	if rec := do(t, a.Guard(subHandler), encode(t, oldKey, auth.Claims{"sub": "old"})); rec.Code != 200 || rec.Body.String() != "old" {
		t.Errorf("old key: %d %s", rec.Code, rec.Body)
	}
	both := jwkset.JWKSMarshal{Keys: append(oldKey.JWKS().Keys, newKey.JWKS().Keys...)}
	published.Store(&both)
	if rec := do(t, a.Guard(subHandler), encode(t, newKey, auth.Claims{"sub": "new"})); rec.Code != 200 || rec.Body.String() != "new" {
		t.Errorf("rotated-in key: %d %s", rec.Code, rec.Body)
	}
	down.Store(true)
	never, err := jwt.NewRemoteKeySet(ctx, srv.URL, jwt.RemoteOptions{AllowInitialFailure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = never.Close() })
	unavailable := newAuth(t, jwt.Config{KeySet: never, Algorithms: []string{"ES256"}, Now: clock})
	if rec := do(t, unavailable.Guard(subHandler), encode(t, oldKey, auth.Claims{"sub": "old"})); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("key server down: %d; want 503 (body %s)", rec.Code, rec.Body)
	}
}

// derPublic returns the PKIX DER encoding of a public key.
func derPublic(tb testing.TB, pub any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}
