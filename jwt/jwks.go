package jwt

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/MicahParks/jwkset"
)

// JWKS returns the public key set of the configured asymmetric keys (those
// that sign and those kept only to verify, as during a rotation), ready to
// publish at /.well-known/jwks.json: private members stripped, kid, alg and
// use "sig" set. HMAC secrets are never published. The result is a copy
// that the caller may modify; a nil Issuer publishes an empty set.
func (e *Issuer) JWKS() jwkset.JWKSMarshal {
	if e == nil {
		return jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	}
	return jwkset.JWKSMarshal{Keys: slices.Clone(e.jwks.Keys)}
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
	e.jwks.Keys = []jwkset.JWKMarshal{}
	for _, l := range keys {
		if l.algs[0].kind != kindHMAC {
			m := l.jwk.Marshal() // of the public key: no private member
			m.ALG = jwkset.ALG(l.algs[0].name)
			e.jwks.Keys = append(e.jwks.Keys, m)
		}
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
