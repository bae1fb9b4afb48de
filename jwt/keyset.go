package jwt

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
)

// KeySet resolves the key that verifies a token. [MemoryKeySet] (local keys,
// a set loaded with [ParseKeySet] or [FetchKeySet]) and [RemoteKeySet] (a
// JWKS that refreshes in the background) are KeySets; so is any type with
// this method, such as an adapter to a secrets manager.
//
// Implementations must be safe for concurrent use and should answer from
// memory for a known kid.
type KeySet interface {
	// VerificationKey returns the key that verifies a token whose header
	// has the given kid and alg: an HMAC secret ([]byte) or a public key
	// (*rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey).
	//
	// kid is "" when the token has none; the set then returns a key only
	// when exactly one of its keys can verify alg. A key that declares an
	// algorithm is returned only for that algorithm.
	//
	// Whatever a KeySet returns is checked again before use: a key that
	// does not fit alg (see [Config.Key] for which keys fit which
	// algorithms), a secret shorter than the hash output or recognisably a
	// public key or certificate (PEM, DER, JWK, OpenSSH), a private key, is
	// treated as not found.
	//
	// It returns an error matching [ErrKeyNotFound] when no key fits (the
	// token is rejected with 401), or one matching [auth.ErrUnavailable]
	// when the keys cannot be obtained at all (503). Any other error is
	// passed through unchanged: an [*auth.Error] keeps its status, anything
	// else is answered with a generic 500, since it is a failure of the
	// server rather than of the token.
	VerificationKey(ctx context.Context, kid, alg string) (any, error)
}

// Lookup failures. They are preallocated so that a rejected token costs no
// allocation.
var (
	errUnknownKID   = fmt.Errorf("%w: unknown kid", ErrKeyNotFound)
	errAlgMismatch  = fmt.Errorf("%w: no key of the kid fits the token's alg", ErrKeyNotFound)
	errAmbiguousKID = fmt.Errorf("%w: several keys share the kid and fit the alg", ErrKeyNotFound)
	errNoSoleKey    = fmt.Errorf("%w: token has no kid and not exactly one key fits its alg", ErrKeyNotFound)
	errSeveralKeys  = fmt.Errorf("%w: several do", errNoSoleKey) // a set with several does not defer to the next
)

// MemoryKeySet is a [KeySet] and a [jwkset.Storage] held in memory and
// indexed by kid, so that a known kid is found in O(1) without allocating.
// Its keys are the verification keys of [Config] (secrets included), or a
// JWK Set loaded with [ParseKeySet] or [FetchKeySet].
//
// Through its jwkset.Storage methods it can be handed to keyfunc.New, and
// changed: KeyWrite, KeyDelete and KeyReplaceAll install a new index
// atomically, so lookups in flight see the old keys or the new ones, never
// a mix. Keys whose type this package does not verify with are kept in the
// storage but never used. The zero MemoryKeySet is empty and ready to use;
// it is safe for concurrent use.
type MemoryKeySet struct {
	jwkset.MemoryJWKSet // the keys as given, for the Storage methods not written here

	mu  sync.Mutex // serialises writers
	idx atomic.Pointer[keyIndex]
}

var (
	_ KeySet         = (*MemoryKeySet)(nil)
	_ jwkset.Storage = (*MemoryKeySet)(nil)
)

// keyIndex is an immutable snapshot of a set's keys.
type keyIndex struct {
	byKID map[string][]*indexedKey
	all   []*indexedKey
	gen   uint64
}

// indexedKey is one usable key: its public key (or secret) and the one
// algorithm it declares, if any.
type indexedKey struct {
	kid string
	key any
	alg *algorithm
	jwk jwkset.JWK
}

var emptyIndex = &keyIndex{}

func (s *MemoryKeySet) index() *keyIndex {
	if x := s.idx.Load(); x != nil {
		return x
	}
	return emptyIndex
}

// install indexes jwks and makes them the set's keys. s.mu must be held.
func (s *MemoryKeySet) install(jwks []jwkset.JWK) {
	old := s.index()
	_ = s.MemoryJWKSet.KeyReplaceAll(context.Background(), jwks)
	x := &keyIndex{byKID: make(map[string][]*indexedKey, len(jwks)), gen: old.gen + 1}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	for _, j := range jwks {
		k := usableKey(j)
		if k == nil {
			continue
		}
		if slices.ContainsFunc(x.byKID[k.kid], func(o *indexedKey) bool {
			e, ok := o.key.(equaler)
			return ok && o.alg == k.alg && e.Equal(k.key)
		}) {
			continue // the same key published twice
		}
		x.all = append(x.all, k)
		if k.kid != "" {
			x.byKID[k.kid] = append(x.byKID[k.kid], k)
		}
	}
	s.idx.Store(x)
}

// usableKey returns the verification key of j, or nil when j cannot verify
// anything: a key type or curve this package does not use, a declared alg
// it does not know or that does not fit the key.
func usableKey(j jwkset.JWK) *indexedKey {
	m := j.Marshal()
	k := &indexedKey{kid: m.KID, key: publicOf(j.Key()), jwk: j}
	if b, ok := k.key.([]byte); ok && isPublicKeyMaterial(b) {
		return nil
	}
	if m.ALG != "" {
		if k.alg = lookupAlgorithm(string(m.ALG)); k.alg == nil {
			return nil
		}
	}
	if slices.ContainsFunc(algorithms, k.fits) {
		return k
	}
	return nil
}

// fits reports whether k may verify a token signed with a.
func (k *indexedKey) fits(a *algorithm) bool {
	return (k.alg == nil || k.alg == a) && keyFits(k.key, a)
}

// pick returns the one key of kid that fits a or, for a token without kid,
// the only key that fits a.
func (x *keyIndex) pick(kid string, a *algorithm) (any, error) {
	keys, ok := x.all, true
	if kid != "" {
		if keys, ok = x.byKID[kid]; !ok {
			return nil, errUnknownKID
		}
	}
	var found any
	n := 0
	for _, k := range keys {
		if k.fits(a) {
			found = k.key
			n++
		}
	}
	switch {
	case n == 1:
		return found, nil
	case kid != "" && n == 0:
		return nil, errAlgMismatch
	case kid != "":
		return nil, errAmbiguousKID
	case n == 0:
		return nil, errNoSoleKey
	}
	return nil, errSeveralKeys
}

// lookup implements VerificationKey over the index.
func (x *keyIndex) lookup(kid, alg string) (any, error) {
	if a := lookupAlgorithm(alg); a != nil {
		return x.pick(kid, a)
	}
	return nil, errAlgMismatch
}

// VerificationKey implements [KeySet]. It answers from memory without
// allocating.
func (s *MemoryKeySet) VerificationKey(_ context.Context, kid, alg string) (any, error) {
	return s.index().lookup(kid, alg)
}

// Keyfunc returns keyfunc's Keyfunc over the set, for golang-jwt's parser
// and other users of keyfunc. It reads keys by kid only, without the rules
// of [KeySet] (the kid-less rule, keys fitting the alg), which this
// package's verifier applies.
func (s *MemoryKeySet) Keyfunc() keyfunc.Keyfunc { return mustKeyfunc(s) }

func mustKeyfunc(s jwkset.Storage) keyfunc.Keyfunc {
	kf, err := keyfunc.New(keyfunc.Options{Storage: s})
	if err != nil {
		panic(err) // only for a nil storage
	}
	return kf
}

// Generation counts the changes of the set's keys: it grows by one each time
// the keys are replaced (a download, a KeyWrite…). A cache of verified tokens
// can store it with each entry and revalidate entries made under an older
// generation.
func (s *MemoryKeySet) Generation() uint64 { return s.index().gen }

// HasKey reports whether the set holds a usable key with the given kid.
func (s *MemoryKeySet) HasKey(kid string) bool {
	_, ok := s.index().byKID[kid]
	return ok
}

// KeyRead implements [jwkset.Storage]: the first usable key with kid, or an
// error matching jwkset.ErrKeyNotFound and [ErrKeyNotFound].
func (s *MemoryKeySet) KeyRead(_ context.Context, kid string) (jwkset.JWK, error) {
	if keys := s.index().byKID[kid]; len(keys) > 0 {
		return keys[0].jwk, nil
	}
	return jwkset.JWK{}, errUnknownKID
}

// KeyReplaceAll implements [jwkset.Storage].
func (s *MemoryKeySet) KeyReplaceAll(_ context.Context, given []jwkset.JWK) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.install(slices.Clone(given))
	return nil
}

// KeyWrite implements [jwkset.Storage]: it adds jwk, or replaces the key
// with the same kid.
func (s *MemoryKeySet) KeyWrite(ctx context.Context, jwk jwkset.JWK) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kid := jwk.Marshal().KID
	jwks, _ := s.MemoryJWKSet.KeyReadAll(ctx)
	jwks = slices.DeleteFunc(jwks, func(j jwkset.JWK) bool { return kid != "" && j.Marshal().KID == kid })
	s.install(append(jwks, jwk))
	return nil
}

// KeyDelete implements [jwkset.Storage].
func (s *MemoryKeySet) KeyDelete(ctx context.Context, kid string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, _ := s.MemoryJWKSet.KeyReadAll(ctx)
	jwks := slices.DeleteFunc(slices.Clone(old), func(j jwkset.JWK) bool { return j.Marshal().KID == kid })
	if len(jwks) == len(old) {
		return false, nil
	}
	s.install(jwks)
	return true, nil
}

// maxKeySetKeys is the most keys a JWK Set may hold. Real sets hold a
// handful; the bound keeps a hostile set from costing seconds of CPU to
// parse and index on every download.
const maxKeySetKeys = 1000

// Errors of loading a JWK Set.
var (
	// ErrNoUsableKey means a key set was loaded but none of its keys can
	// verify a signature (see [ParseKeySet] for which keys are used).
	ErrNoUsableKey = errors.New("jwt: key set has no usable signing key")

	// ErrTooManyKeys means a key set holds more than 1000 keys. Such a set
	// is refused whole, before any of its keys is parsed.
	ErrTooManyKeys = errors.New("jwt: key set has more than 1000 keys")

	errNoKeysMember  = errors.New(`jwt: key set has no "keys" array`)
	errPrivateKey    = errors.New("jwt: key publishes private material")
	errNotForSigning = errors.New("jwt: key is not for signature verification")
)

// ParseKeySet parses a JSON Web Key Set (RFC 7517), such as the contents of
// a file or an environment variable, into a [MemoryKeySet] of its public
// signing keys: one call from bytes to a [Config.KeySet].
//
// A set of more than 1000 keys is refused ([ErrTooManyKeys]). Keys that
// cannot verify signatures are skipped, not fatal: keys whose use is not
// "sig" or whose key_ops lack "verify", symmetric (oct) keys, keys that
// publish private material, keys of an unsupported type or curve, RSA keys
// outside 2048–8192 bits, keys whose declared alg is unknown or does not
// fit their type, and malformed keys. It fails with [ErrNoUsableKey] when
// no key remains.
func ParseKeySet(data []byte) (*MemoryKeySet, error) {
	jwks, _, err := parseKeySet(data)
	if err != nil {
		return nil, err
	}
	s := &MemoryKeySet{}
	s.install(jwks)
	return s, nil
}

// parseKeySet parses a JWK Set document into its usable keys and the
// reasons malformed ones were skipped (keys ignored by policy are not).
func parseKeySet(body []byte) ([]jwkset.JWK, []error, error) {
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
	var jwks []jwkset.JWK
	var bad []error
	for i, raw := range doc.Keys {
		j, err := parseJWK(raw)
		if err != nil {
			if !errors.Is(err, errNotForSigning) {
				bad = append(bad, fmt.Errorf("jwt: key %d: %w", i, err))
			}
			continue
		}
		jwks = append(jwks, j)
	}
	if len(jwks) == 0 {
		return nil, bad, ErrNoUsableKey
	}
	return jwks, bad, nil
}

// parseJWK decodes one JWK with jwkset after the policy checks it lacks;
// keys ignored by policy fail with errNotForSigning.
func parseJWK(raw json.RawMessage) (jwk jwkset.JWK, err error) {
	var env struct {
		Kty    string          `json:"kty"`
		Use    string          `json:"use"`
		Alg    string          `json:"alg"`
		KeyOps []string        `json:"key_ops"`
		D      json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return jwk, fmt.Errorf("jwt: malformed JWK: %w", err)
	}
	switch a := lookupAlgorithm(env.Alg); {
	case env.Kty == "oct":
		return jwk, fmt.Errorf("%w: symmetric key", errNotForSigning)
	case env.Use != "" && env.Use != "sig":
		return jwk, fmt.Errorf("%w: use %q", errNotForSigning, env.Use)
	case env.KeyOps != nil && !slices.Contains(env.KeyOps, "verify"):
		return jwk, fmt.Errorf("%w: key_ops without verify", errNotForSigning)
	case env.D != nil:
		// A set that publishes a private key has given it away; nothing it
		// signs proves anything.
		return jwk, errPrivateKey
	case env.Alg != "" && (a == nil || a.kind == kindHMAC):
		return jwk, fmt.Errorf("%w: alg %q", errNotForSigning, env.Alg)
	}
	defer func() {
		// The decoder is third-party code fed with untrusted input; a panic
		// in it must not take the service down.
		if r := recover(); r != nil {
			err = fmt.Errorf("jwt: malformed JWK: decoder panicked: %v", r)
		}
	}()
	jwk, err = jwkset.NewJWKFromRawJSON(raw, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return jwk, fmt.Errorf("jwt: malformed JWK: %w", err)
	}
	if usableKey(jwk) == nil {
		if kind, _ := kindOf(jwk.Key()); kind == 0 {
			return jwk, fmt.Errorf("%w: key type %T", errNotForSigning, jwk.Key())
		}
		return jwk, fmt.Errorf("jwt: key does not fit its declared alg %q or is too weak", env.Alg)
	}
	return jwk, nil
}
