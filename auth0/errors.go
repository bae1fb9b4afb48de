package auth0

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/auth0/go-jwt-middleware/v2/validator"
	jose "gopkg.in/go-jose/go-jose.v2"
	"gopkg.in/go-jose/go-jose.v2/jwt"

	"github.com/typedauth/auth"
)

// Reasons a token is rejected. Every error an Auth of this package reports
// for a bad token is an [*auth.Error] with status 401 whose chain holds one
// of these, the category [auth.ErrInvalidCredential] and the error of the
// SDK, so that all three work with [errors.Is]:
//
//	errors.Is(err, auth0.ErrTokenExpired)      // this package's reason
//	errors.Is(err, auth.ErrInvalidCredential)  // the category
//	errors.Is(err, jwt.ErrExpired)             // go-jose's own sentinel
var (
	// ErrTokenExpired: the exp claim is in the past.
	ErrTokenExpired = errors.New("auth0: token expired")
	// ErrNoExpiry: the token has no exp claim. RFC 9068 requires one in
	// access tokens, and Auth0 always sets it; the SDK would accept a token
	// without one forever.
	ErrNoExpiry = errors.New("auth0: token has no expiry")
	// ErrTokenNotValidYet: the nbf or iat claim is in the future.
	ErrTokenNotValidYet = errors.New("auth0: token not valid yet")
	// ErrInvalidSignature: the signature does not verify with the key of
	// the token's kid.
	ErrInvalidSignature = errors.New("auth0: invalid token signature")
	// ErrInvalidAudience: the aud claim does not name the API.
	ErrInvalidAudience = errors.New("auth0: token audience not accepted")
	// ErrInvalidIssuer: the iss claim is not the tenant.
	ErrInvalidIssuer = errors.New("auth0: token issuer not accepted")
	// ErrMalformedToken: the credential is not a compact JWS.
	ErrMalformedToken = errors.New("auth0: malformed token")
	// ErrUnknownKey: no key of the tenant's JWKS has the token's kid (for
	// [NewTenant], an RSA key under [MinRSABits] counts as absent).
	ErrUnknownKey = errors.New("auth0: unknown token signing key")
	// ErrInvalidAlgorithm: the token's alg is not the one the validator
	// accepts.
	ErrInvalidAlgorithm = errors.New("auth0: token signing algorithm not accepted")
	// ErrInvalidClaims: the signed payload is not a JSON object of
	// well-typed claims.
	ErrInvalidClaims = errors.New("auth0: invalid token claims")
	// ErrInvalidToken is the reason of a rejection that the validator
	// reported without a more precise cause.
	ErrInvalidToken = errors.New("auth0: invalid token")

	// ErrKeysUnavailable: the tenant's signing keys could not be fetched
	// (connection refused, timeout, an HTTP error status, a body that is not
	// a JWKS, or for [NewTenant] a JWKS without a usable key, which stays
	// cached until [WithCacheTTL]). The request is answered with 503, never
	// 401. It is an [auth.ErrUnavailable].
	ErrKeysUnavailable error = &keysUnavailable{}
)

type keysUnavailable struct{}

func (*keysUnavailable) Error() string { return "auth0: signing keys unavailable" }

// Is makes ErrKeysUnavailable an [auth.ErrUnavailable].
func (*keysUnavailable) Is(target error) bool { return target == auth.ErrUnavailable }

// Public texts, written as the problem detail and the error_description of
// the Bearer challenge. None of them includes anything from the token.
const (
	DetailExpired         = "Token has expired"
	DetailNoExpiry        = "Token has no expiration time"
	DetailNotValidYet     = "Token is not valid yet"
	DetailIssuedInFuture  = "Token was issued in the future"
	DetailSignature       = "Token signature is invalid"
	DetailAudience        = "Token audience is not accepted"
	DetailIssuer          = "Token issuer is not accepted"
	DetailMalformed       = "Token is malformed"
	DetailUnknownKey      = "Token signing key is not known"
	DetailAlgorithm       = "Token signing algorithm is not accepted"
	DetailClaims          = "Token claims are invalid"
	DetailInvalid         = "Token is invalid"
	DetailKeysUnavailable = "Token signing keys cannot be fetched right now"
)

// reason is the cause attached to a rejection: this package's reason and the
// SDK's error, both visible to errors.Is and errors.As.
type reason struct {
	kind, err error
}

func (r *reason) Error() string {
	if r.err == nil {
		return r.kind.Error()
	}
	return r.kind.Error() + ": " + r.err.Error()
}

func (r *reason) Unwrap() []error {
	if r.err == nil {
		return []error{r.kind}
	}
	return []error{r.kind, r.err}
}

// rejection is a template: a public detail and the reason it stands for.
type rejection struct {
	base *auth.Error
	kind error
}

func unauthorized(detail string, kind error) rejection {
	return rejection{base: auth.Unauthorized(detail), kind: kind}
}

func (r rejection) with(cause error) error {
	return r.base.Wrap(&reason{kind: r.kind, err: cause})
}

var (
	rejectExpired     = unauthorized(DetailExpired, ErrTokenExpired)
	rejectNoExpiry    = unauthorized(DetailNoExpiry, ErrNoExpiry)
	rejectNotYet      = unauthorized(DetailNotValidYet, ErrTokenNotValidYet)
	rejectFuture      = unauthorized(DetailIssuedInFuture, ErrTokenNotValidYet)
	rejectSignature   = unauthorized(DetailSignature, ErrInvalidSignature)
	rejectAudience    = unauthorized(DetailAudience, ErrInvalidAudience)
	rejectIssuer      = unauthorized(DetailIssuer, ErrInvalidIssuer)
	rejectMalformed   = unauthorized(DetailMalformed, ErrMalformedToken)
	rejectUnknownKey  = unauthorized(DetailUnknownKey, ErrUnknownKey)
	rejectAlgorithm   = unauthorized(DetailAlgorithm, ErrInvalidAlgorithm)
	rejectClaims      = unauthorized(DetailClaims, ErrInvalidClaims)
	rejectInvalid     = unauthorized(DetailInvalid, ErrInvalidToken)
	rejectUnavailable = rejection{base: auth.Unavailable(DetailKeysUnavailable), kind: ErrKeysUnavailable}

	// errNotCompact is the fixed rejection of a credential that fails the
	// syntax check made before the SDK sees it.
	errNotCompact = rejectMalformed.with(errors.New("auth0: not a compact JWS of three base64url parts"))
)

// classify maps an error of [validator.Validator.ValidateToken] for raw to
// the rejection a client sees. alg is the algorithm the validator accepts,
// or "" when it is not known.
//
// The SDK wraps its causes with %w, so the go-jose sentinels are found with
// errors.Is. Failures to get the keys are recognised by [ErrKeysUnavailable]
// (added by [KeyFunc]) or, for key funcs that do not use it, by the network
// and context errors that a JWKS fetch produces and a token never does, and
// by JSON errors that the SDK reports as its key func's.
// Anything else is checked against the token itself: a credential go-jose
// cannot parse is malformed, one whose alg differs from alg has the wrong
// algorithm, and the rest is invalid. No branch yields a 5xx for a token.
func classify(err error, raw, alg string) error {
	switch {
	case errors.Is(err, auth.ErrUnavailable): // KeyFunc's mark, or a key func of the caller's
		return rejectUnavailable.with(err)
	case errors.Is(err, ErrInvalidClaims):
		return rejectClaims.with(err)
	case errors.Is(err, jwt.ErrExpired):
		return rejectExpired.with(err)
	case errors.Is(err, jwt.ErrNotValidYet):
		return rejectNotYet.with(err)
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return rejectFuture.with(err)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return rejectAudience.with(err)
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return rejectIssuer.with(err)
	case errors.Is(err, jose.ErrCryptoFailure):
		return rejectSignature.with(err)
	case errors.Is(err, jose.ErrUnsupportedKeyType):
		// go-jose falls back to verifying with the whole key set, which it
		// cannot, when no key of the set has the token's kid.
		return rejectUnknownKey.with(err)
	case errors.Is(err, validator.ErrExcessiveTokenDots):
		return rejectMalformed.with(err)
	case errors.Is(err, jwt.ErrUnmarshalAudience), errors.Is(err, jwt.ErrUnmarshalNumericDate),
		errors.Is(err, jwt.ErrInvalidClaims):
		return rejectClaims.with(err)
	case isFetchFailure(err):
		return rejectUnavailable.with(err)
	}
	tok, perr := jwt.ParseSigned(raw)
	if perr != nil {
		return rejectMalformed.with(err)
	}
	if alg != "" && (len(tok.Headers) != 1 || tok.Headers[0].Algorithm != alg) {
		return rejectAlgorithm.with(err)
	}
	return rejectInvalid.with(err)
}

// isFetchFailure reports whether err is one that fetching a JWKS produces:
// a failed HTTP round trip, a network error, a cancelled or timed-out
// context, or a body that is not JSON. Parsing a token produces none of
// the first three: go-jose decodes tokens with its own JSON package, and
// this package marks its own claim decoding errors with ErrInvalidClaims.
// JSON errors, though, also come from custom claim types that decode with
// encoding/json, so they count only when the SDK reports them as the key
// func's.
func isFetchFailure(err error) bool {
	var (
		urlErr    *url.Error
		netErr    net.Error
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	if errors.As(err, &urlErr) || errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	return (errors.As(err, &syntaxErr) || errors.As(err, &typeErr)) &&
		strings.Contains(err.Error(), sdkKeyFuncFailure)
}

// sdkKeyFuncFailure is how the SDK's validator introduces an error of its
// key func (TestNewKeyServerDown fails if a new SDK says it otherwise).
const sdkKeyFuncFailure = "error getting the keys from the key func"

// KeyFunc wraps the key func of a [jwks.Provider] or [jwks.CachingProvider]
// (or any key func) so that every error it returns matches
// [ErrKeysUnavailable] and [auth.ErrUnavailable]: the request is answered
// with 503, not 401, whatever the cause of the failure. Give the result to
// [validator.New] when building a validator for [New]; [NewTenant] does so
// itself. KeyFunc panics if f is nil.
//
//	v, err := validator.New(auth0.KeyFunc(provider.KeyFunc), validator.RS256, issuer, audience,
//		validator.WithCustomClaims(auth0.CustomClaims))
func KeyFunc(f func(context.Context) (any, error)) func(context.Context) (any, error) {
	if f == nil {
		panic("auth0: KeyFunc: nil key func")
	}
	return func(ctx context.Context) (any, error) {
		k, err := f(ctx)
		if err != nil {
			return nil, &keyFetchError{err: err}
		}
		return k, nil
	}
}

// keyFetchError marks a failure of the key func.
type keyFetchError struct{ err error }

func (e *keyFetchError) Error() string { return "auth0: fetching signing keys: " + e.err.Error() }

func (e *keyFetchError) Unwrap() []error { return []error{ErrKeysUnavailable, e.err} }

// compact reports whether raw has the syntax of a compact JWS: three
// non-empty parts of base64url characters separated by dots. It is checked
// before the SDK sees the token, so that JSON serializations, JWEs and text
// with spaces or quotes are rejected early and precisely.
func compact(raw string) bool {
	dots := 0
	last := -1
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '.':
			if i == last+1 {
				return false // empty part
			}
			dots++
			last = i
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return dots == 2 && last < len(raw)-1
}
