package jwt

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/MicahParks/jwkset"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
)

// verifier checks tokens for one Config: a pre-built golang-jwt parser,
// keys from jwkset storages indexed by kid, and around them the policy the
// parser lacks (see precheck and keyFor).
type verifier struct {
	parser      *gojwt.Parser
	allowed     []*algorithm
	issuer      string
	audience    []string
	requireExp  bool
	requiredTyp string // lower case, without "application/"
	maxLen      int
	now         func() time.Time // the parser's clock, for the token cache
	leeway      time.Duration    // the parser's leeway, for the token cache

	local *MemoryKeySet // nil when Config has no local key
	set   KeySet
	own   interface{ index() *keyIndex } // set, when it is a *MemoryKeySet or *RemoteKeySet

	// header is the last header segment checkHeader accepted: an issuer
	// sends the same one in every token, which then skips the check.
	header atomic.Pointer[string]
}

func newVerifier(cfg *Config, allowed []*algorithm, local []*localKey) *verifier {
	v := &verifier{
		allowed:     allowed,
		issuer:      cfg.IssuerURL,
		audience:    append([]string(nil), cfg.Audience...),
		requireExp:  !cfg.AllowMissingExpiration,
		requiredTyp: strings.TrimPrefix(strings.ToLower(strings.TrimSpace(cfg.RequiredType)), "application/"),
		maxLen:      cmp.Or(cfg.MaxTokenLength, DefaultMaxTokenLength),
		set:         cfg.KeySet,
		now:         cfg.Now,
	}
	if len(local) > 0 {
		v.local = &MemoryKeySet{}
		jwks := make([]jwkset.JWK, len(local))
		for i, k := range local {
			jwks[i] = k.jwk
		}
		v.local.install(jwks)
	}
	// Only these answer lookups from their index alone: a type that
	// embeds one may add rules of its own, and is asked as any other set.
	switch s := v.set.(type) {
	case *MemoryKeySet:
		v.own = s
	case *RemoteKeySet:
		v.own = s
	}
	v.leeway = DefaultLeeway
	if cfg.Leeway != 0 {
		v.leeway = max(cfg.Leeway, 0) // negative means none
	}
	opts := []gojwt.ParserOption{
		gojwt.WithValidMethods(algNames(allowed)),
		gojwt.WithLeeway(v.leeway),
		gojwt.WithTimeFunc(v.now),
		gojwt.WithIssuedAt(),
		gojwt.WithStrictDecoding(),
		gojwt.WithIssuer(v.issuer),        // no check when ""
		gojwt.WithAudience(v.audience...), // none when empty
	}
	if v.requireExp {
		opts = append(opts, gojwt.WithExpirationRequired())
	}
	v.parser = gojwt.NewParser(opts...)
	return v
}

// parseRecording verifies raw into claims and, when rec is not nil, fills it
// with what the verification relied on (the key, the times) for cache.go.
// A *scannedClaims checks its payload as the parser decodes it; any other
// claims value has its payload checked by precheck first.
func (v *verifier) parseRecording(ctx context.Context, raw string, claims gojwt.Claims, rec *verified) error {
	sc, scanned := claims.(*scannedClaims)
	info, err := v.precheck(raw, !scanned)
	if err != nil {
		return err
	}
	if _, err := v.parser.ParseWithClaims(raw, claims, func(t *gojwt.Token) (any, error) {
		if scanned && !sc.done {
			// The payload was JSON null, which encoding/json decodes
			// without calling UnmarshalJSON: not an object.
			return nil, reject(ErrTokenMalformed, errJSON)
		}
		key, fromSet, err := v.keyFor(ctx, t)
		if rec != nil && err == nil {
			rec.keyed(t, key, fromSet)
		}
		return key, err
	}); err != nil {
		if scanned {
			info = sc.info
		}
		return v.fromParser(err, &info)
	}
	if rec != nil {
		rec.timed(claims)
	}
	return nil
}

// keyFor is the parser's Keyfunc: the local keys, then the key set, with
// the rules the parser lacks: a kid-less token needs exactly one key that
// fits its alg, a kid shared by several keys is resolved by alg, and every
// key must fit the alg (keyFits).
// It also reports whether the key came from the KeySet.
func (v *verifier) keyFor(ctx context.Context, t *gojwt.Token) (any, bool, error) {
	kid, _ := t.Header["kid"].(string)
	key, fromSet, err := v.lookup(ctx, kid, lookupAlgorithm(t.Method.Alg())) // in the allowlist: see precheck
	switch {
	case err == nil:
		return key, fromSet, nil
	case errors.Is(err, ErrKeyNotFound), errors.Is(err, jwkset.ErrKeyNotFound), errors.Is(err, auth.ErrUnauthorized):
		return nil, false, reject(ErrKeyNotFound, err)
	}
	return nil, false, &keyError{err: err} // the key source's own failure
}

// lookup returns the key for kid and a, from the local keys or else the
// key set, and whether it came from the key set; the token cache asks it
// again when a set has changed since a token was cached.
func (v *verifier) lookup(ctx context.Context, kid string, a *algorithm) (key any, fromSet bool, err error) {
	key, err = nil, errUnknownKID
	if v.local != nil {
		key, err = v.local.index().pick(kid, a)
	}
	if err != nil && err != errSeveralKeys && v.set != nil {
		key, err = foreignKey(v.set.VerificationKey(ctx, kid, a.name))
		fromSet = true
	}
	if err == nil && !keyFits(key, a) {
		err = errAlgMismatch
	}
	return key, fromSet, err
}

// foreignKey refuses a secret that a KeySet returned and that is
// recognisably a public key (this package's sets drop such keys as they
// enter them).
func foreignKey(key any, err error) (any, error) {
	if b, ok := key.([]byte); ok && err == nil && isPublicKeyMaterial(b) {
		return nil, errAlgMismatch
	}
	return key, err
}

// bufPool holds buffers for the decoded header and payload of precheck.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

var strictBase64 = base64.RawURLEncoding.Strict()

// precheck applies, before the parser runs, the policy it lacks: three
// non-empty segments without \r or \n (Go's base64 decoders skip both),
// strict base64url, the header rules of checkHeader and, when checkPayload
// is set, the payload rules of scanClaims.
func (v *verifier) precheck(raw string, checkPayload bool) (payloadInfo, error) {
	var info payloadInfo
	d1 := strings.IndexByte(raw, '.')
	d2 := d1 + 1 + strings.IndexByte(raw[d1+1:], '.')
	switch {
	case d1 <= 0 || d2 <= d1+1 || d2 == len(raw)-1 || strings.IndexByte(raw[d2+1:], '.') >= 0:
		return info, reject(ErrTokenMalformed, errSegments)
	case strings.IndexByte(raw, '\n') >= 0 || strings.IndexByte(raw, '\r') >= 0:
		return info, reject(ErrTokenMalformed, errAlphabet)
	}
	known := false // the header segment is the one last accepted
	if h := v.header.Load(); h != nil && *h == raw[:d1] {
		if known = true; !checkPayload {
			return info, nil
		}
	}
	end, hl, pl := d1, strictBase64.DecodedLen(d1), 0 // end: the segments to decode
	if checkPayload {
		end, pl = d2, strictBase64.DecodedLen(d2-d1-1)
	}
	need := end + hl + pl
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := slices.Grow((*bp)[:0], need)[:need]
	*bp = buf
	// The segments are copied into the buffer, then decoded after them:
	// base64 decodes from bytes, and converting the string would allocate.
	copy(buf, raw[:end])
	header, payload := buf[end:end+hl], buf[end+hl:end+hl+pl]
	hn, err1 := strictBase64.Decode(header, buf[:d1])
	pn, err2 := 0, error(nil)
	if checkPayload {
		pn, err2 = strictBase64.Decode(payload, buf[d1+1:d2])
	}
	if err1 != nil || err2 != nil {
		return info, reject(ErrTokenMalformed, errBase64)
	}
	if !known {
		if err := v.checkHeader(header[:hn]); err != nil {
			return info, err
		}
		seg := strings.Clone(raw[:d1])
		v.header.Store(&seg)
	}
	if !checkPayload {
		return info, nil
	}
	return scanClaims(payload[:pn], nil)
}

var (
	errSegments = errors.New("jwt: a compact JWS has three non-empty segments")
	errAlphabet = errors.New("jwt: line break inside a segment")
	errBase64   = errors.New("jwt: invalid base64url segment")
)

// checkHeader checks the header parameters that matter to the policy.
func (v *verifier) checkHeader(data []byte) error {
	var alg, typ []byte
	var seen uint8
	err := members(data, func(name, value []byte) error {
		var bit uint8
		switch string(name) {
		case "alg":
			bit = 1
		case "kid":
			bit = 2
		case "typ":
			bit = 4
		case "crit", "b64":
			// RFC 7515 §4.1.11: extensions we do not understand must
			// not be ignored; b64 (RFC 7797) changes what is signed.
			return reject(ErrTokenUnsupportedHeader, nil)
		default:
			return nil
		}
		s, ok := stringValue(value)
		switch {
		case seen&bit != 0:
			return reject(ErrTokenMalformed, errDuplicate)
		case !ok:
			return reject(ErrTokenMalformed, errHeaderType)
		case bit == 1:
			alg = s
		case bit == 4:
			typ = s
		}
		seen |= bit
		return nil
	})
	switch {
	case errors.Is(err, errJSON):
		return reject(ErrTokenMalformed, err)
	case err != nil:
		return err
	case seen&1 == 0:
		return reject(ErrTokenAlgorithm, errNoAlg)
	case !slices.ContainsFunc(v.allowed, func(a *algorithm) bool { return string(alg) == a.name }):
		return reject(ErrTokenAlgorithm, nil)
	case v.requiredTyp != "" && !typeMatches(typ, v.requiredTyp):
		return reject(ErrTokenType, nil)
	}
	return nil
}

var (
	errDuplicate  = errors.New("jwt: duplicate member")
	errHeaderType = errors.New("jwt: header parameter is not a string")
	errNoAlg      = errors.New("jwt: header has no alg")
)

// typeMatches compares a typ header with want (lower case, no prefix).
func typeMatches(typ []byte, want string) bool {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(string(typ[:len(prefix)]), prefix) {
		typ = typ[len(prefix):]
	}
	return strings.EqualFold(string(typ), want)
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

// trackedBit returns the seen-set bit of a tracked name, or 0.
func trackedBit(name []byte) uint16 {
	for i, n := range trackedNames[:] {
		if string(name) == n {
			return 1 << i
		}
	}
	return 0
}

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

// scanClaims checks that payload is a JSON object (valid UTF-8, nesting at
// most 64 deep) in which the registered claims, scope and scp appear at
// most once and under their exact names (encoding/json would take the last
// of two, or a case variant such as "EXP" or "ſub"), registered claims have
// their JSON types and NumericDates are finite under 2^53 s; their values
// are golang-jwt's to validate. When into is not nil, it also stores every
// member in it as encoding/json would, so the payload is scanned once.
func scanClaims(payload []byte, into map[string]any) (payloadInfo, error) {
	var info payloadInfo
	var typeErr error // the first value that does not fit its Go type
	err := members(payload, func(name, value []byte) error {
		if err := info.check(name, value); err != nil {
			return err
		}
		if into != nil {
			x, err := decodeValue(value)
			if err != nil {
				// Like encoding/json, go on: a policy violation later in
				// the payload is the reason to report.
				typeErr = cmp.Or(typeErr, err)
			}
			into[string(name)] = x
		}
		return nil
	})
	if errors.Is(err, errJSON) {
		return info, reject(ErrTokenMalformed, err)
	}
	return info, cmp.Or(err, typeErr)
}

// check checks one member of a payload (see scanClaims) and records it.
func (info *payloadInfo) check(name, value []byte) error {
	if len(name) < 3 || len(name) > maxFoldedNameLen {
		return nil
	}
	switch name[0] | 0x20 {
	case 'e', 'n', 'i', 'a', 's', 'j':
	default:
		if name[0] < 0x80 {
			return nil // cannot be, or fold to, a tracked name
		}
	}
	bit := trackedBit(name)
	if bit == 0 {
		// ASCII folds to ASCII of the same length; other names may
		// fold to a shorter one ("ſub" to "sub").
		ascii := !slices.ContainsFunc(name, func(c byte) bool { return c >= utf8.RuneSelf })
		for _, n := range trackedNames {
			if (!ascii || len(n) == len(name)) && strings.EqualFold(string(name), n) {
				// A case variant of a tracked claim ("EXP", or
				// "ſub" with U+017F): encoding/json, which folds
				// case, would read it as the claim.
				return reject(ErrTokenClaims, errClaimName)
			}
		}
		return nil
	}
	if info.seen&bit != 0 {
		return reject(ErrTokenClaims, errDuplicate)
	}
	info.seen |= bit
	good := true // scope, scp: any JSON type; their readers decide
	switch bit {
	case seenExp, seenNbf, seenIat:
		good = numericDate(value)
	case seenIss, seenSub, seenJti:
		_, good = stringValue(value)
	case seenAud:
		var list []string // only an array of strings decodes
		_, good = stringValue(value)
		good = good || json.Unmarshal(value, &list) == nil && value[0] == '['
	}
	switch {
	case good:
		return nil
	case !json.Valid(value):
		return reject(ErrTokenMalformed, errJSON) // not a type: not JSON
	}
	return reject(ErrTokenClaims, errClaimType)
}

// decodeValue decodes the JSON value v (valid, of valid UTF-8) as
// encoding/json decodes it into an any, scalars without encoding/json.
func decodeValue(v []byte) (any, error) {
	switch v[0] {
	case '"':
		s, ok := stringValue(v)
		if !ok {
			return nil, reject(ErrTokenMalformed, errJSON)
		}
		return string(s), nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case 'n':
		return nil, nil
	case '{', '[':
		var x any
		err := json.Unmarshal(v, &x)
		return x, err
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return nil, &json.UnmarshalTypeError{Value: "number " + string(v), Type: reflect.TypeFor[float64]()}
	}
	return f, nil
}

// scannedClaims is the claims value of [Auth]: the parser's encoding/json
// hands UnmarshalJSON the decoded payload, which scanClaims checks and
// decodes into the map in one pass.
type scannedClaims struct {
	gojwt.MapClaims
	info payloadInfo
	done bool // UnmarshalJSON ran: the payload was not JSON null
}

// UnmarshalJSON checks and decodes the payload data (see scanClaims).
func (c *scannedClaims) UnmarshalJSON(data []byte) error {
	c.done = true
	var err error
	c.info, err = scanClaims(data, c.MapClaims)
	return err
}

var (
	errClaimName = errors.New("jwt: claim name is a case variant of a registered claim")
	errClaimType = errors.New("jwt: registered claim has the wrong JSON type or range")
)

// numericDate reports whether v is a number usable as a NumericDate. It
// accepts some strconv forms JSON does not have (0x10, Inf): such a payload
// is not JSON, and the parser's encoding/json refuses it.
func numericDate(v []byte) bool {
	if plain := len(v) > 0 && len(v) <= 15 && v[0] != '0'; plain {
		for _, c := range v {
			plain = plain && '0' <= c && c <= '9'
		}
		if plain {
			return true // a plain integer of at most 15 digits: the usual form
		}
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return err == nil && math.Abs(f) < maxNumericDate
}
