package auth

import (
	"context"
	"fmt"
	"reflect"

	"github.com/typedauth/auth/scopes"
)

// Claims is the default principal of token auths: the decoded claims of a
// token, registered and custom alike, keyed by name (claims["sub"]).
type Claims = map[string]any

// Scoper is implemented by principal types that carry their own scopes.
// [NewScoped] uses it when it is given no scope reader.
type Scoper interface {
	Scopes() scopes.Set
}

// ClaimsScopes returns the scopes granted by a claims map: the
// space-delimited "scope" claim (RFC 8693, RFC 9068) together with the "scp"
// claim, as a space-delimited string or an array of strings, as Okta and
// Azure AD issue it. Claims of any other JSON type grant nothing. It does not
// allocate unless both claims are present.
func ClaimsScopes(c Claims) scopes.Set {
	return setOf(c["scope"]).Union(setOf(c["scp"]))
}

func setOf(v any) scopes.Set {
	switch v := v.(type) {
	case string:
		return scopes.Parse(v)
	case []string:
		return scopes.Of(v...)
	case []any:
		return scopes.FromAny(v)
	}
	return scopes.Set{}
}

// principalKey is the context key of principals of type P: one distinct key
// type per principal type, never exported.
type principalKey[P any] struct{}

// NewContext returns a copy of ctx carrying the principal p. The Auth guards
// call it; tests use it to give a handler a principal without a credential.
func NewContext[P any](ctx context.Context, p P) context.Context {
	return context.WithValue(ctx, principalKey[P]{}, p)
}

// From returns the principal of type P that a guard stored in ctx. For an
// Auth built with [Then], the principal of every stage is available under
// its own type. Principals are keyed by type, so prefer domain types (User,
// MyClaims) to bare strings. Inside the handler of [Auth.Optional] serving a
// request without a credential, From reports false for the types of that
// Auth even when an outer guard stored one.
func From[P any](ctx context.Context) (P, bool) {
	v := ctx.Value(principalKey[P]{})
	if _, hidden := v.(noPrincipal); hidden {
		var zero P
		return zero, false
	}
	p, ok := v.(P)
	return p, ok
}

// MustFrom is like [From] but panics when ctx carries no principal of type
// P. Use it only in handlers that a guard always protects, where a missing
// principal is a wiring bug.
func MustFrom[P any](ctx context.Context) P {
	p, ok := From[P](ctx)
	if !ok {
		panic(fmt.Sprintf("auth: no principal of type %s in context; is the handler behind a Guard?", reflect.TypeFor[P]()))
	}
	return p
}
