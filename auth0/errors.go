package auth0

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/auth0/go-jwt-middleware/v2/validator"
	jose "gopkg.in/go-jose/go-jose.v2"
	josejson "gopkg.in/go-jose/go-jose.v2/json"
	josejwt "gopkg.in/go-jose/go-jose.v2/jwt"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// ErrInvalidToken is the cause of a rejection that the validator reported
// with an error this package does not recognise (neither one of package
// jwt's causes nor a sentinel or type of the SDK that maps to one). The
// response is a 401 "Token is invalid"; the validator's error stays in the
// chain, for the error writer.
var ErrInvalidToken = errors.New("auth0: token rejected by the validator")

// Rejections, as package jwt words them.
var (
	rejectMalformed    = jwt.Rejection(jwt.ErrTokenMalformed)
	rejectClaims       = jwt.Rejection(jwt.ErrTokenClaims)
	rejectNoExpiration = jwt.Rejection(jwt.ErrTokenNoExpiration)
	rejectAlgorithm    = jwt.Rejection(jwt.ErrTokenAlgorithm)
	rejectHeader       = jwt.Rejection(jwt.ErrTokenUnsupportedHeader)
	rejectUnknownKey   = jwt.Rejection(jwt.ErrKeyNotFound)
	rejectInvalid      = auth.Unauthorized("Token is invalid").Wrap(ErrInvalidToken)
)

// causes maps what a validator reports to package jwt's rejection: jwt's
// own causes, which a fake validator may return, and the sentinels of the
// SDK and go-jose for the same facts.
var causes = []struct {
	reject *auth.Error
	match  []error
}{
	{jwt.Rejection(jwt.ErrTokenExpired), []error{jwt.ErrTokenExpired, josejwt.ErrExpired}},
	{jwt.Rejection(jwt.ErrTokenNotValidYet), []error{jwt.ErrTokenNotValidYet, josejwt.ErrNotValidYet}},
	{jwt.Rejection(jwt.ErrTokenIssuedInFuture), []error{jwt.ErrTokenIssuedInFuture, josejwt.ErrIssuedInTheFuture}},
	{jwt.Rejection(jwt.ErrTokenIssuer), []error{jwt.ErrTokenIssuer, josejwt.ErrInvalidIssuer}},
	{jwt.Rejection(jwt.ErrTokenAudience), []error{jwt.ErrTokenAudience, josejwt.ErrInvalidAudience}},
	{jwt.Rejection(jwt.ErrTokenSignatureInvalid), []error{jwt.ErrTokenSignatureInvalid, jose.ErrCryptoFailure}},
	// go-jose reports a kid that no key of a JWK Set has as a key of the
	// wrong type: it falls back to the whole set, which it cannot use.
	{rejectUnknownKey, []error{jwt.ErrKeyNotFound, jose.ErrUnsupportedKeyType}},
	{rejectMalformed, []error{jwt.ErrTokenMalformed, validator.ErrExcessiveTokenDots}},
	{rejectClaims, []error{jwt.ErrTokenClaims, josejwt.ErrUnmarshalAudience, josejwt.ErrUnmarshalNumericDate, josejwt.ErrInvalidClaims}},
	{rejectNoExpiration, []error{jwt.ErrTokenNoExpiration}},
	{rejectAlgorithm, []error{jwt.ErrTokenAlgorithm}},
	{rejectHeader, []error{jwt.ErrTokenUnsupportedHeader}},
	{jwt.Rejection(jwt.ErrTokenTooLong), []error{jwt.ErrTokenTooLong}},
	{jwt.Rejection(jwt.ErrTokenType), []error{jwt.ErrTokenType}},
}

// classify turns a validator's error into the error the client sees, by
// sentinels and types only:
//   - an [*auth.Error] of the validator's, or an error matching
//     [auth.ErrUnavailable] (a key set that never loaded, [KeyFunc]'s
//     mark), is kept as it is;
//   - network and context errors, which only fetching keys produces, are
//     key server failures (503);
//   - the causes above, and JSON and base64 errors of decoding the token,
//     get package jwt's rejection;
//   - anything else is a 401 "Token is invalid" ([ErrInvalidToken]).
func classify(err error) error {
	var (
		ae      *auth.Error
		urlErr  *url.Error
		netErr  net.Error
		syntax  *josejson.SyntaxError
		b64     base64.CorruptInputError
		typeErr *json.UnmarshalTypeError
		joseTyp *josejson.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &ae), errors.Is(err, auth.ErrUnavailable):
		return err
	case errors.As(err, &urlErr), errors.As(err, &netErr),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &keyFetchError{err: err}
	}
	for _, c := range causes {
		for _, m := range c.match {
			if errors.Is(err, m) {
				return c.reject.Wrap(err)
			}
		}
	}
	switch {
	case errors.As(err, &syntax), errors.As(err, &b64):
		return rejectMalformed.Wrap(err)
	case errors.As(err, &typeErr), errors.As(err, &joseTyp):
		return rejectClaims.Wrap(err) // a claim of the wrong JSON type
	}
	return rejectInvalid.Wrap(err)
}

// KeyFunc wraps the key func of the SDK's jwks.Provider or jwks.CachingProvider
// (or any key func) so that every error it returns matches
// [jwt.ErrKeySetUnavailable] and [auth.ErrUnavailable]: the request is
// answered with 503, not 401, whatever the cause of the failure. Give the
// result to [validator.New] when building a validator for [New]. Without
// it, only network and context errors are recognised as the key server's;
// a key server that answers garbage then makes tokens look invalid (401).
// KeyFunc panics if f is nil.
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

// keyFetchError marks a failure to obtain the keys.
type keyFetchError struct{ err error }

func (e *keyFetchError) Error() string { return "auth0: fetching signing keys: " + e.err.Error() }

func (e *keyFetchError) Unwrap() []error { return []error{jwt.ErrKeySetUnavailable, e.err} }

// header is what NewTenant's key func needs of a token's JOSE header.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
}

// headerKey is the context key under which NewTenant hands the header to
// its key func: the SDK calls key funcs with the request's context only.
type headerKey struct{}

var errNotCompact = errors.New("auth0: not a compact JWS of three base64url parts")

// decodeHeader reads the header of raw, a compact JWS, for NewTenant, and
// applies the rules of package jwt that the SDK lacks: no crit or b64
// parameter. The tenant signs with RS256 and always names the kid. The kid
// only chooses among the tenant's keys, and go-jose checks alg again, so
// encoding/json's leniency with the case of names costs nothing here.
func decodeHeader(raw string) (*header, error) {
	seg := raw[:strings.IndexByte(raw, '.')]
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return nil, rejectMalformed.Wrap(err)
	}
	h := new(header)
	if err := json.Unmarshal(b, h); err != nil {
		return nil, rejectMalformed.Wrap(err)
	}
	switch {
	case h.Crit != nil || h.B64 != nil:
		return nil, rejectHeader.Wrap(errCritical)
	case h.Alg != string(validator.RS256):
		return nil, rejectAlgorithm.Wrap(errNotRS256)
	case h.Kid == "":
		return nil, rejectUnknownKey.Wrap(errNoKid)
	}
	return h, nil
}

var (
	errCritical = errors.New("auth0: crit and b64 header parameters are not supported")
	errNotRS256 = errors.New("auth0: the tenant signs with RS256")
	errNoKid    = errors.New("auth0: the token names no kid")
)

// tenantKey is the key func of NewTenant's validator: the tenant's key for
// the kid of the token being validated, with the lookup rules of
// [jwt.RemoteKeySet].
func tenantKey(keys *jwt.RemoteKeySet) func(context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		h, _ := ctx.Value(headerKey{}).(*header)
		if h == nil {
			return nil, errNoHeader
		}
		return keys.VerificationKey(ctx, h.Kid, h.Alg)
	}
}

var errNoHeader = errors.New("auth0: key func called without the token's header")

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
