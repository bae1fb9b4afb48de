package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
)

// JWK is the public part of one key as a JSON Web Key (RFC 7517, RFC 7518
// §6, RFC 8037). Only the members of public keys exist here, so a JWK can
// never carry private material.
type JWK struct {
	// KeyType is "RSA", "EC" or "OKP" (Ed25519).
	KeyType string `json:"kty"`
	// KeyID is the kid that tokens signed with the key carry.
	KeyID string `json:"kid,omitempty"`
	// Algorithm is the one algorithm the key signs with.
	Algorithm string `json:"alg,omitempty"`
	// Use is "sig": the key verifies signatures.
	Use string `json:"use,omitempty"`
	// N and E are the RSA modulus and public exponent, base64url.
	N string `json:"n,omitempty"`
	E string `json:"e,omitempty"`
	// Curve is the curve of an EC key (P-256, P-384, P-521) or "Ed25519".
	Curve string `json:"crv,omitempty"`
	// X and Y are the public point, base64url; Ed25519 keys have X only.
	X string `json:"x,omitempty"`
	Y string `json:"y,omitempty"`
}

// JWKSet is a JSON Web Key Set: it marshals to {"keys":[…]}.
type JWKSet struct {
	// Keys are the public keys, in configuration order.
	Keys []JWK `json:"keys"`
}

// JWKS returns the public key set of the configured asymmetric keys (those
// that sign and those kept only to verify, as during a rotation), ready to
// publish at /.well-known/jwks.json: private members stripped, kid, alg and
// use "sig" set. HMAC secrets are never published. The result is a copy
// that the caller may modify; a nil Issuer publishes an empty set.
func (e *Issuer) JWKS() JWKSet {
	if e == nil {
		return JWKSet{Keys: []JWK{}}
	}
	return JWKSet{Keys: append([]JWK{}, e.jwks.Keys...)}
}

// JWKSHandler returns a handler serving [Issuer.JWKS] with Content-Type
// application/jwk-set+json and a Cache-Control of five minutes. It answers
// GET and HEAD; other methods get 405.
//
//	mux.Handle("GET /.well-known/jwks.json", a.JWKSHandler())
func (e *Issuer) JWKSHandler() http.Handler {
	body := []byte(`{"keys":[]}`)
	if e != nil {
		body = e.jwksBody
	}
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", length)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}

func (e *Issuer) buildJWKS(keys []*localKey) error {
	e.jwks.Keys = []JWK{}
	for _, l := range keys {
		if l.algs[0].kind == kindHMAC {
			continue
		}
		k, err := publicJWK(publicOf(l.jwk.Key()))
		if err != nil {
			return err
		}
		k.KeyID, k.Use, k.Algorithm = l.id, "sig", l.algs[0].name
		e.jwks.Keys = append(e.jwks.Keys, k)
	}
	body, err := json.Marshal(e.jwks)
	if err != nil {
		return fmt.Errorf("jwt: marshal JWKS: %w", err)
	}
	e.jwksBody = body
	return nil
}

var b64url = base64.RawURLEncoding

// publicJWK returns the public members of key.
func publicJWK(key any) (JWK, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return JWK{KeyType: "RSA", N: b64url.EncodeToString(k.N.Bytes()),
			E: b64url.EncodeToString(big.NewInt(int64(k.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		x, y, err := ecCoordinates(k, size)
		if err != nil {
			return JWK{}, err
		}
		return JWK{KeyType: "EC", Curve: k.Curve.Params().Name,
			X: b64url.EncodeToString(x), Y: b64url.EncodeToString(y)}, nil
	case ed25519.PublicKey:
		return JWK{KeyType: "OKP", Curve: "Ed25519", X: b64url.EncodeToString(k)}, nil
	}
	return JWK{}, fmt.Errorf("jwt: cannot publish a %T", key)
}

// ecCoordinates returns the fixed-size big-endian coordinates of k, from its
// uncompressed point encoding.
func ecCoordinates(k *ecdsa.PublicKey, size int) (x, y []byte, err error) {
	point, err := k.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("jwt: ECDSA public key: %w", err)
	}
	if len(point) != 1+2*size {
		return nil, nil, errors.New("jwt: ECDSA public key: unexpected point encoding")
	}
	return point[1 : 1+size], point[1+size:], nil
}

// thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key,
// base64url encoded: the hash of the required members in lexicographic
// order, without white space.
func thumbprint(key any) (string, error) {
	k, err := publicJWK(key)
	if err != nil {
		return "", err
	}
	var canonical string
	switch k.KeyType {
	case "RSA":
		canonical = `{"e":"` + k.E + `","kty":"RSA","n":"` + k.N + `"}`
	case "EC":
		canonical = `{"crv":"` + k.Curve + `","kty":"EC","x":"` + k.X + `","y":"` + k.Y + `"}`
	case "OKP":
		canonical = `{"crv":"` + k.Curve + `","kty":"OKP","x":"` + k.X + `"}`
	}
	sum := sha256.Sum256([]byte(canonical))
	return b64url.EncodeToString(sum[:]), nil
}
