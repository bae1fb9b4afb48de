package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
)

// verifier checks tokens for one Config: a pre-built golang-jwt parser,
// keys from keyfunc over jwkset storages, and around them the policy the
// parser lacks (see precheck and keyFor).
type verifier struct {
	parser      *gojwt.Parser
	allowed     []*algorithm
	issuer      string
	audience    []string
	requireExp  bool
	requiredTyp string // lower case, without "application/"
	maxLen      int

	local   *MemoryKeySet // nil when Config has no local key
	localKF keyfunc.Keyfunc
	set     KeySet
	own     interface{ index() *keyIndex } // set, when it is one of ours
	setKF   keyfunc.Keyfunc                // keyfunc over set, when ours
}

func newVerifier(cfg *Config, allowed []*algorithm, local []*localKey) *verifier {
	v := &verifier{
		allowed:     allowed,
		issuer:      cfg.IssuerURL,
		audience:    append([]string(nil), cfg.Audience...),
		requireExp:  !cfg.AllowMissingExpiration,
		requiredTyp: normalizeType(cfg.RequiredType),
		maxLen:      cfg.MaxTokenLength,
		set:         cfg.KeySet,
	}
	if v.maxLen == 0 {
		v.maxLen = DefaultMaxTokenLength
	}
	if len(local) > 0 {
		v.local = &MemoryKeySet{}
		jwks := make([]jwkset.JWK, len(local))
		for i, k := range local {
			jwks[i] = k.jwk
		}
		v.local.install(jwks)
		v.localKF = mustKeyfunc(v.local)
	}
	if own, ok := v.set.(interface {
		jwkset.Storage
		index() *keyIndex
	}); ok {
		v.own, v.setKF = own, mustKeyfunc(own)
	}
	leeway := DefaultLeeway
	switch {
	case cfg.Leeway < 0:
		leeway = 0
	case cfg.Leeway > 0:
		leeway = cfg.Leeway
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	opts := []gojwt.ParserOption{
		gojwt.WithValidMethods(algNames(allowed)),
		gojwt.WithLeeway(leeway),
		gojwt.WithTimeFunc(now),
		gojwt.WithIssuedAt(),
		gojwt.WithStrictDecoding(),
	}
	if v.requireExp {
		opts = append(opts, gojwt.WithExpirationRequired())
	}
	if v.issuer != "" {
		opts = append(opts, gojwt.WithIssuer(v.issuer))
	}
	if len(v.audience) > 0 {
		opts = append(opts, gojwt.WithAudience(v.audience...))
	}
	v.parser = gojwt.NewParser(opts...)
	return v
}

// parse verifies raw, decoding its payload into claims.
func (v *verifier) parse(ctx context.Context, raw string, claims gojwt.Claims) error {
	info, err := v.precheck(raw)
	if err != nil {
		return err
	}
	if _, err := v.parser.ParseWithClaims(raw, claims, func(t *gojwt.Token) (any, error) {
		return v.keyFor(ctx, t)
	}); err != nil {
		return v.fromParser(err, &info)
	}
	return nil
}

// keyFor is the Keyfunc given to the parser. Tokens with a kid get their key
// from keyfunc's Keyfunc over the local keys, then over the key set; the
// rules keyfunc lacks are added here: a token without kid is verified only
// when exactly one key fits its alg (keyfunc would offer every key), a kid
// shared by keys of several types is resolved by alg, and whatever key a
// source returns must fit the alg (see keyFits).
func (v *verifier) keyFor(ctx context.Context, t *gojwt.Token) (any, error) {
	a := lookupAlgorithm(t.Method.Alg()) // in the allowlist: see precheck
	kid, _ := t.Header["kid"].(string)
	var key any
	var err error
	if kid == "" {
		key, err = v.soleKey(ctx, a)
	} else {
		key, err = v.kidKey(ctx, t, kid, a)
	}
	if err == nil && !keyFits(key, a) {
		err = errAlgMismatch
	}
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, ErrKeyNotFound), errors.Is(err, jwkset.ErrKeyNotFound), errors.Is(err, auth.ErrUnauthorized):
		return nil, reject(rejectUnknownKey, err)
	}
	return nil, &keyError{err: err} // the key source's own failure
}

func (v *verifier) soleKey(ctx context.Context, a *algorithm) (any, error) {
	n := 0
	if v.local != nil {
		var key any
		if key, n = v.local.index().sole(a); n == 1 {
			return key, nil
		}
	}
	if n == 0 && v.set != nil {
		return v.set.VerificationKey(ctx, "", a.name)
	}
	return nil, errNoSoleKey
}

func (v *verifier) kidKey(ctx context.Context, t *gojwt.Token, kid string, a *algorithm) (any, error) {
	if v.local != nil {
		if key, err := ownKey(ctx, t, v.localKF, v.local, kid, a); err == nil {
			return key, nil
		}
	}
	switch {
	case v.own != nil:
		return ownKey(ctx, t, v.setKF, v.own, kid, a)
	case v.set != nil:
		return v.set.VerificationKey(ctx, kid, a.name)
	}
	return nil, errUnknownKID
}

// ownKey looks kid up with keyfunc's Keyfunc over one of this package's
// sets, falling back to the set's index when keyfunc's key does not fit
// (a kid shared by keys of several types).
func ownKey(ctx context.Context, t *gojwt.Token, kf keyfunc.Keyfunc, s interface{ index() *keyIndex }, kid string, a *algorithm) (any, error) {
	key, err := kf.KeyfuncCtx(ctx)(t)
	if errors.Is(err, auth.ErrUnavailable) {
		return nil, err
	}
	x := s.index()
	if err == nil && keyFits(key, a) && len(x.byKID[kid]) == 1 {
		return key, nil
	}
	return x.find(kid, a)
}

// bufPool holds buffers for the decoded header and payload of precheck.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// precheck applies the policy golang-jwt's parser lacks, before it runs:
//   - a compact JWS of three non-empty segments in the base64url alphabet
//     only (Go's base64 decoders skip \r and \n, which the parser would
//     therefore accept inside a segment), whose header and payload are
//     canonical (strict) base64url;
//   - a header with no crit or b64 parameter (RFC 7515 §4.1.11, RFC 7797),
//     alg, kid and typ at most once and as strings, alg in the allowlist,
//     and typ as Config.RequiredType says;
//   - a payload that is a JSON object (nesting at most 64 deep, valid
//     UTF-8) in which the registered claims, scope and scp appear at most
//     once, under their exact names (encoding/json would take the last of
//     two, or a case variant such as "EXP" or "ſub" for a struct field),
//     registered claims have their JSON types, and NumericDates are finite
//     numbers under 2^53 seconds.
func (v *verifier) precheck(raw string) (payloadInfo, error) {
	var info payloadInfo
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
				return info, reject(rejectMalformed, errSegments)
			}
			continue
		}
		if base64urlDec[c] == 0xFF {
			return info, reject(rejectMalformed, errAlphabet)
		}
	}
	if d2 < 0 || d1 == 0 || d2 == d1+1 || d2 == len(raw)-1 {
		return info, reject(rejectMalformed, errSegments)
	}
	hs, ps := raw[:d1], raw[d1+1:d2]
	hl, pl := decodedLen(len(hs)), decodedLen(len(ps))
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	if cap(*bp) < hl+pl {
		*bp = make([]byte, hl+pl)
	}
	buf := (*bp)[:hl+pl]
	header, payload := buf[:hl], buf[hl:]
	if !decodeSegment(header, hs) || !decodeSegment(payload, ps) {
		return info, reject(rejectMalformed, errBase64)
	}
	h, err := parseHeader(header)
	if err != nil {
		return info, err
	}
	allowed := false
	for _, a := range v.allowed {
		allowed = allowed || string(h.alg) == a.name
	}
	if !allowed {
		return info, reject(rejectAlgorithm, nil)
	}
	if v.requiredTyp != "" && !typeMatches(h.typ, v.requiredTyp) {
		return info, reject(rejectType, nil)
	}
	return checkClaims(payload)
}

var (
	errSegments = errors.New("jwt: a compact JWS has three non-empty segments")
	errAlphabet = errors.New("jwt: character outside the base64url alphabet")
	errBase64   = errors.New("jwt: invalid base64url segment")
)

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

// maxNumericDate bounds NumericDates: beyond 2^53 seconds a float64 no
// longer holds whole seconds, and golang-jwt's conversion to time.Time
// overflows.
const maxNumericDate = 1 << 53

// payloadInfo records which tracked claims a payload holds.
type payloadInfo struct{ seen uint16 }

// checkClaims checks the names and JSON types of the registered claims of
// payload (see precheck). Their values are golang-jwt's to validate.
func checkClaims(payload []byte) (payloadInfo, error) {
	var info payloadInfo
	r := newObjectReader(payload)
	for {
		name, escaped, value, ok := r.next()
		if !ok {
			break
		}
		if escaped {
			if name, ok = unescapeName(name); !ok {
				return info, reject(rejectMalformed, errJSON)
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
					return info, reject(rejectClaims, errClaimName)
				}
			}
			continue
		}
		if info.seen&bit != 0 {
			return info, reject(rejectClaims, errDuplicate)
		}
		info.seen |= bit
		var good bool
		switch bit {
		case seenExp, seenNbf, seenIat:
			good = numericDate(value)
		case seenIss, seenSub, seenJti:
			_, good = stringValue(value)
		case seenAud:
			good = audienceValue(value)
		default: // scope, scp: any JSON type; their readers decide
			good = true
		}
		if !good {
			return info, reject(rejectClaims, errClaimType)
		}
	}
	if r.err != nil {
		return info, reject(rejectMalformed, r.err)
	}
	return info, nil
}

var (
	errClaimName = errors.New("jwt: claim name is a case variant of a registered claim")
	errClaimType = errors.New("jwt: registered claim has the wrong JSON type or range")
)

// numericDate reports whether v is a JSON number usable as a NumericDate.
func numericDate(v []byte) bool {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return err == nil && math.Abs(f) < maxNumericDate
}

// audienceValue reports whether v is a string or an array of strings.
func audienceValue(v []byte) bool {
	if _, ok := stringValue(v); ok {
		return true
	}
	ar := newArrayReader(v)
	for {
		el, ok := ar.next()
		if !ok {
			break
		}
		if _, ok := stringValue(el); !ok {
			return false
		}
	}
	return ar.err == nil
}

// isTypeError reports whether err, from the parser, is a claim of the wrong
// JSON type for the claims value (the syntax was checked by precheck).
func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}
