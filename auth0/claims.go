package auth0

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/auth0/go-jwt-middleware/v2/validator"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/scopes"
)

// CustomClaims returns a fresh [validator.CustomClaims] that captures every
// claim of a token, registered and custom, as one map. Pass it to
// [validator.WithCustomClaims] when building the validator given to [New],
// so that the principal holds the custom claims too; [NewTenant] does so
// itself:
//
//	validator.WithCustomClaims(auth0.CustomClaims)
//
// The payload is decoded once, by the validator, after the signature has
// been verified. Its Validate method rejects a payload that is not a JSON
// object with an error matching [jwt.ErrTokenClaims].
func CustomClaims() validator.CustomClaims { return new(claimSet) }

// claimSet is the CustomClaims of this package: the whole payload as a map.
type claimSet struct {
	m auth.Claims
}

var _ validator.CustomClaims = (*claimSet)(nil)

// UnmarshalJSON decodes the verified payload. go-jose has already checked it
// for syntax and duplicate names while decoding the registered claims.
func (c *claimSet) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%w: %w", jwt.ErrTokenClaims, err)
	}
	c.m = m
	return nil
}

var errNotObject = fmt.Errorf("%w: the payload is not a JSON object", jwt.ErrTokenClaims)

// Validate reports an error matching [jwt.ErrTokenClaims] when the payload was
// not a JSON object ("null", for instance).
func (c *claimSet) Validate(context.Context) error {
	if c.m == nil {
		return errNotObject
	}
	return nil
}

// claimsOf turns what a validator returned into the principal: the
// claims of a map as they are, or those of the SDK's
// [*validator.ValidatedClaims] flattened into one map. With the claims of
// [CustomClaims] that is the decoded payload itself; otherwise the
// registered claims are laid over the JSON form of the caller's custom
// claims (if any), with the types JSON decoding gives: strings, float64
// times and a []any audience. SDK claims without exp are rejected.
func claimsOf(res any) (auth.Claims, error) {
	switch r := res.(type) {
	case auth.Claims: // a map[string]any
		if r != nil {
			return r, nil
		}
	case *validator.ValidatedClaims:
		if r != nil {
			return flatten(r)
		}
	}
	return nil, fmt.Errorf("auth0: the validator returned %T, not claims", res) // 500: a broken validator
}

func flatten(vc *validator.ValidatedClaims) (auth.Claims, error) {
	if vc.RegisteredClaims.Expiry == 0 {
		return nil, rejectNoExpiration.Wrap(errNoExp)
	}
	if cs, ok := vc.CustomClaims.(*claimSet); ok {
		if cs.m == nil {
			return nil, rejectClaims.Wrap(errNotObject)
		}
		return cs.m, nil
	}
	var m auth.Claims
	if vc.CustomClaims != nil {
		b, err := json.Marshal(vc.CustomClaims)
		if err != nil {
			return nil, fmt.Errorf("auth0: encoding custom claims %T: %w", vc.CustomClaims, err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("auth0: custom claims %T are not a JSON object: %w", vc.CustomClaims, err)
		}
	}
	if m == nil {
		m = make(auth.Claims, 8)
	}
	rc := vc.RegisteredClaims
	str := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	num := func(k string, v int64) {
		if v != 0 {
			m[k] = float64(v)
		}
	}
	str("iss", rc.Issuer)
	str("sub", rc.Subject)
	str("jti", rc.ID)
	num("exp", rc.Expiry)
	num("nbf", rc.NotBefore)
	num("iat", rc.IssuedAt)
	if len(rc.Audience) > 0 {
		aud := make([]any, len(rc.Audience))
		for i, a := range rc.Audience {
			aud[i] = a
		}
		m["aud"] = aud
	}
	return m, nil
}

// errNoExp is the cause of the rejection of a token without exp: RFC 9068
// requires one in access tokens, and Auth0 always sets it; the SDK would
// accept a token without one forever.
var errNoExp = errors.New("auth0: the token has no exp claim")

// Scopes returns the scopes an Auth0 access token grants: those of its
// space-delimited "scope" claim together with those of its "permissions"
// array, which Auth0 adds when RBAC is enabled for the API with "Add
// Permissions in the Access Token". "scope" may also be an array of
// strings. Each element of "permissions" is one permission, never split; a
// "permissions" string is read as a single permission too, so a string
// holding a space (which no permission name has) grants nothing rather than
// several permissions. Other JSON types, and non-string elements, grant
// nothing. "scp" is not read. It does not allocate unless both claims are
// arrays.
func Scopes(c auth.Claims) scopes.Set {
	return setOf(c["scope"]).Union(permissionsOf(c["permissions"]))
}

// permissionsOf reads the permissions claim, whose string form holds one
// permission.
func permissionsOf(v any) scopes.Set {
	if s, ok := v.(string); ok {
		if strings.IndexByte(s, ' ') >= 0 {
			return scopes.Set{}
		}
		return scopes.Parse(s)
	}
	return setOf(v)
}

func setOf(v any) scopes.Set {
	switch v := v.(type) {
	case string:
		return scopes.Parse(v)
	case []any:
		return scopes.FromAny(v)
	case []string:
		return scopes.Of(v...)
	}
	return scopes.Set{}
}
