package jwt_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// exampleKey returns a fixed Ed25519 public key, so that the examples print
// the same output on every run.
func exampleKey(seed byte) ed25519.PublicKey {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey)
}

// exampleJWKS marshals public keys, indexed by kid, as a JWK Set.
func exampleJWKS(keys map[string]ed25519.PublicKey) []byte {
	set := struct {
		Keys []map[string]string `json:"keys"`
	}{Keys: []map[string]string{}}
	for kid, pub := range keys {
		set.Keys = append(set.Keys, map[string]string{
			"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
			"x": base64.RawURLEncoding.EncodeToString(pub),
		})
	}
	b, _ := json.Marshal(set)
	return b
}

// This example loads an issuer's keys once, at start-up.
func ExampleFetchKeySet() {
	pub := exampleKey(1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(exampleJWKS(map[string]ed25519.PublicKey{"2026-11": pub}))
	}))
	defer srv.Close()

	ctx := context.Background()
	keys, err := jwt.FetchKeySet(ctx, nil, srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	key, err := keys.VerificationKey(ctx, "2026-11", "EdDSA")
	fmt.Println("EdDSA key found:", err == nil && pub.Equal(key))
	_, err = keys.VerificationKey(ctx, "2026-11", "RS256")
	fmt.Println("same kid for RS256:", errors.Is(err, jwt.ErrKeyNotFound))
	_, err = keys.VerificationKey(ctx, "2027-01", "EdDSA")
	fmt.Println("unknown kid:", errors.Is(err, jwt.ErrKeyNotFound))
	// Output:
	// EdDSA key found: true
	// same kid for RS256: true
	// unknown kid: true
}

// This example follows a key rotation: the issuer publishes a new key, and
// the first token that names it makes the set download the keys again.
func ExampleNewRemoteKeySet() {
	var published atomic.Pointer[[]byte]
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(*published.Load())
	}))
	defer srv.Close()
	old := exampleJWKS(map[string]ed25519.PublicKey{"2026-11": exampleKey(1)})
	published.Store(&old)

	ctx := context.Background()
	keys, err := jwt.NewRemoteKeySet(ctx, srv.URL, jwt.RemoteOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer keys.Close()

	rotated := exampleJWKS(map[string]ed25519.PublicKey{"2026-11": exampleKey(1), "2026-12": exampleKey(2)})
	published.Store(&rotated)
	key, err := keys.VerificationKey(ctx, "2026-12", "EdDSA")
	fmt.Println("new key found:", err == nil && exampleKey(2).Equal(key))
	_, err = keys.VerificationKey(ctx, "2026-11", "EdDSA")
	fmt.Println("old key still served:", err == nil)
	_, err = keys.VerificationKey(ctx, "forged", "EdDSA")
	fmt.Println("random kid:", errors.Is(err, jwt.ErrKeyNotFound))
	// The random kid came within a minute of the last download: it was
	// refused without asking the server.
	fmt.Println("requests:", requests.Load())
	// Output:
	// new key found: true
	// old key still served: true
	// random kid: true
	// requests: 2
}

// This example starts while the key server is down. Tokens are answered
// with 503 Service Unavailable, not 401, until the keys can be loaded.
func ExampleRemoteOptions_allowInitialFailure() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	ctx := context.Background()
	keys, err := jwt.NewRemoteKeySet(ctx, srv.URL, jwt.RemoteOptions{AllowInitialFailure: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer keys.Close()
	fmt.Println("loaded:", keys.Loaded())
	_, err = keys.VerificationKey(ctx, "2026-11", "EdDSA")
	fmt.Println("status:", auth.StatusOf(err))
	// Output:
	// loaded: false
	// status: 503
}

// This example finds an OpenID Provider's keys from its issuer URL.
func ExampleDiscoverKeySet() {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/keys"})
		case "/keys":
			w.Write(exampleJWKS(map[string]ed25519.PublicKey{"k1": exampleKey(1)}))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	keys, err := jwt.DiscoverKeySet(ctx, srv.URL, jwt.RemoteOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer keys.Close()
	fmt.Println("jwks_uri:", strings.TrimPrefix(keys.URL(), srv.URL))
	_, err = keys.VerificationKey(ctx, "k1", "EdDSA")
	fmt.Println("key found:", err == nil)

	// The document must name the issuer it was fetched for, exactly.
	_, err = jwt.Discover(ctx, nil, srv.URL+"/")
	fmt.Println("trailing slash:", errors.Is(err, jwt.ErrIssuerMismatch))
	// Output:
	// jwks_uri: /keys
	// key found: true
	// trailing slash: true
}
