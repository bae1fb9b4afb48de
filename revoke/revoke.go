// Package revoke rejects tokens revoked before they expire: a stolen token, a
// logout, a disabled account.
//
// A [Checker] says whether a token is revoked, by its ID (the jti claim) or
// because every token of its subject issued before some time was revoked.
// [Stage] turns a Checker into a stage for [auth.Then], so it applies to any
// token auth, after verification:
//
//	tokens := jwt.MustNew(cfg)
//	list := revoke.NewMemory()
//	api := auth.Then(tokens, revoke.Stage(list, revoke.FromClaims))
//
// Being a stage after verification, it runs on every request, including
// those whose token verification was cached. A revoked token is rejected
// with 401, error="invalid_token" and the detail [DetailRevoked]; a Checker
// that cannot answer (its store unreachable) gives 503, never an accept.
//
// To keep Requires, rebuild a scoped auth on top of the stage:
//
//	checked := auth.Scoped(auth.Then(tokens, revoke.Stage(list, revoke.FromClaims)), nil)
//	mux.Handle("GET /reports", checked.Requires("reports:read").Guard(reports))
//
// A nil scope reader reads the claims' scope and scp, as jwt.New does. Give
// the reader of the token auth when it reads others: auth0.Scopes for Auth0
// tokens (which add permissions), or the function given to
// jwt.NewTypedFunc.
//
// [Memory] keeps revocations in the process, for a single instance and for
// tests; the module github.com/typedauth/auth/stores/redis shares them
// between replicas.
package revoke

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"time"

	"github.com/typedauth/auth"
)

// Token is what a revocation check needs to know about a verified token.
type Token struct {
	// ID is the token's unique identifier, the jti claim; "" if it has none.
	ID string
	// Subject is the sub claim; "" if it has none.
	Subject string
	// IssuedAt is the iat claim; the zero time if it has none.
	IssuedAt time.Time
}

// Checker reports whether a token is revoked. Revoked returns an error when
// it cannot tell, such as when its store is unreachable; [Stage] answers such
// a request with 503 (or with the status of an [*auth.Error] it returns),
// never by accepting the token. A Checker must be safe for concurrent use.
//
// A token is revoked when its ID was revoked, or when its subject's tokens
// issued before some time T were revoked and the token was issued before T
// or says nothing of when it was issued.
type Checker interface {
	Revoked(ctx context.Context, t Token) (bool, error)
}

// Revoker records revocations. An entry is kept until the time given as
// expires, after which the tokens it concerns must no longer be accepted
// on their own. A verifier accepts a token until its exp plus the clock
// skew it tolerates (package jwt: the Leeway of its Config, 10 s by
// default), so give the token's exp plus that leeway for a token, and the
// issue time plus the longest token lifetime plus the leeway for a
// subject: an entry that lapses at exp lets the revoked token back in for
// the rest of the leeway.
type Revoker interface {
	// RevokeToken revokes the token whose jti is id.
	RevokeToken(ctx context.Context, id string, expires time.Time) error
	// RevokeSubject revokes every token of subject issued before before.
	// A later call with an earlier before does not shorten a revocation.
	RevokeSubject(ctx context.Context, subject string, before, expires time.Time) error
}

// Store is a [Checker] that also records revocations.
type Store interface {
	Checker
	Revoker
}

// DetailRevoked is the public detail of the 401 for a revoked token.
const DetailRevoked = "Token has been revoked"

// DetailUnidentified is the public detail of the 401 for a token that has
// neither a jti nor a subject, so that no revocation could ever apply to it.
const DetailUnidentified = "Token cannot be checked for revocation: it has neither jti nor sub"

// DetailUnavailable is the public detail of the 503 when a Checker fails.
const DetailUnavailable = "Token revocation cannot be checked right now"

// ErrRevoked is the cause of the rejection of a revoked token. It is an
// [auth.ErrInvalidCredential].
var ErrRevoked = fmt.Errorf("%w: token revoked", auth.ErrInvalidCredential)

// ErrUnidentified is the cause of the rejection of a token with neither jti
// nor sub. It is an [auth.ErrInvalidCredential].
var ErrUnidentified = fmt.Errorf("%w: token has neither jti nor sub", auth.ErrInvalidCredential)

var (
	errRevoked      = &auth.Error{Status: http.StatusUnauthorized, Detail: DetailRevoked, Code: auth.CodeInvalidToken, Err: ErrRevoked}
	errUnidentified = &auth.Error{Status: http.StatusUnauthorized, Detail: DetailUnidentified, Code: auth.CodeInvalidToken, Err: ErrUnidentified}
	errUnavailable  = auth.Unavailable(DetailUnavailable)
)

// Identified is implemented by typed claims that can say which token they
// are, for [Stage] without an accessor.
type Identified interface {
	RevocationToken() Token
}

// Stage returns a loader for [auth.Then] that passes the principal through
// unless c reports its token revoked. tokenOf reads the token's identity
// from the principal; when it is nil, Stage uses [FromClaims] if P is
// [auth.Claims] and the RevocationToken method if P implements [Identified],
// and panics otherwise. Stage also panics if c is nil.
//
// A token with neither an ID nor a subject is rejected (401,
// [DetailUnidentified]): nothing could revoke it, which a service that
// revokes tokens does not want to accept silently.
func Stage[P any](c Checker, tokenOf func(P) Token) func(ctx context.Context, p P) (P, error) {
	if c == nil || (reflect.ValueOf(c).Kind() == reflect.Pointer && reflect.ValueOf(c).IsNil()) {
		panic("revoke: Stage: nil Checker")
	}
	if tokenOf == nil {
		var zero P
		switch any(zero).(type) {
		case auth.Claims:
			tokenOf = func(p P) Token { return FromClaims(any(p).(auth.Claims)) }
		case Identified:
			tokenOf = func(p P) Token { return any(p).(Identified).RevocationToken() }
		default:
			panic(fmt.Sprintf("revoke: Stage: cannot read a token's identity from %s; give an accessor", reflect.TypeFor[P]()))
		}
	}
	return func(ctx context.Context, p P) (P, error) {
		var zero P
		t := tokenOf(p)
		if t.ID == "" && t.Subject == "" {
			return zero, errUnidentified
		}
		revoked, err := c.Revoked(ctx, t)
		if err != nil {
			var e *auth.Error
			if errors.As(err, &e) {
				return zero, err
			}
			return zero, errUnavailable.Wrap(err)
		}
		if revoked {
			return zero, errRevoked
		}
		return p, nil
	}
}

// FromClaims reads jti, sub and iat from verified claims. A claim of another
// type than the JWT registered claims' (a string, a number of seconds) is
// treated as absent.
func FromClaims(c auth.Claims) Token {
	var t Token
	t.ID, _ = c["jti"].(string)
	t.Subject, _ = c["sub"].(string)
	if iat, ok := seconds(c["iat"]); ok {
		t.IssuedAt = iat
	}
	return t
}

// seconds converts a NumericDate claim to a time, whatever numeric type the
// decoder chose.
func seconds(v any) (time.Time, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case int64:
		return time.Unix(n, 0), true
	case int:
		return time.Unix(int64(n), 0), true
	case interface{ Float64() (float64, error) }: // json.Number
		x, err := n.Float64()
		if err != nil {
			return time.Time{}, false
		}
		f = x
	default:
		return time.Time{}, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < -1e15 || f > 1e15 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}
