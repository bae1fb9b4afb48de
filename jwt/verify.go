package jwt

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/typedauth/auth"
)

// keyring is the set of verification keys in use. FetchJWKS swaps it.
type keyring struct {
	local *localKeys
	set   KeySet
}

// engine verifies and issues tokens for one Config. It is immutable after
// construction except for keys, which is replaced atomically.
type engine struct {
	allowed     []*algorithm
	issuer      string
	audience    []string
	leeway      float64 // seconds
	now         func() time.Time
	requireExp  bool
	awaitJWKS   bool   // no KeySet until FetchJWKS installs one
	requiredTyp string // lower case, without "application/"
	maxLen      int

	keys  atomic.Pointer[keyring]
	local *localKeys

	signer     *keyEntry
	signAlg    *algorithm
	signErr    error
	expiration time.Duration
	tokenType  string

	jwks     JWKSet
	jwksBody []byte
	client   *http.Client
}

// base64url decoding table: 0xFF marks bytes outside the alphabet.
var base64urlDec = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodedLen is the length of the bytes encoded by n base64url characters
// without padding.
func decodedLen(n int) int { return n * 3 / 4 }

// decodeSegment decodes the unpadded base64url segment s into dst, which
// must hold decodedLen(len(s)) bytes. It is strict: characters must be in
// the alphabet (the caller has checked), a length of 4k+1 is invalid, and
// the unused low bits of the last character must be zero, so every byte
// string has exactly one encoding.
func decodeSegment(dst []byte, s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	j := 0
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a, b, c, d := base64urlDec[s[i]], base64urlDec[s[i+1]], base64urlDec[s[i+2]], base64urlDec[s[i+3]]
		dst[j] = a<<2 | b>>4
		dst[j+1] = b<<4 | c>>2
		dst[j+2] = c<<6 | d
		j += 3
	}
	switch len(s) - i {
	case 2:
		a, b := base64urlDec[s[i]], base64urlDec[s[i+1]]
		if b&0x0F != 0 {
			return false
		}
		dst[j] = a<<2 | b>>4
	case 3:
		a, b, c := base64urlDec[s[i]], base64urlDec[s[i+1]], base64urlDec[s[i+2]]
		if c&0x03 != 0 {
			return false
		}
		dst[j] = a<<2 | b>>4
		dst[j+1] = b<<4 | c>>2
	}
	return true
}

// check verifies raw and returns its decoded payload, a JSON object whose
// registered claims have been validated.
func (e *engine) check(ctx context.Context, raw string) ([]byte, error) {
	if len(raw) > e.maxLen {
		return nil, reject(rejectTooLong, nil)
	}
	// Strict compact serialisation: only the base64url alphabet and exactly
	// two dots. Go's base64 decoders skip \r and \n, so this is checked
	// here rather than left to them.
	d1, d2 := -1, -1
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '.' {
			switch {
			case d1 < 0:
				d1 = i
			case d2 < 0:
				d2 = i
			default:
				return nil, reject(rejectMalformed, errSegments)
			}
			continue
		}
		if base64urlDec[c] == 0xFF {
			return nil, reject(rejectMalformed, errAlphabet)
		}
	}
	if d2 < 0 || d1 == 0 || d2 == d1+1 || d2 == len(raw)-1 {
		return nil, reject(rejectMalformed, errSegments)
	}
	hs, ps, ss := raw[:d1], raw[d1+1:d2], raw[d2+1:]
	hl, pl, sl := decodedLen(len(hs)), decodedLen(len(ps)), decodedLen(len(ss))
	// One allocation holds the decoded segments and, for HMAC, a copy of
	// the signing input and room for the MAC.
	buf := make([]byte, hl+pl+sl, hl+pl+sl+d2+maxMACSize)
	header, payload, sig := buf[:hl], buf[hl:hl+pl], buf[hl+pl:]
	if !decodeSegment(header, hs) || !decodeSegment(payload, ps) || !decodeSegment(sig, ss) {
		return nil, reject(rejectMalformed, errBase64)
	}

	h, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	var alg *algorithm
	for _, a := range e.allowed {
		if string(h.alg) == a.name {
			alg = a
			break
		}
	}
	if alg == nil {
		return nil, reject(rejectAlgorithm, nil)
	}
	if e.requiredTyp != "" && !typeMatches(h.typ, e.requiredTyp) {
		return nil, reject(rejectType, nil)
	}

	kr := e.keys.Load()
	if ent := kr.local.lookup(h.kid, alg); ent != nil && ent.macs != nil && ent.macAlg == alg {
		// Local HMAC key: a pooled MAC, no allocation.
		if !ent.verifyMAC(append(buf[len(buf):], raw[:d2]...), sig) {
			return nil, reject(rejectSignature, nil)
		}
	} else {
		var key any
		if ent != nil {
			key = ent.verify
		} else if key, err = e.remoteKey(ctx, kr, h.kid, alg); err != nil {
			return nil, err
		}
		if err := alg.method.Verify(raw[:d2], sig, key); err != nil {
			return nil, reject(rejectSignature, err)
		}
	}
	if err := e.checkClaims(payload); err != nil {
		return nil, err
	}
	return payload, nil
}

var (
	errSegments = errors.New("jwt: a compact JWS has three non-empty segments")
	errAlphabet = errors.New("jwt: character outside the base64url alphabet")
	errBase64   = errors.New("jwt: invalid base64url segment")
	errKeyType  = errors.New("jwt: key set returned a key that does not fit the algorithm")
)

// remoteKey finds the verification key for a token that no local key
// verifies.
func (e *engine) remoteKey(ctx context.Context, kr *keyring, kid []byte, alg *algorithm) (any, error) {
	if kr.set == nil {
		if kr.local == nil || e.awaitJWKS {
			return nil, reject(unavailableKeys, nil)
		}
		return nil, reject(rejectUnknownKey, nil)
	}
	k, err := kr.set.VerificationKey(ctx, string(kid), alg.name)
	if err != nil {
		switch {
		case errors.Is(err, auth.ErrUnavailable):
			return nil, err
		case errors.Is(err, ErrKeyNotFound), errors.Is(err, auth.ErrUnauthorized):
			return nil, reject(rejectUnknownKey, err)
		}
		return nil, err
	}
	if !checkKeyFor(k, alg) {
		return nil, reject(rejectUnknownKey, errKeyType)
	}
	return k, nil
}

// header holds the parameters of a JOSE header that matter; the slices point
// into the decoded header.
type header struct {
	alg, kid, typ []byte
}

func parseHeader(data []byte) (header, error) {
	var h header
	var seen uint8
	r := newObjectReader(data)
	for {
		name, escaped, value, ok := r.next()
		if !ok {
			break
		}
		if escaped {
			if name, ok = unescapeName(name); !ok {
				return h, reject(rejectMalformed, errJSON)
			}
		}
		var dst *[]byte
		var bit uint8
		switch string(name) {
		case "alg":
			dst, bit = &h.alg, 1
		case "kid":
			dst, bit = &h.kid, 2
		case "typ":
			dst, bit = &h.typ, 4
		case "crit", "b64":
			// RFC 7515 §4.1.11: extensions we do not understand must
			// not be ignored; b64 (RFC 7797) changes what is signed.
			return h, reject(rejectHeader, nil)
		default:
			continue
		}
		if seen&bit != 0 {
			return h, reject(rejectMalformed, errDuplicate)
		}
		seen |= bit
		s, ok := stringValue(value)
		if !ok {
			return h, reject(rejectMalformed, errHeaderType)
		}
		*dst = s
	}
	if r.err != nil {
		return h, reject(rejectMalformed, r.err)
	}
	if seen&1 == 0 {
		return h, reject(rejectAlgorithm, errNoAlg)
	}
	return h, nil
}

var (
	errDuplicate  = errors.New("jwt: duplicate member")
	errHeaderType = errors.New("jwt: header parameter is not a string")
	errNoAlg      = errors.New("jwt: header has no alg")
)

// unescapeName decodes a member name that holds JSON escapes.
func unescapeName(name []byte) ([]byte, bool) {
	q := make([]byte, 0, len(name)+2)
	q = append(append(append(q, '"'), name...), '"')
	return stringValue(q)
}

// typeMatches compares a typ header with want (lower case, no prefix).
func typeMatches(typ []byte, want string) bool {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(string(typ[:len(prefix)]), prefix) {
		typ = typ[len(prefix):]
	}
	return strings.EqualFold(string(typ), want)
}

// normalizeType prepares Config.RequiredType for typeMatches.
func normalizeType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	return strings.TrimPrefix(t, "application/")
}

// Registered claims and the scope claims, as bits of a seen-set.
const (
	seenExp = 1 << iota
	seenNbf
	seenIat
	seenIss
	seenAud
	seenSub
	seenJti
	seenScope
	seenScp
)

// trackedNames are the claims whose names must be exact and unique: the
// registered claims and the two claims that grant scopes.
var trackedNames = [...]string{"exp", "nbf", "iat", "iss", "aud", "sub", "jti", "scope", "scp"}

// maxFoldedNameLen is the longest name, in bytes, that can fold to a
// tracked name: simple case folding maps rune to rune, and a rune takes
// at most 3 bytes here ("K", U+212A, folds to "k").
const maxFoldedNameLen = 3 * len("scope")

// checkClaims validates the registered claims of payload: exact names,
// JSON types, no duplicates, and the time, issuer and audience rules. The
// scope and scp claims get the same name rules (exact, unique), not type
// rules.
func (e *engine) checkClaims(payload []byte) error {
	var exp, nbf, iat float64
	var seen uint16
	audOK := false
	r := newObjectReader(payload)
	for {
		name, escaped, value, ok := r.next()
		if !ok {
			break
		}
		if escaped {
			if name, ok = unescapeName(name); !ok {
				return reject(rejectMalformed, errJSON)
			}
		}
		if len(name) < 3 || len(name) > maxFoldedNameLen {
			continue
		}
		var bit uint16
		for i, n := range trackedNames {
			if string(name) == n {
				bit = 1 << i
				break
			}
		}
		if bit == 0 {
			for _, n := range trackedNames {
				if strings.EqualFold(string(name), n) {
					// A case variant of a tracked claim ("EXP", or
					// "ſub" with U+017F): encoding/json, which folds
					// case, would read it as the claim.
					return reject(rejectClaims, errClaimName)
				}
			}
			continue
		}
		if seen&bit != 0 {
			return reject(rejectClaims, errDuplicate)
		}
		seen |= bit
		switch bit {
		case seenExp, seenNbf, seenIat:
			v, ok := parseNumber(value)
			if !ok {
				return reject(rejectClaims, errClaimType)
			}
			switch bit {
			case seenExp:
				exp = v
			case seenNbf:
				nbf = v
			default:
				iat = v
			}
		case seenIss:
			s, ok := stringValue(value)
			if !ok {
				return reject(rejectClaims, errClaimType)
			}
			if e.issuer != "" && string(s) != e.issuer {
				return reject(rejectIssuer, nil)
			}
		case seenSub, seenJti:
			if _, ok := stringValue(value); !ok {
				return reject(rejectClaims, errClaimType)
			}
		case seenAud:
			var err error
			if audOK, err = e.checkAudience(value); err != nil {
				return err
			}
		}
		// seenScope, seenScp: any JSON type; their readers decide.
	}
	if r.err != nil {
		return reject(rejectMalformed, r.err)
	}

	now := e.now()
	t := float64(now.Unix()) + float64(now.Nanosecond())/1e9
	switch {
	case seen&seenExp == 0 && e.requireExp:
		return reject(rejectNoExpiration, nil)
	case seen&seenExp != 0 && t-e.leeway >= exp:
		return reject(rejectExpired, nil)
	case seen&seenNbf != 0 && t+e.leeway < nbf:
		return reject(rejectNotYetValid, nil)
	case seen&seenIat != 0 && t+e.leeway < iat:
		return reject(rejectFutureIat, nil)
	case e.issuer != "" && seen&seenIss == 0:
		return reject(rejectIssuer, errMissing)
	case len(e.audience) > 0 && !audOK:
		return reject(rejectAudience, nil)
	}
	return nil
}

var (
	errClaimName = errors.New("jwt: claim name is a case variant of a registered claim")
	errClaimType = errors.New("jwt: registered claim has the wrong JSON type")
	errMissing   = errors.New("jwt: required claim is missing")
)

// checkAudience validates the type of an aud value and reports whether it
// names an accepted audience.
func (e *engine) checkAudience(value []byte) (bool, error) {
	if len(value) > 0 && value[0] == '"' {
		s, ok := stringValue(value)
		if !ok {
			return false, reject(rejectClaims, errClaimType)
		}
		return e.audienceAccepted(s), nil
	}
	ar := newArrayReader(value)
	match := false
	for {
		el, ok := ar.next()
		if !ok {
			break
		}
		s, ok := stringValue(el)
		if !ok {
			return false, reject(rejectClaims, errClaimType)
		}
		match = match || e.audienceAccepted(s)
	}
	if ar.err != nil {
		return false, reject(rejectClaims, errClaimType)
	}
	return match, nil
}

func (e *engine) audienceAccepted(s []byte) bool {
	for _, a := range e.audience {
		if string(s) == a {
			return true
		}
	}
	return false
}

// parseNumber parses a JSON number (already validated by the reader). Plain
// integers, the usual form of NumericDate, take a fast path.
func parseNumber(v []byte) (float64, bool) {
	if len(v) == 0 || (v[0] != '-' && !isDigit(v[0])) {
		return 0, false
	}
	if len(v) <= 15 {
		var n int64
		plain := true
		for _, c := range v {
			if !isDigit(c) {
				plain = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if plain {
			return float64(n), true
		}
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// decodeClaims decodes a verified payload into a claims map with the types
// encoding/json would give (string, float64, bool, nil, []any,
// map[string]any). The payload has been validated by checkClaims, so this
// is a single pass without reflection.
func decodeClaims(payload []byte) (auth.Claims, error) {
	payload = payload[skipSpace(payload, 0):]
	if len(payload) == 0 {
		return nil, reject(rejectClaims, errJSON)
	}
	v, ok := decodeValue(payload)
	m, isMap := v.(map[string]any)
	if !ok || !isMap {
		return nil, reject(rejectClaims, errJSON)
	}
	return m, nil
}

// decodeValue decodes one JSON value whose syntax has been validated.
func decodeValue(v []byte) (any, bool) {
	switch v[0] {
	case '"':
		s, ok := stringValue(v)
		return string(s), ok
	case '{':
		m := make(map[string]any)
		r := newObjectReader(v)
		for {
			name, escaped, value, ok := r.next()
			if !ok {
				break
			}
			if escaped {
				if name, ok = unescapeName(name); !ok {
					return nil, false
				}
			}
			x, ok := decodeValue(value)
			if !ok {
				return nil, false
			}
			m[string(name)] = x
		}
		return m, r.err == nil
	case '[':
		list := make([]any, 0, 4)
		r := newArrayReader(v)
		for {
			el, ok := r.next()
			if !ok {
				break
			}
			x, ok := decodeValue(el)
			if !ok {
				return nil, false
			}
			list = append(list, x)
		}
		return list, r.err == nil
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return nil, true
	}
	return parseNumber(v)
}
