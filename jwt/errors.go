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
// the auth package's category alike. It holds its pre-built rejection.
type sentinel struct {
	msg    string
	is     []error
	reject *auth.Error // a 401 with the public detail, wrapping the sentinel
}

func (e *sentinel) Error() string   { return e.msg }
func (e *sentinel) Unwrap() []error { return e.is }

func newSentinel(msg, detail string, is ...error) error {
	e := &sentinel{msg: msg, is: append(is, auth.ErrInvalidCredential)}
	e.reject = auth.Unauthorized(detail).Wrap(e)
	return e
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
	ErrTokenMalformed         = newSentinel("jwt: token is malformed", "Token is malformed", gojwt.ErrTokenMalformed)
	ErrTokenTooLong           = newSentinel("jwt: token is too long", "Token is too long", gojwt.ErrTokenMalformed)
	ErrTokenAlgorithm         = newSentinel("jwt: token algorithm is not allowed", "Token algorithm is not allowed", gojwt.ErrTokenSignatureInvalid)
	ErrTokenUnsupportedHeader = newSentinel("jwt: token has an unsupported header parameter", "Token uses an unsupported header parameter")
	ErrTokenSignatureInvalid  = newSentinel("jwt: token signature is invalid", "Token signature is invalid", gojwt.ErrTokenSignatureInvalid)
	ErrTokenExpired           = newSentinel("jwt: token has expired", "Token has expired", gojwt.ErrTokenExpired)
	ErrTokenNoExpiration      = newSentinel("jwt: token has no exp claim", "Token has no expiration", gojwt.ErrTokenRequiredClaimMissing)
	ErrTokenNotValidYet       = newSentinel("jwt: token is not valid yet", "Token is not valid yet", gojwt.ErrTokenNotValidYet)
	ErrTokenIssuedInFuture    = newSentinel("jwt: token was issued in the future", "Token was issued in the future", gojwt.ErrTokenUsedBeforeIssued)
	ErrTokenIssuer            = newSentinel("jwt: token issuer is not accepted", "Token issuer is not accepted", gojwt.ErrTokenInvalidIssuer)
	ErrTokenAudience          = newSentinel("jwt: token audience is not accepted", "Token audience is not accepted", gojwt.ErrTokenInvalidAudience)
	ErrTokenType              = newSentinel("jwt: token type is not accepted", "Token type is not accepted")
	ErrTokenClaims            = newSentinel("jwt: token claims are invalid", "Token claims are malformed", gojwt.ErrTokenInvalidClaims)

	// ErrKeyNotFound means no key of the set fits a token's kid and alg. A
	// [KeySet] returns it (or an error wrapping it) for such tokens; they
	// get 401.
	ErrKeyNotFound = newSentinel("jwt: no key for the token", "Token signing key is unknown", gojwt.ErrTokenUnverifiable, jwkset.ErrKeyNotFound)
)

// reject returns the rejection of reason, one of the causes above, with
// cause added to its chain when cause is not nil. The pre-built values are
// shared and never returned themselves, so callers may modify what they get.
func reject(reason, cause error) error {
	e := reason.(*sentinel).reject
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
	var ke *keyError // the key lookup's own failure: the server's, not the token's
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ke):
		return ke.err
	case errors.As(err, new(*json.UnmarshalTypeError)): // a claim of the wrong type for the claims value
		return reject(ErrTokenClaims, err)
	case errors.Is(err, gojwt.ErrTokenUnverifiable), errors.Is(err, gojwt.ErrTokenMalformed):
		return reject(ErrTokenMalformed, err)
	case errors.Is(err, gojwt.ErrTokenSignatureInvalid):
		return reject(ErrTokenSignatureInvalid, nil)
	case errors.Is(err, gojwt.ErrTokenRequiredClaimMissing) && v.requireExp && p.seen&seenExp == 0:
		return reject(ErrTokenNoExpiration, nil)
	case errors.Is(err, gojwt.ErrTokenExpired):
		return reject(ErrTokenExpired, nil)
	case errors.Is(err, gojwt.ErrTokenNotValidYet):
		return reject(ErrTokenNotValidYet, nil)
	case errors.Is(err, gojwt.ErrTokenUsedBeforeIssued):
		return reject(ErrTokenIssuedInFuture, nil)
	case errors.Is(err, gojwt.ErrTokenInvalidIssuer),
		errors.Is(err, gojwt.ErrTokenRequiredClaimMissing) && v.issuer != "" && p.seen&seenIss == 0:
		return reject(ErrTokenIssuer, nil)
	case errors.Is(err, gojwt.ErrTokenInvalidAudience),
		errors.Is(err, gojwt.ErrTokenRequiredClaimMissing) && len(v.audience) > 0 && p.seen&seenAud == 0:
		return reject(ErrTokenAudience, nil)
	}
	return reject(ErrTokenClaims, err)
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
	if s, ok := reason.(*sentinel); ok {
		c := *s.reject
		return &c
	}
	return nil
}
