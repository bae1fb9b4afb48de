package jwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/MicahParks/jwkset"
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

// RSA moduli accepted, for local keys and fetched ones alike. RFC 7518 §3.3
// requires at least 2048 bits; the upper bound keeps a hostile key set from
// making every verification slow.
const (
	MinRSABits = 2048
	maxRSABits = 8192
)

// algorithm describes one supported signature algorithm. algorithms is the
// package's only algorithm table.
type algorithm struct {
	name   string
	kind   keyKind
	method gojwt.SigningMethod
	size   int            // HMAC: minimum secret length (hash output size)
	curve  elliptic.Curve // ECDSA: the curve the algorithm requires
}

var algorithms = []*algorithm{
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

func lookupAlgorithm(name string) *algorithm {
	for _, a := range algorithms {
		if a.name == name {
			return a
		}
	}
	return nil
}

// parseAlgorithms checks a list of algorithm names.
func parseAlgorithms(names []string) ([]*algorithm, error) {
	var out []*algorithm
	for _, n := range names {
		if strings.EqualFold(strings.TrimSpace(n), "none") {
			return nil, errors.New(`jwt: algorithm "none" can never be enabled`)
		}
		a := lookupAlgorithm(n)
		if a == nil {
			return nil, fmt.Errorf("jwt: unknown algorithm %q in Config.Algorithms", n)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

func algNames(as []*algorithm) []string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.name
	}
	return names
}

// kindOf returns the family of a public key or secret and, for ECDSA, its
// curve; 0 for anything this package does not verify with.
func kindOf(key any) (keyKind, elliptic.Curve) {
	switch k := key.(type) {
	case []byte:
		return kindHMAC, nil
	case *rsa.PublicKey:
		return kindRSA, nil
	case *ecdsa.PublicKey:
		return kindEC, k.Curve
	case ed25519.PublicKey:
		return kindEd25519, nil
	}
	return 0, nil
}

// keyFits is the package's one rule for whether key, from any source, may
// verify a token signed with a: same family, a's curve, 2048 to 8192 RSA
// bits, a secret at least as long as the hash (isPublicKeyMaterial is
// checked where keys enter). Private keys do not fit.
func keyFits(key any, a *algorithm) bool {
	switch k := key.(type) {
	case []byte:
		return a.kind == kindHMAC && len(k) >= a.size
	case *rsa.PublicKey:
		return a.kind == kindRSA && k != nil && rsaUsable(k) == nil
	case *ecdsa.PublicKey:
		return a.kind == kindEC && k != nil && k.Curve == a.curve && k.X != nil && k.Y != nil
	case ed25519.PublicKey:
		return a.kind == kindEd25519 && len(k) == ed25519.PublicKeySize
	}
	return false
}

func rsaUsable(k *rsa.PublicKey) error {
	switch {
	case k.N == nil || k.N.Sign() <= 0:
		return errors.New("RSA key has no modulus")
	case k.E < 3 || k.E%2 == 0:
		return errors.New("RSA key has an invalid public exponent")
	case k.N.BitLen() < MinRSABits || k.N.BitLen() > maxRSABits:
		return fmt.Errorf("RSA key has %d bits; %d to %d are required", k.N.BitLen(), MinRSABits, maxRSABits)
	}
	return nil
}

// publicOf returns the public half of a private key, or key itself.
func publicOf(key any) any {
	if s, ok := key.(crypto.Signer); ok {
		return s.Public()
	}
	return key
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
		_, pkix := x509.ParsePKIXPublicKey(b)
		_, pkcs1 := x509.ParsePKCS1PublicKey(b)
		_, cert := x509.ParseCertificate(b)
		return pkix == nil || pkcs1 == nil || cert == nil
	}
	return false
}

// localKey is one key of Config, checked and normalised.
type localKey struct {
	id   string // kid; "" for a secret without one
	alg  *algorithm
	sign any // private key or secret; nil for a public key
	jwk  jwkset.JWK
	algs []*algorithm // allowed algorithms the key fits, in Config order
}

// newLocalKey checks one configured key against the allowed algorithms.
func newLocalKey(id, alg string, key any, allowed []*algorithm) (*localKey, error) {
	name := "key"
	if id != "" {
		name = fmt.Sprintf("key %q", id)
	}
	fail := func(format string, args ...any) (*localKey, error) {
		return nil, fmt.Errorf("jwt: "+name+": "+format, args...)
	}
	l := &localKey{id: id}
	if alg != "" {
		if l.alg = lookupAlgorithm(alg); l.alg == nil {
			return fail("unknown algorithm %q", alg)
		}
		if !slices.Contains(allowed, l.alg) {
			return fail("algorithm %s is not in Config.Algorithms", alg)
		}
	}
	switch k := key.(type) {
	case []byte:
		if len(k) == 0 {
			return fail("empty HMAC secret")
		}
		if isPublicKeyMaterial(k) {
			return fail("the HMAC secret looks like a public key (PEM, DER or JWK); " +
				"anyone holding a public key could forge tokens with it: give the parsed key as Config.Key")
		}
		key = bytes.Clone(k)
		l.sign = key
	case *rsa.PrivateKey, *ecdsa.PrivateKey, *rsa.PublicKey, *ecdsa.PublicKey:
		if k == (*rsa.PrivateKey)(nil) || k == (*ecdsa.PrivateKey)(nil) || k == (*rsa.PublicKey)(nil) || k == (*ecdsa.PublicKey)(nil) {
			return fail("nil %T", key)
		}
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize { // Public would panic
			return fail("bad Ed25519 private key length %d", len(k))
		}
	case ed25519.PublicKey: // jwkset checks its length
	case string:
		return fail("a string is not a key; give an HMAC secret as []byte")
	default:
		return fail("unsupported key type %T", key)
	}
	if _, ok := key.(crypto.Signer); ok {
		l.sign = key // a private key
	}
	pub := publicOf(key)
	kind, curve := kindOf(pub)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if err := rsaUsable(k); err != nil {
			return fail("%v", err)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			if k.X == nil || k.Y == nil {
				return fail("ECDSA key has no valid public point")
			}
			if _, err := k.ECDH(); err != nil {
				return fail("ECDSA key has no valid public point")
			}
		}
	}
	if l.alg != nil && l.alg.kind != kind {
		return fail("algorithm %s does not fit a %s", l.alg.name, kindNames[kind])
	}
	if l.alg != nil && l.alg.curve != nil && l.alg.curve != curve {
		return fail("%s needs curve %s, the key is on %s", l.alg.name, l.alg.curve.Params().Name, curveName(curve))
	}
	for _, a := range allowed {
		if (l.alg != nil && a != l.alg) || a.kind != kind || (a.curve != nil && a.curve != curve) {
			continue
		}
		if a.kind == kindHMAC && len(pub.([]byte)) < a.size {
			return fail("%s needs a secret of at least %d bytes, got %d", a.name, a.size, len(pub.([]byte)))
		}
		l.algs = append(l.algs, a)
	}
	if len(l.algs) == 0 {
		var hint string
		if kind == kindEC {
			hint = " (curve " + curveName(curve) + ")"
		}
		return fail("a %s%s fits none of Config.Algorithms %v", kindNames[kind], hint, algNames(allowed))
	}
	opts := jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: l.id, USE: jwkset.UseSig}}
	if l.alg != nil {
		opts.Metadata.ALG = jwkset.ALG(l.alg.name) // jwkset sets EdDSA's itself
	}
	opts.Marshal.Private = kind == kindHMAC // the only way jwkset holds a secret
	jwk, err := jwkset.NewJWKFromKey(pub, opts)
	if err == nil && l.id == "" && kind != kindHMAC {
		l.id = thumbprint(jwk.Marshal())
		opts.Metadata.KID = l.id
		jwk, err = jwkset.NewJWKFromKey(pub, opts)
	}
	if err != nil {
		return fail("%v", err)
	}
	l.jwk = jwk
	return l, nil
}

var kindNames = [...]string{"key", kindHMAC: "HMAC secret", kindRSA: "RSA key", kindEC: "ECDSA key", kindEd25519: "Ed25519 key"}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "no curve"
	}
	return c.Params().Name
}

// localKeys checks the local keys of cfg.
func localKeys(cfg *Config, allowed []*algorithm) ([]*localKey, error) {
	var keys []*localKey
	add := func(id, alg string, key any) error {
		k, err := newLocalKey(id, alg, key, allowed)
		if err != nil {
			return err
		}
		if k.id != "" && slices.ContainsFunc(keys, func(o *localKey) bool { return o.id == k.id }) {
			return fmt.Errorf("jwt: two keys have kid %q", k.id)
		}
		keys = append(keys, k)
		return nil
	}
	switch {
	case cfg.Secret != nil && cfg.Key != nil:
		return nil, errors.New("jwt: set Config.Secret or Config.Key, not both; use Config.Keys for several keys")
	case cfg.Secret != nil:
		if err := add(cfg.KeyID, "", cfg.Secret); err != nil {
			return nil, fmt.Errorf("%w (Config.Secret)", err)
		}
	case cfg.Key != nil:
		if err := add(cfg.KeyID, "", cfg.Key); err != nil {
			return nil, err
		}
	case cfg.KeyID != "":
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
	return keys, nil
}
