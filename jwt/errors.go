package jwt

import (
	"errors"

	"github.com/typedauth/auth"
)

// Causes of rejected tokens. Every token rejected by [Auth.Verify] yields an
// [*auth.Error] with status 401 and error code invalid_token whose chain
// matches [auth.ErrInvalidCredential] and one of these, so callers can
// branch with errors.Is:
//
//	if errors.Is(err, jwt.ErrTokenExpired) { … }
//
// The public detail (error_description) names the reason and never echoes
// the token.
var (
	ErrTokenMalformed         = errors.New("jwt: token is malformed")
	ErrTokenTooLong           = errors.New("jwt: token is too long")
	ErrTokenAlgorithm         = errors.New("jwt: token algorithm is not allowed")
	ErrTokenUnsupportedHeader = errors.New("jwt: token has an unsupported header parameter")
	ErrTokenSignatureInvalid  = errors.New("jwt: token signature is invalid")
	ErrTokenExpired           = errors.New("jwt: token has expired")
	ErrTokenNoExpiration      = errors.New("jwt: token has no exp claim")
	ErrTokenNotValidYet       = errors.New("jwt: token is not valid yet")
	ErrTokenIssuedInFuture    = errors.New("jwt: token was issued in the future")
	ErrTokenIssuer            = errors.New("jwt: token issuer is not accepted")
	ErrTokenAudience          = errors.New("jwt: token audience is not accepted")
	ErrTokenType              = errors.New("jwt: token type is not accepted")
	ErrTokenClaims            = errors.New("jwt: token claims are invalid")
)

// Public details, paired with the causes above.
var (
	rejectMalformed    = auth.Unauthorized("Token is malformed").Wrap(ErrTokenMalformed)
	rejectTooLong      = auth.Unauthorized("Token is too long").Wrap(ErrTokenTooLong)
	rejectAlgorithm    = auth.Unauthorized("Token algorithm is not allowed").Wrap(ErrTokenAlgorithm)
	rejectHeader       = auth.Unauthorized("Token uses an unsupported header parameter").Wrap(ErrTokenUnsupportedHeader)
	rejectSignature    = auth.Unauthorized("Token signature is invalid").Wrap(ErrTokenSignatureInvalid)
	rejectUnknownKey   = auth.Unauthorized("Token signing key is unknown").Wrap(ErrKeyNotFound)
	rejectExpired      = auth.Unauthorized("Token has expired").Wrap(ErrTokenExpired)
	rejectNoExpiration = auth.Unauthorized("Token has no expiration").Wrap(ErrTokenNoExpiration)
	rejectNotYetValid  = auth.Unauthorized("Token is not valid yet").Wrap(ErrTokenNotValidYet)
	rejectFutureIat    = auth.Unauthorized("Token was issued in the future").Wrap(ErrTokenIssuedInFuture)
	rejectIssuer       = auth.Unauthorized("Token issuer is not accepted").Wrap(ErrTokenIssuer)
	rejectAudience     = auth.Unauthorized("Token audience is not accepted").Wrap(ErrTokenAudience)
	rejectType         = auth.Unauthorized("Token type is not accepted").Wrap(ErrTokenType)
	rejectClaims       = auth.Unauthorized("Token claims are malformed").Wrap(ErrTokenClaims)
	unavailableKeys    = auth.Unavailable("Token signing keys are not available yet")
)

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
