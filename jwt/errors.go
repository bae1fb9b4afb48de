package jwt

import (
	"encoding/json"
	"errors"

	"github.com/MicahParks/jwkset"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
)

// sentinel is an error value that also matches the errors in is, so that one
// cause can be tested against this package's name for it, golang-jwt's and
// the auth package's category alike.
type sentinel struct {
	msg string
	is  []error
}

func (e *sentinel) Error() string   { return e.msg }
func (e *sentinel) Unwrap() []error { return e.is }

func newSentinel(msg string, is ...error) error {
	return &sentinel{msg: msg, is: append(is, auth.ErrInvalidCredential)}
}

// Causes of rejected tokens. Every token rejected by [Auth.Verify] yields an
// [*auth.Error] with status 401 and error code invalid_token whose chain
// matches [auth.ErrInvalidCredential] and one of these. Each of them also
// matches golang-jwt's error for the same cause where there is one
// (ErrTokenExpired matches gojwt.ErrTokenExpired, ErrKeyNotFound matches
// jwkset.ErrKeyNotFound), so callers can branch with errors.Is on either:
//
//	if errors.Is(err, jwt.ErrTokenExpired) { … }
//
// Other verifiers built on this package, such as a remote key set's users,
// return the same values. The public detail (error_description) names the
// reason and never echoes the token.
var (
	ErrTokenMalformed         = newSentinel("jwt: token is malformed", gojwt.ErrTokenMalformed)
	ErrTokenTooLong           = newSentinel("jwt: token is too long", gojwt.ErrTokenMalformed)
	ErrTokenAlgorithm         = newSentinel("jwt: token algorithm is not allowed", gojwt.ErrTokenSignatureInvalid)
	ErrTokenUnsupportedHeader = newSentinel("jwt: token has an unsupported header parameter")
	ErrTokenSignatureInvalid  = newSentinel("jwt: token signature is invalid", gojwt.ErrTokenSignatureInvalid)
	ErrTokenExpired           = newSentinel("jwt: token has expired", gojwt.ErrTokenExpired)
	ErrTokenNoExpiration      = newSentinel("jwt: token has no exp claim", gojwt.ErrTokenRequiredClaimMissing)
	ErrTokenNotValidYet       = newSentinel("jwt: token is not valid yet", gojwt.ErrTokenNotValidYet)
	ErrTokenIssuedInFuture    = newSentinel("jwt: token was issued in the future", gojwt.ErrTokenUsedBeforeIssued)
	ErrTokenIssuer            = newSentinel("jwt: token issuer is not accepted", gojwt.ErrTokenInvalidIssuer)
	ErrTokenAudience          = newSentinel("jwt: token audience is not accepted", gojwt.ErrTokenInvalidAudience)
	ErrTokenType              = newSentinel("jwt: token type is not accepted")
	ErrTokenClaims            = newSentinel("jwt: token claims are invalid", gojwt.ErrTokenInvalidClaims)

	// ErrKeyNotFound means no key of the set fits a token's kid and alg. A
	// [KeySet] returns it (or an error wrapping it) for such tokens; they
	// get 401.
	ErrKeyNotFound = newSentinel("jwt: no key for the token", gojwt.ErrTokenUnverifiable, jwkset.ErrKeyNotFound)
)

// Public details, paired with the causes above.
var (
	rejectMalformed    = rejectWith("Token is malformed", ErrTokenMalformed)
	rejectTooLong      = rejectWith("Token is too long", ErrTokenTooLong)
	rejectAlgorithm    = rejectWith("Token algorithm is not allowed", ErrTokenAlgorithm)
	rejectHeader       = rejectWith("Token uses an unsupported header parameter", ErrTokenUnsupportedHeader)
	rejectSignature    = rejectWith("Token signature is invalid", ErrTokenSignatureInvalid)
	rejectUnknownKey   = rejectWith("Token signing key is unknown", ErrKeyNotFound)
	rejectExpired      = rejectWith("Token has expired", ErrTokenExpired)
	rejectNoExpiration = rejectWith("Token has no expiration", ErrTokenNoExpiration)
	rejectNotYetValid  = rejectWith("Token is not valid yet", ErrTokenNotValidYet)
	rejectFutureIat    = rejectWith("Token was issued in the future", ErrTokenIssuedInFuture)
	rejectIssuer       = rejectWith("Token issuer is not accepted", ErrTokenIssuer)
	rejectAudience     = rejectWith("Token audience is not accepted", ErrTokenAudience)
	rejectType         = rejectWith("Token type is not accepted", ErrTokenType)
	rejectClaims       = rejectWith("Token claims are malformed", ErrTokenClaims)
)

// rejections pairs each cause with its pre-built rejection, for Rejection:
// a slice, since hashing an error of a non-comparable type would panic.
var rejections []rejection

type rejection struct {
	reason error
	reject *auth.Error
}

func rejectWith(detail string, reason error) *auth.Error {
	e := auth.Unauthorized(detail).Wrap(reason)
	rejections = append(rejections, rejection{reason, e})
	return e
}

// reject returns a copy of e, a pre-built rejection, with cause added to
// its chain when cause is not nil. The pre-built values are shared and never
// returned themselves, so callers may modify what they get.
func reject(e *auth.Error, cause error) error {
	if cause == nil {
		c := *e
		return &c
	}
	return e.Wrap(cause)
}

// fromParser turns an error of golang-jwt's parser into this package's
// rejection. A key lookup's own error (an *auth.Error such as a 503, or a
// KeySet's failure) is returned as is; p records which registered claims
// the token holds, to tell which required one is missing.
func (v *verifier) fromParser(err error, p *payloadInfo) error {
	var ae *auth.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, gojwt.ErrTokenUnverifiable):
		// The key lookup failed with an error of its own: a server
		// failure, not the token's.
		var ke *keyError
		if errors.As(err, &ke) {
			return ke.err
		}
		return reject(rejectMalformed, err)
	case errors.As(err, new(*json.UnmarshalTypeError)): // a claim of the wrong type for the claims value
		return reject(rejectClaims, err)
	case errors.Is(err, gojwt.ErrTokenMalformed):
		return reject(rejectMalformed, err)
	case errors.Is(err, gojwt.ErrTokenSignatureInvalid):
		return reject(rejectSignature, nil)
	case errors.Is(err, gojwt.ErrTokenRequiredClaimMissing) && v.requireExp && p.seen&seenExp == 0:
		return reject(rejectNoExpiration, nil)
	case errors.Is(err, gojwt.ErrTokenExpired):
		return reject(rejectExpired, nil)
	case errors.Is(err, gojwt.ErrTokenNotValidYet):
		return reject(rejectNotYetValid, nil)
	case errors.Is(err, gojwt.ErrTokenUsedBeforeIssued):
		return reject(rejectFutureIat, nil)
	case errors.Is(err, gojwt.ErrTokenInvalidIssuer),
		errors.Is(err, gojwt.ErrTokenRequiredClaimMissing) && v.issuer != "" && p.seen&seenIss == 0:
		return reject(rejectIssuer, nil)
	case errors.Is(err, gojwt.ErrTokenInvalidAudience),
		errors.Is(err, gojwt.ErrTokenRequiredClaimMissing) && len(v.audience) > 0 && p.seen&seenAud == 0:
		return reject(rejectAudience, nil)
	}
	return reject(rejectClaims, err)
}

// keyError carries a key lookup's failure that is not the token's fault
// (such as a KeySet's database error) through the parser unchanged.
type keyError struct{ err error }

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// Rejection returns the error that [Auth.Verify] returns for a token
// rejected for reason, one of the causes above (ErrTokenExpired,
// ErrKeyNotFound, …): status 401, error code invalid_token, the same public
// detail, and reason in its chain. Verifiers built on other JWT libraries
// (such as package auth0) use it to reject tokens in this package's words,
// adding their own error with [auth.Error.Wrap]. The result is a copy
// that the caller may change. It returns nil when reason is not one of the
// causes.
func Rejection(reason error) *auth.Error {
	for _, r := range rejections {
		if r.reason == reason {
			c := *r.reject
			return &c
		}
	}
	return nil
}
