package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// Issuer and Audience are the iss and aud every subject is configured to
// require, and that valid tokens carry.
const (
	Issuer   = "https://issuer.example"
	Audience = "https://api.example"
)

// Sub is the sub claim of every token; handlers answer it as the body.
const Sub = "user-1"

// Algorithms are the signature algorithms of the per-algorithm groups.
var Algorithms = []string{"HS256", "RS256", "ES256", "EdDSA"}

// JWKSAlgorithm is the algorithm of the keys in the remote key sets of the
// JWKS group: 100 distinct P-256 keys cost microseconds to generate, 100
// RSA keys seconds, and the lookup by kid being measured does not depend
// on the algorithm.
const JWKSAlgorithm = "ES256"

// JWKSSizes are the key counts of the remote sets of the JWKS group.
var JWKSSizes = []int{1, 10, 100}

// ScopeCounts are the numbers of required scopes of the scope group.
var ScopeCounts = []int{0, 1, 4, 16}

// ScopeAlgorithm is the algorithm of the scope group. HS256 is the cheapest
// signature, so the cost of the scope check itself is most visible.
const ScopeAlgorithm = "HS256"

// GrantedScopes are the scopes of valid tokens in the scope group: 20
// scopes, the first 16 of which can be required.
var GrantedScopes = func() []string {
	s := make([]string, 20)
	for i := range s {
		s[i] = fmt.Sprintf("resource%02d:read", i)
	}
	return s
}()

// RequiredScopes returns the n scopes a subject of the scope group
// requires. They are the last n of the first 16 granted, so a check that
// scans the granted list does real work.
func RequiredScopes(n int) []string {
	return append([]string(nil), GrantedScopes[16-n:16]...)
}

// keyPair is one algorithm's signing key, the key or secret that verifies
// it, and a foreign key of the same algorithm whose signatures must fail.
type keyPair struct {
	method  gojwt.SigningMethod
	sign    any
	verify  any
	foreign any
	kid     string
}

// remoteSet is one remote key set served by the Env's HTTP server.
type remoteSet struct {
	url  string
	sign *ecdsa.PrivateKey // the key of the set's last kid, which tokens name
	kid  string
	body []byte
}

// Env holds the keys, the remote key sets and the HTTP server that serves
// them. Build one with [NewEnv] and Close it when done.
type Env struct {
	keys map[string]*keyPair
	sets map[int]*remoteSet
	srv  *httptest.Server
}

// NewEnv generates the keys of every algorithm and the key sets of
// [JWKSSizes], and serves the sets on a loopback httptest server.
func NewEnv() (*Env, error) {
	e := &Env{keys: map[string]*keyPair{}, sets: map[int]*remoteSet{}}
	secret, foreignSecret := make([]byte, 32), make([]byte, 32)
	rand.Read(secret)
	rand.Read(foreignSecret)
	e.keys["HS256"] = &keyPair{method: gojwt.SigningMethodHS256, sign: secret, verify: secret, foreign: foreignSecret}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	rsaForeign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	e.keys["RS256"] = &keyPair{method: gojwt.SigningMethodRS256, sign: rsaKey, verify: &rsaKey.PublicKey, foreign: rsaForeign}

	ecKey, ecForeign := newP256(), newP256()
	e.keys["ES256"] = &keyPair{method: gojwt.SigningMethodES256, sign: ecKey, verify: &ecKey.PublicKey, foreign: ecForeign}

	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	_, edForeign, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	e.keys["EdDSA"] = &keyPair{method: gojwt.SigningMethodEdDSA, sign: edKey, verify: edPub, foreign: edForeign}
	for alg, k := range e.keys {
		k.kid = "local-" + strings.ToLower(alg)
	}

	mux := http.NewServeMux()
	for _, n := range JWKSSizes {
		set, err := newJWKS(n)
		if err != nil {
			return nil, err
		}
		e.sets[n] = set
		mux.HandleFunc(fmt.Sprintf("GET /jwks/%d", n), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(set.body)
		})
	}
	e.srv = httptest.NewServer(mux)
	for n, set := range e.sets {
		set.url = fmt.Sprintf("%s/jwks/%d", e.srv.URL, n)
	}
	return e, nil
}

func newP256() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err) // crypto/rand never fails
	}
	return k
}

// newJWKS returns a set of n ES256 keys with kids key-000, key-001, …;
// tokens name the last one, the worst case for a set searched in order.
func newJWKS(n int) (*remoteSet, error) {
	type jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	out := &remoteSet{}
	for i := range n {
		k := newP256()
		pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil, err
		}
		kid := fmt.Sprintf("key-%03d", i)
		set.Keys = append(set.Keys, jwk{Kty: "EC", Crv: "P-256", Kid: kid, Alg: "ES256", Use: "sig",
			X: base64.RawURLEncoding.EncodeToString(pub[1:33]), Y: base64.RawURLEncoding.EncodeToString(pub[33:])})
		out.sign, out.kid = k, kid
	}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	out.body = body
	return out, nil
}

// Close stops the key set server.
func (e *Env) Close() { e.srv.Close() }

// Client returns an HTTP client for the key set server.
func (e *Env) Client() *http.Client { return e.srv.Client() }

// Scenario is one cell of a group: the algorithm, the scopes required by
// the route, and where the verifying key comes from.
type Scenario struct {
	// Alg is the signature algorithm of the tokens, the only one accepted.
	Alg string
	// Granted is the scope claim of valid tokens, one scope per string;
	// nil means "items:read items:write".
	Granted []string
	// Required are the scopes the route requires; all must be granted.
	Required []string
	// JWKS, when not zero, is the number of keys in a remote key set that
	// the subject downloads from [Scenario.JWKSURL]. Zero means the
	// verifying key is configured locally ([Env.VerifyKey]).
	JWKS int
}

// VerifyKey returns the key of s that verifies tokens: an HMAC secret
// ([]byte) or a public key. It is nil for remote key set scenarios.
func (e *Env) VerifyKey(s Scenario) any {
	if s.JWKS != 0 {
		return nil
	}
	return e.keys[s.Alg].verify
}

// KeyID returns the kid that tokens of s carry.
func (e *Env) KeyID(s Scenario) string {
	if s.JWKS != 0 {
		return e.sets[s.JWKS].kid
	}
	return e.keys[s.Alg].kid
}

// JWKSURL returns the URL of the remote key set of s, or "" when s uses a
// local key.
func (e *Env) JWKSURL(s Scenario) string {
	if s.JWKS == 0 {
		return ""
	}
	return e.sets[s.JWKS].url
}

// Token is a kind of token a subject is sent: a valid one, or one that a
// single check must reject.
type Token int

// The tokens of every scenario. Each invalid one differs from Valid in one
// respect only.
const (
	Valid           Token = iota
	BadSignature          // signed by a foreign key of the same algorithm, with the same kid
	Expired               // exp an hour ago
	ForeignIssuer         // iss of another issuer
	ForeignAudience       // aud of another API
	MissingScope          // one required scope not granted (scenarios requiring scopes only)
)

// String names the token kind, as in test names.
func (t Token) String() string {
	return [...]string{"valid", "bad-signature", "expired", "foreign-issuer", "foreign-audience", "missing-scope"}[t]
}

// Token returns a signed token of the given kind for s: a typical access
// token with iss, sub, aud, iat, exp, jti and scope claims, and a kid.
func (e *Env) Token(s Scenario, kind Token) (string, error) {
	now := time.Now()
	granted := s.Granted
	if granted == nil {
		granted = []string{"items:read", "items:write"}
	}
	claims := gojwt.MapClaims{
		"iss": Issuer, "sub": Sub, "aud": Audience, "jti": "5f1c0e1e-7d27-4f6c-9d54-0c7a1a2b3c4d",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	switch kind {
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case ForeignIssuer:
		claims["iss"] = "https://other-issuer.example"
	case ForeignAudience:
		claims["aud"] = "https://other-api.example"
	case MissingScope:
		if len(s.Required) == 0 {
			return "", fmt.Errorf("bench: scenario %+v requires no scope", s)
		}
		missing := s.Required[len(s.Required)-1]
		var g []string
		for _, sc := range granted {
			if sc != missing {
				g = append(g, sc)
			}
		}
		granted = g
	}
	claims["scope"] = strings.Join(granted, " ")

	var method gojwt.SigningMethod
	var key any
	if s.JWKS != 0 {
		method, key = gojwt.SigningMethodES256, e.sets[s.JWKS].sign
		if kind == BadSignature {
			key = newP256()
		}
	} else {
		k := e.keys[s.Alg]
		if k == nil {
			return "", fmt.Errorf("bench: unknown algorithm %q", s.Alg)
		}
		method, key = k.method, k.sign
		if kind == BadSignature {
			key = k.foreign
		}
	}
	t := gojwt.NewWithClaims(method, claims)
	t.Header["kid"] = e.KeyID(s)
	return t.SignedString(key)
}

// publicKey returns the public half of a verify key, for subjects that
// take a crypto.PublicKey.
func publicKey(k any) (crypto.PublicKey, bool) {
	switch k := k.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return k, true
	}
	return nil, false
}
