package jwt

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/MicahParks/jwkset"
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

func (e *Issuer) buildJWKS(keys []*localKey) {
	e.jwks.Keys = []JWK{}
	for _, l := range keys {
		if l.algs[0].kind == kindHMAC {
			continue
		}
		m := l.jwk.Marshal()
		e.jwks.Keys = append(e.jwks.Keys, JWK{KeyType: string(m.KTY), KeyID: l.id, Algorithm: l.algs[0].name, Use: "sig",
			N: m.N, E: m.E, Curve: string(m.CRV), X: m.X, Y: m.Y})
	}
	e.jwksBody, _ = json.Marshal(e.jwks) // strings only: it cannot fail
}

// thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key,
// base64url encoded: the hash of the required members in lexicographic
// order, without white space.
func thumbprint(m jwkset.JWKMarshal) string {
	var canonical string
	switch m.KTY {
	case jwkset.KtyRSA:
		canonical = `{"e":"` + m.E + `","kty":"RSA","n":"` + m.N + `"}`
	case jwkset.KtyEC:
		canonical = `{"crv":"` + string(m.CRV) + `","kty":"EC","x":"` + m.X + `","y":"` + m.Y + `"}`
	case jwkset.KtyOKP:
		canonical = `{"crv":"` + string(m.CRV) + `","kty":"OKP","x":"` + m.X + `"}`
	}
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
