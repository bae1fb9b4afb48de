package jwt

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// keyKind is the family of a key, which decides the algorithms it fits.
type keyKind uint8

const (
	kindHMAC keyKind = iota + 1
	kindRSA
	kindEC
	kindEd25519
)

// MinRSABits is the smallest RSA modulus accepted, for local keys and for
// keys returned by a [KeySet].
const MinRSABits = 2048

// algorithm describes one supported signature algorithm.
type algorithm struct {
	idx    int
	name   string
	kind   keyKind
	method gojwt.SigningMethod
	size   int            // HMAC: minimum secret length (hash output size)
	curve  elliptic.Curve // ECDSA: the curve the algorithm requires
}

var algorithms = func() []*algorithm {
	list := []*algorithm{
		{name: "HS256", kind: kindHMAC, method: gojwt.SigningMethodHS256, size: 32},
		{name: "HS384", kind: kindHMAC, method: gojwt.SigningMethodHS384, size: 48},
		{name: "HS512", kind: kindHMAC, method: gojwt.SigningMethodHS512, size: 64},
		{name: "RS256", kind: kindRSA, method: gojwt.SigningMethodRS256},
		{name: "RS384", kind: kindRSA, method: gojwt.SigningMethodRS384},
		{name: "RS512", kind: kindRSA, method: gojwt.SigningMethodRS512},
		{name: "PS256", kind: kindRSA, method: gojwt.SigningMethodPS256},
		{name: "PS384", kind: kindRSA, method: gojwt.SigningMethodPS384},
		{name: "PS512", kind: kindRSA, method: gojwt.SigningMethodPS512},
		{name: "ES256", kind: kindEC, method: gojwt.SigningMethodES256, curve: elliptic.P256()},
		{name: "ES384", kind: kindEC, method: gojwt.SigningMethodES384, curve: elliptic.P384()},
		{name: "ES512", kind: kindEC, method: gojwt.SigningMethodES512, curve: elliptic.P521()},
		{name: "EdDSA", kind: kindEd25519, method: gojwt.SigningMethodEdDSA},
	}
	for i, a := range list {
		a.idx = i
	}
	return list
}()

func lookupAlgorithm(name string) *algorithm {
	for _, a := range algorithms {
		if a.name == name {
			return a
		}
	}
	return nil
}

// keyEntry is one local key, normalised at construction.
type keyEntry struct {
	id      string // kid; "" for a secret without one
	derived bool   // id is the RFC 7638 thumbprint, not configured
	alg     *algorithm
	kind    keyKind
	verify  any // []byte or a public key
	sign    any // []byte, private key, or nil
	curve   elliptic.Curve
	algs    []*algorithm // allowed algorithms the key fits, in Config order
	macs    *sync.Pool   // HMAC keys with one algorithm: reusable MACs
	macAlg  *algorithm
}

// maxMACSize is the largest HMAC output (SHA-512).
const maxMACSize = 64

// verifyMAC reports whether sig is the MAC of signing under the entry's
// secret, in constant time. signing must have room for maxMACSize more
// bytes, where the MAC is written.
func (e *keyEntry) verifyMAC(signing, sig []byte) bool {
	m := e.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(signing)
	sum := m.Sum(signing[len(signing):])
	e.macs.Put(m)
	return hmac.Equal(sig, sum)
}

// fits reports whether e may verify or sign with a.
func (e *keyEntry) fits(a *algorithm) bool {
	if e.alg != nil {
		return e.alg == a
	}
	return e.kind == a.kind && (a.curve == nil || a.curve == e.curve)
}

// localKeys is an immutable local key set with O(1) lookup.
type localKeys struct {
	entries []*keyEntry
	byID    map[string]*keyEntry
	byAlg   [16]*keyEntry // the only key fitting an algorithm, for tokens without kid
}

// lookup returns the local key for a token's kid and algorithm, or nil.
func (l *localKeys) lookup(kid []byte, a *algorithm) *keyEntry {
	if l == nil {
		return nil
	}
	if len(kid) == 0 {
		return l.byAlg[a.idx]
	}
	e := l.byID[string(kid)]
	if e == nil || !e.fits(a) {
		return nil
	}
	return e
}

// VerificationKey implements [KeySet] for the local keys.
func (l *localKeys) VerificationKey(_ context.Context, kid, alg string) (any, error) {
	a := lookupAlgorithm(alg)
	if a == nil {
		return nil, ErrKeyNotFound
	}
	e := l.lookup([]byte(kid), a)
	if e == nil {
		return nil, ErrKeyNotFound
	}
	return e.verify, nil
}

// newKeyEntry normalises one configured key.
func newKeyEntry(id, alg string, key any, allowed []*algorithm) (*keyEntry, error) {
	e := &keyEntry{id: id}
	name := "key"
	if id != "" {
		name = fmt.Sprintf("key %q", id)
	}
	if alg != "" {
		e.alg = lookupAlgorithm(alg)
		if e.alg == nil {
			return nil, fmt.Errorf("jwt: %s: unknown algorithm %q", name, alg)
		}
		found := false
		for _, a := range allowed {
			found = found || a == e.alg
		}
		if !found {
			return nil, fmt.Errorf("jwt: %s: algorithm %s is not in Config.Algorithms", name, alg)
		}
	}
	switch k := key.(type) {
	case []byte:
		if len(k) == 0 {
			return nil, fmt.Errorf("jwt: %s: empty HMAC secret", name)
		}
		if isPublicKeyMaterial(k) {
			return nil, fmt.Errorf("jwt: %s: the HMAC secret looks like a public key (PEM, DER or JWK); "+
				"anyone holding a public key could forge tokens with it: give the parsed key as Config.Key", name)
		}
		s := append([]byte(nil), k...)
		e.kind, e.verify, e.sign = kindHMAC, s, s
	case *rsa.PrivateKey:
		if k == nil {
			return nil, fmt.Errorf("jwt: %s: nil RSA key", name)
		}
		e.kind, e.verify, e.sign = kindRSA, &k.PublicKey, k
	case *rsa.PublicKey:
		if k == nil {
			return nil, fmt.Errorf("jwt: %s: nil RSA key", name)
		}
		e.kind, e.verify = kindRSA, k
	case *ecdsa.PrivateKey:
		if k == nil {
			return nil, fmt.Errorf("jwt: %s: nil ECDSA key", name)
		}
		e.kind, e.verify, e.sign, e.curve = kindEC, &k.PublicKey, k, k.Curve
	case *ecdsa.PublicKey:
		if k == nil {
			return nil, fmt.Errorf("jwt: %s: nil ECDSA key", name)
		}
		e.kind, e.verify, e.curve = kindEC, k, k.Curve
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("jwt: %s: bad Ed25519 private key length %d", name, len(k))
		}
		e.kind, e.verify, e.sign = kindEd25519, k.Public().(ed25519.PublicKey), k
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("jwt: %s: bad Ed25519 public key length %d", name, len(k))
		}
		e.kind, e.verify = kindEd25519, k
	case string:
		return nil, fmt.Errorf("jwt: %s: a string is not a key; give an HMAC secret as []byte", name)
	default:
		return nil, fmt.Errorf("jwt: %s: unsupported key type %T", name, key)
	}
	if err := checkPublicValues(e.verify); err != nil {
		return nil, fmt.Errorf("jwt: %s: %w", name, err)
	}
	if e.kind == kindRSA {
		if bits := e.verify.(*rsa.PublicKey).N.BitLen(); bits < MinRSABits {
			return nil, fmt.Errorf("jwt: %s: RSA key has %d bits; at least %d are required", name, bits, MinRSABits)
		}
	}
	if e.alg != nil && e.alg.kind != e.kind {
		return nil, fmt.Errorf("jwt: %s: algorithm %s does not fit a %s", name, e.alg.name, kindName(e.kind))
	}
	if e.alg != nil && e.alg.curve != nil && e.alg.curve != e.curve {
		return nil, fmt.Errorf("jwt: %s: %s needs curve %s, the key is on %s",
			name, e.alg.name, e.alg.curve.Params().Name, curveName(e.curve))
	}
	for _, a := range allowed {
		if !e.fits(a) {
			continue
		}
		if a.kind == kindHMAC && len(e.verify.([]byte)) < a.size {
			return nil, fmt.Errorf("jwt: %s: %s needs a secret of at least %d bytes, got %d",
				name, a.name, a.size, len(e.verify.([]byte)))
		}
		e.algs = append(e.algs, a)
	}
	if len(e.algs) == 0 {
		var hint string
		if e.kind == kindEC {
			hint = " (curve " + curveName(e.curve) + ")"
		}
		return nil, fmt.Errorf("jwt: %s: a %s%s fits none of Config.Algorithms %s",
			name, kindName(e.kind), hint, algNames(allowed))
	}
	if e.kind == kindHMAC && len(e.algs) == 1 {
		a, secret := e.algs[0], e.verify.([]byte)
		newHash := a.method.(*gojwt.SigningMethodHMAC).Hash.New
		e.macAlg = a
		e.macs = &sync.Pool{New: func() any { return hmac.New(newHash, secret) }}
	}
	if e.id == "" && e.kind != kindHMAC {
		tp, err := thumbprint(e.verify)
		if err != nil {
			return nil, fmt.Errorf("jwt: %s: %w", name, err)
		}
		e.id, e.derived = tp, true
	}
	return e, nil
}

// checkPublicValues rejects a configured public key whose values are
// missing or, for the supported curves, not a point of the curve: a zero
// key would otherwise panic when used.
func checkPublicValues(pub any) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N == nil || k.N.Sign() <= 0 {
			return errors.New("RSA key has no modulus")
		}
		if k.E < 3 || k.E%2 == 0 {
			return errors.New("RSA key has an invalid public exponent")
		}
	case *ecdsa.PublicKey:
		if k.Curve == nil {
			return nil // fits no algorithm; reported as such
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			if k.X == nil || k.Y == nil {
				return errors.New("ECDSA key has no valid public point")
			}
			if _, err := k.ECDH(); err != nil {
				return errors.New("ECDSA key has no valid public point")
			}
		}
	}
	return nil
}

func kindName(k keyKind) string {
	switch k {
	case kindHMAC:
		return "HMAC secret"
	case kindRSA:
		return "RSA key"
	case kindEC:
		return "ECDSA key"
	case kindEd25519:
		return "Ed25519 key"
	}
	return "key"
}

func curveName(c elliptic.Curve) string {
	if c == nil {
		return "no curve"
	}
	return c.Params().Name
}

func algNames(as []*algorithm) string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.name
	}
	return "[" + strings.Join(names, " ") + "]"
}

// parseAlgorithms checks Config.Algorithms.
func parseAlgorithms(names []string) ([]*algorithm, error) {
	if len(names) == 0 {
		return nil, errors.New("jwt: Config.Algorithms is empty; list the algorithms to accept, such as HS256 or RS256")
	}
	var out []*algorithm
	for _, n := range names {
		if strings.EqualFold(strings.TrimSpace(n), "none") {
			return nil, errors.New(`jwt: algorithm "none" can never be enabled`)
		}
		a := lookupAlgorithm(n)
		if a == nil {
			return nil, fmt.Errorf("jwt: unknown algorithm %q in Config.Algorithms", n)
		}
		dup := false
		for _, b := range out {
			dup = dup || a == b
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out, nil
}

// buildLocalKeys normalises the local keys of cfg and indexes them.
func buildLocalKeys(cfg *Config, allowed []*algorithm) (*localKeys, error) {
	var entries []*keyEntry
	add := func(id, alg string, key any) error {
		e, err := newKeyEntry(id, alg, key, allowed)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	}
	if cfg.Secret != nil {
		if cfg.Key != nil {
			return nil, errors.New("jwt: set Config.Secret or Config.Key, not both; use Config.Keys for several keys")
		}
		if err := add(cfg.KeyID, "", cfg.Secret); err != nil {
			return nil, fmt.Errorf("%w (Config.Secret)", err)
		}
	} else if cfg.Key != nil {
		if err := add(cfg.KeyID, "", cfg.Key); err != nil {
			return nil, err
		}
	} else if cfg.KeyID != "" {
		return nil, errors.New("jwt: Config.KeyID is set but Config.Secret and Config.Key are not")
	}
	for i, k := range cfg.Keys {
		if k.Key == nil {
			return nil, fmt.Errorf("jwt: Config.Keys[%d] has no key", i)
		}
		if err := add(k.ID, k.Algorithm, k.Key); err != nil {
			return nil, err
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	l := &localKeys{entries: entries, byID: make(map[string]*keyEntry, len(entries))}
	for _, e := range entries {
		if e.id == "" {
			continue
		}
		if _, dup := l.byID[e.id]; dup {
			return nil, fmt.Errorf("jwt: two keys have kid %q", e.id)
		}
		l.byID[e.id] = e
	}
	for _, a := range allowed {
		var only *keyEntry
		n := 0
		for _, e := range entries {
			if e.fits(a) {
				only, n = e, n+1
			}
		}
		if n == 1 {
			l.byAlg[a.idx] = only
		}
	}
	return l, nil
}

// checkKeyFor reports whether key, returned by a KeySet, may verify a token
// signed with a. A secret is accepted only for HMAC algorithms, only as
// []byte, and never when the bytes are recognisably a public key (see
// isPublicKeyMaterial), so a public key never becomes an HMAC secret.
func checkKeyFor(key any, a *algorithm) bool {
	switch k := key.(type) {
	case []byte:
		return a.kind == kindHMAC && len(k) >= a.size && !isPublicKeyMaterial(k)
	case *rsa.PublicKey:
		return a.kind == kindRSA && k != nil && k.N != nil && k.N.BitLen() >= MinRSABits
	case *ecdsa.PublicKey:
		return a.kind == kindEC && k != nil && k.Curve == a.curve && k.X != nil && k.Y != nil
	case ed25519.PublicKey:
		return a.kind == kindEd25519 && len(k) == ed25519.PublicKeySize
	}
	return false
}

// isPublicKeyMaterial reports whether b, offered as an HMAC secret, is
// recognisably a key or certificate: any PEM block, a DER public key
// (PKIX or PKCS #1) or certificate, a JWK, or an OpenSSH public key. Such
// bytes are public, and an HMAC secret made of them is the key confusion
// of RFC 8725 §2.1: whoever downloads the public key can sign tokens.
// Public keys in other forms, such as a bare RSA modulus or a raw Ed25519
// key, cannot be told from random bytes and are not detected.
func isPublicKeyMaterial(b []byte) bool {
	t := bytes.TrimSpace(b)
	switch {
	case bytes.Contains(t, []byte("-----BEGIN ")):
		return true
	case len(t) > 0 && t[0] == '{' && bytes.Contains(t, []byte(`"kty"`)):
		return true
	case bytes.HasPrefix(t, []byte("ssh-")), bytes.HasPrefix(t, []byte("ecdsa-sha2-")):
		return true
	case len(b) > 0 && b[0] == 0x30: // an ASN.1 SEQUENCE: try the DER forms
		if _, err := x509.ParsePKIXPublicKey(b); err == nil {
			return true
		}
		if _, err := x509.ParsePKCS1PublicKey(b); err == nil {
			return true
		}
		if _, err := x509.ParseCertificate(b); err == nil {
			return true
		}
	}
	return false
}
