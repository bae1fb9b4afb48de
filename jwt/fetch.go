package jwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/typedauth/auth"
)

// Limits applied to every download of a key set or discovery document.
const (
	// DefaultFetchTimeout bounds one download when no shorter limit is set
	// by the context, the HTTP client or [RemoteOptions.FetchTimeout].
	DefaultFetchTimeout = 10 * time.Second

	// DefaultMaxBodyBytes is the largest response body read from a key
	// server (1 MiB). A larger body is an error, not a truncated set.
	DefaultMaxBodyBytes int64 = 1 << 20

	// minRSABits and maxRSABits bound the modulus of a fetched RSA key. RFC
	// 7518 §3.3 requires at least 2048 bits; the upper bound keeps a hostile
	// set from making every verification slow.
	minRSABits = 2048
	maxRSABits = 8192

	// maxRedirects is the redirect limit of the default client, as in
	// net/http.
	maxRedirects = 10

	// maxKeySetKeys is the most keys a key set may hold. Real sets hold a
	// handful; the bound keeps a hostile set from costing seconds of CPU
	// to parse and index on every download.
	maxKeySetKeys = 1000
)

// Errors of the fetching functions. Every failure to obtain a key set from
// its server matches [ErrKeySetUnavailable] (and so [auth.ErrUnavailable],
// status 503); configuration mistakes such as a plain-http URL do not.
var (
	// ErrKeySetUnavailable means a key set (or a discovery document) could
	// not be downloaded or used: a network error, a timeout, a status other
	// than 200, an oversized or unparsable body, or a set without a single
	// usable key. It is an [auth.ErrUnavailable].
	ErrKeySetUnavailable = fmt.Errorf("%w: key set unavailable", auth.ErrUnavailable)

	// ErrInsecureURL means a key set or discovery URL, given or reached by
	// a redirect, is not https. Plain http is accepted only for loopback
	// hosts (127.0.0.0/8, ::1, localhost) unless an Insecure option says
	// otherwise; redirects must always lead to https.
	ErrInsecureURL = errors.New("jwt: URL is not https")

	// ErrNoUsableKey means a key set was downloaded but none of its keys
	// can verify a signature (see [FetchKeySet] for which keys are used).
	ErrNoUsableKey = errors.New("jwt: key set has no usable signing key")

	// ErrBodyTooLarge means a key server sent more than the allowed number
	// of bytes.
	ErrBodyTooLarge = errors.New("jwt: response body too large")

	// ErrTooManyKeys means a key set holds more than 1000 keys. Such a set
	// is refused whole, before any of its keys is parsed.
	ErrTooManyKeys = errors.New("jwt: key set has more than 1000 keys")
)

// FetchKeySet downloads the JSON Web Key Set (RFC 7517) at url once and
// returns it as an immutable [KeySet]. It is what a service uses to load an
// issuer's public keys at start-up; use [NewRemoteKeySet] for a set that
// follows key rotation.
//
// A nil client means a client with a [DefaultFetchTimeout] timeout. Whatever
// the client, the download is bounded by ctx and by [DefaultFetchTimeout],
// its body by [DefaultMaxBodyBytes] (a larger body is an error), the
// status must be 200, and redirects are followed only to https URLs, on
// any host (the client's own CheckRedirect, if any, is consulted after
// that, and may restrict hosts). url itself
// must be https, or http on a loopback host.
//
// A set of more than 1000 keys is refused ([ErrTooManyKeys]). Keys that
// cannot verify signatures are skipped, not fatal: keys whose use
// is not "sig" or whose key_ops lack "verify", symmetric (oct) keys,
// keys that publish private material, keys of an unsupported type or curve,
// RSA keys outside 2048–8192 bits, keys whose declared alg is unknown or
// does not fit their type, and malformed keys. It fails with
// [ErrNoUsableKey] when no key remains.
//
// The set returned answers [KeySet.VerificationKey] from memory in O(1):
// by kid when the token has one; without a kid only when exactly one key
// can verify the token's alg. A key that declares an alg is returned only
// for that alg, and a key's type must fit the alg family (RS*/PS* → RSA,
// ES256/ES384/ES512 → EC P-256/P-384/P-521, EdDSA → Ed25519). HMAC
// algorithms never match a fetched key. The set is safe for concurrent use.
//
// Every error returned matches [ErrKeySetUnavailable] except an invalid or
// insecure url ([ErrInsecureURL]).
func FetchKeySet(ctx context.Context, client *http.Client, url string) (KeySet, error) {
	u, err := checkFetchURL(url, false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultFetchTimeout)
	defer cancel()
	body, err := fetchDocument(ctx, hardenClient(client, DefaultFetchTimeout), u, DefaultMaxBodyBytes)
	if err != nil {
		return nil, err
	}
	idx, _, err := parseKeySet(body)
	if err != nil {
		return nil, fmt.Errorf("%w: jwt: key set at %s: %w", ErrKeySetUnavailable, u.Redacted(), err)
	}
	return &fetchedKeySet{idx: idx}, nil
}

// fetchedKeySet is the immutable KeySet returned by FetchKeySet.
type fetchedKeySet struct{ idx *fetchedIndex }

func (s *fetchedKeySet) VerificationKey(_ context.Context, kid, alg string) (any, error) {
	return s.idx.lookup(kid, alg)
}

// fetchFamily is the kind of public key an algorithm needs.
type fetchFamily uint8

const (
	familyNone fetchFamily = iota
	familyRSA
	familyP256
	familyP384
	familyP521
	familyEd25519
)

// fetchedAlgs lists every JWS algorithm a fetched key can serve.
var fetchedAlgs = [...]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// fetchAlgFamily returns the key family that verifies alg, or familyNone for an
// algorithm that no fetched key serves (none, HS*, unknown names).
func fetchAlgFamily(alg string) fetchFamily {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return familyRSA
	case "ES256":
		return familyP256
	case "ES384":
		return familyP384
	case "ES512":
		return familyP521
	case "EdDSA":
		return familyEd25519
	}
	return familyNone
}

// fetchedKey is one usable public key of a fetched set.
type fetchedKey struct {
	kid    string
	alg    string // as declared by the set; "" when it declares none
	family fetchFamily
	pub    crypto.PublicKey
}

func (k *fetchedKey) fits(alg string, fam fetchFamily) bool {
	return k.family == fam && (k.alg == "" || k.alg == alg)
}

// Lookup failures. They are preallocated so that a rejected token costs no
// allocation; errUnknownKID is the one a remote set answers with a refresh.
var (
	errUnknownKID    = fmt.Errorf("%w: unknown kid", ErrKeyNotFound)
	errAlgNotServed  = fmt.Errorf("%w: alg not served by a fetched key set", ErrKeyNotFound)
	errAlgMismatch   = fmt.Errorf("%w: key does not fit the token's alg", ErrKeyNotFound)
	errAmbiguousKID  = fmt.Errorf("%w: several keys share the kid", ErrKeyNotFound)
	errNoSoleKey     = fmt.Errorf("%w: token has no kid and not exactly one key fits its alg", ErrKeyNotFound)
	errNoKeysMember  = errors.New(`jwt: key set has no "keys" array`)
	errPrivateKey    = errors.New("jwt: key publishes private material")
	errNotForSigning = errors.New("jwt: key is not for signature verification")
)

// fetchedIndex is an immutable, parsed key set.
type fetchedIndex struct {
	byKID map[string][]*fetchedKey // usually one key per kid
	sole  map[string]*fetchedKey   // alg → the only key that fits it
	n     int
}

// lookup implements KeySet.VerificationKey over the index.
func (x *fetchedIndex) lookup(kid, alg string) (any, error) {
	fam := fetchAlgFamily(alg)
	if fam == familyNone {
		return nil, errAlgNotServed
	}
	if kid == "" {
		if k := x.sole[alg]; k != nil {
			return k.pub, nil
		}
		return nil, errNoSoleKey
	}
	keys, ok := x.byKID[kid]
	if !ok {
		return nil, errUnknownKID
	}
	var found *fetchedKey
	for _, k := range keys {
		if !k.fits(alg, fam) {
			continue
		}
		if found != nil {
			return nil, errAmbiguousKID
		}
		found = k
	}
	if found == nil {
		return nil, errAlgMismatch
	}
	return found.pub, nil
}

// jwkEnvelope holds the members of a JWK that decide whether it is used.
type jwkEnvelope struct {
	Kty    string          `json:"kty"`
	Use    string          `json:"use"`
	Alg    string          `json:"alg"`
	Kid    string          `json:"kid"`
	KeyOps []string        `json:"key_ops"`
	D      json.RawMessage `json:"d"`
}

// parseKeySet parses a JWK Set document. It returns the usable keys, the
// reasons malformed keys were skipped (keys ignored by policy, such as
// use=enc, are not reported), and an error when the document is not a
// JWK Set or holds no usable key.
func parseKeySet(body []byte) (*fetchedIndex, []error, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("jwt: key set is not valid JSON: %w", err)
	}
	if doc.Keys == nil {
		return nil, nil, errNoKeysMember
	}
	if len(doc.Keys) > maxKeySetKeys {
		return nil, nil, fmt.Errorf("%w: %d", ErrTooManyKeys, len(doc.Keys))
	}
	x := &fetchedIndex{byKID: make(map[string][]*fetchedKey, len(doc.Keys))}
	var bad []error
	var all []*fetchedKey
	for i, raw := range doc.Keys {
		k, err := parseFetchedKey(raw)
		if err != nil {
			if !errors.Is(err, errNotForSigning) {
				bad = append(bad, fmt.Errorf("jwt: key %d: %w", i, err))
			}
			continue
		}
		if x.add(k) {
			all = append(all, k)
		}
	}
	if x.n == 0 {
		return nil, bad, ErrNoUsableKey
	}
	x.sole = make(map[string]*fetchedKey, len(fetchedAlgs))
	for _, alg := range fetchedAlgs {
		fam := fetchAlgFamily(alg)
		var only *fetchedKey
		count := 0
		for _, k := range all {
			if k.fits(alg, fam) {
				only = k
				count++
			}
		}
		if count == 1 {
			x.sole[alg] = only
		}
	}
	return x, bad, nil
}

// add indexes k unless the same key is already indexed under its kid, and
// reports whether it did.
func (x *fetchedIndex) add(k *fetchedKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	for _, o := range x.byKID[k.kid] {
		if o.family == k.family && o.alg == k.alg && o.pub.(equaler).Equal(k.pub) {
			return false
		}
	}
	x.byKID[k.kid] = append(x.byKID[k.kid], k)
	x.n++
	return true
}

// parseKey turns one JWK into a usable verification key. It returns an
// error wrapping errNotForSigning for keys ignored by policy, and another
// error for malformed ones.
func parseFetchedKey(raw json.RawMessage) (*fetchedKey, error) {
	var env jwkEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("jwt: malformed JWK: %w", err)
	}
	switch {
	case env.Kty == "oct":
		return nil, fmt.Errorf("%w: symmetric key", errNotForSigning)
	case env.Use != "" && env.Use != "sig":
		return nil, fmt.Errorf("%w: use %q", errNotForSigning, env.Use)
	case env.KeyOps != nil && !jwkHasOp(env.KeyOps, "verify"):
		return nil, fmt.Errorf("%w: key_ops without verify", errNotForSigning)
	case env.D != nil:
		// A set that publishes a private key has given it away; nothing it
		// signs proves anything.
		return nil, errPrivateKey
	}
	if env.Alg != "" && fetchAlgFamily(env.Alg) == familyNone {
		return nil, fmt.Errorf("%w: alg %q", errNotForSigning, env.Alg)
	}
	pub, err := decodePublicKey(raw)
	if err != nil {
		return nil, err
	}
	fam, err := fetchedKeyFamily(pub)
	if err != nil {
		return nil, err
	}
	if env.Alg != "" && fetchAlgFamily(env.Alg) != fam {
		return nil, fmt.Errorf("jwt: key type does not fit its declared alg %q", env.Alg)
	}
	return &fetchedKey{kid: env.Kid, alg: env.Alg, family: fam, pub: pub}, nil
}

// decodePublicKey decodes and validates one JWK with keyfunc (and the JWK
// implementation behind it): base64url members, points on their curve, key
// sizes, consistency with an x5c certificate chain. It never fetches x5u.
func decodePublicKey(raw json.RawMessage) (pub crypto.PublicKey, err error) {
	defer func() {
		// The decoder is third-party code fed with untrusted input; a panic
		// in it must not take the service down.
		if r := recover(); r != nil {
			pub, err = nil, fmt.Errorf("jwt: malformed JWK: decoder panicked: %v", r)
		}
	}()
	kf, err := keyfunc.NewJWKJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("jwt: malformed JWK: %w", err)
	}
	jwks, err := kf.Storage().KeyReadAll(context.Background())
	if err != nil {
		return nil, fmt.Errorf("jwt: malformed JWK: %w", err)
	}
	if len(jwks) != 1 {
		return nil, fmt.Errorf("jwt: malformed JWK: decoded into %d keys", len(jwks))
	}
	return jwks[0].Key(), nil
}

// fetchedKeyFamily checks that pub is a public signing key this package
// verifies with and returns its family.
func fetchedKeyFamily(pub crypto.PublicKey) (fetchFamily, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return familyNone, fmt.Errorf("jwt: RSA key of %d bits is outside %d–%d", bits, minRSABits, maxRSABits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return familyNone, errors.New("jwt: RSA key has an invalid public exponent")
		}
		return familyRSA, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return familyP256, nil
		case elliptic.P384():
			return familyP384, nil
		case elliptic.P521():
			return familyP521, nil
		}
		return familyNone, fmt.Errorf("%w: unsupported curve", errNotForSigning)
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return familyNone, errors.New("jwt: Ed25519 key has the wrong size")
		}
		return familyEd25519, nil
	}
	return familyNone, fmt.Errorf("%w: key type %T", errNotForSigning, pub)
}

func jwkHasOp(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkFetchURL parses a key server URL and refuses anything but https,
// unless it is http on a loopback host or allowHTTP is set.
func checkFetchURL(raw string, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("jwt: invalid URL: %w", err)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && (allowHTTP || loopbackHost(u.Hostname())):
	default:
		return nil, fmt.Errorf("%w: %s", ErrInsecureURL, u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("jwt: URL %s has no host", u.Redacted())
	}
	return u, nil
}

// loopbackHost reports whether host names this machine without DNS.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hardenClient returns a copy of c (or a new client with the given timeout
// when c is nil) that refuses any redirect to a URL that is not https.
func hardenClient(c *http.Client, timeout time.Duration) *http.Client {
	if c == nil {
		return &http.Client{Timeout: timeout, CheckRedirect: httpsRedirectsOnly(nil)}
	}
	cp := *c
	cp.CheckRedirect = httpsRedirectsOnly(c.CheckRedirect)
	return &cp
}

// httpsRedirectsOnly returns a CheckRedirect policy that refuses redirects
// to anything but https, then defers to next (or to the net/http limit of
// ten redirects when next is nil).
func httpsRedirectsOnly(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return fmt.Errorf("%w: redirect to %s", ErrInsecureURL, req.URL.Redacted())
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("jwt: stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// fetchDocument GETs u and returns its body. It requires status 200 and at most
// maxBytes of body. Every error matches ErrKeySetUnavailable.
func fetchDocument(ctx context.Context, client *http.Client, u *url.URL, maxBytes int64) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("%w: jwt: GET %s: %w", ErrKeySetUnavailable, u.Redacted(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("jwt: unexpected status %d", resp.StatusCode))
	}
	if resp.ContentLength > maxBytes {
		return fail(fmt.Errorf("%w: %d bytes announced, limit %d", ErrBodyTooLarge, resp.ContentLength, maxBytes))
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return fail(err)
	}
	if n > maxBytes {
		return fail(fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, maxBytes))
	}
	return buf.Bytes(), nil
}
