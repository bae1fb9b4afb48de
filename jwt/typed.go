package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

// RegisteredClaims are the registered claims of RFC 7519 with the OAuth 2.0
// scope claim. Embed it in a claims struct given to [NewTyped]: its fields
// are decoded from the token, and its Scopes method makes the struct an
// [auth.Scoper], so Requires works.
//
//	type MyClaims struct {
//		jwt.RegisteredClaims
//		Email string `json:"email" validate:"required,email"`
//	}
//
// The values have been checked by verification when the struct reaches a
// handler; they are here for reading.
type RegisteredClaims struct {
	Issuer    string             `json:"iss,omitempty"`
	Subject   string             `json:"sub,omitempty"`
	Audience  gojwt.ClaimStrings `json:"aud,omitempty"`
	ExpiresAt *gojwt.NumericDate `json:"exp,omitempty"`
	NotBefore *gojwt.NumericDate `json:"nbf,omitempty"`
	IssuedAt  *gojwt.NumericDate `json:"iat,omitempty"`
	ID        string             `json:"jti,omitempty"`
	// Scope is the space-delimited scope claim (RFC 9068 §2.2.3).
	Scope string `json:"scope,omitempty"`
}

// Scopes returns the scopes of the scope claim. The scp claim is not read;
// a struct that needs it declares its own Scopes method.
func (c RegisteredClaims) Scopes() scopes.Set { return scopes.Parse(c.Scope) }

// TypedAuth is an [Auth] whose principal is the claims struct P, decoded
// straight from the token's payload (no map in between) and checked with
// the validate tags of github.com/go-playground/validator/v10. Handlers
// receive a P with no type assertion:
//
//	a.Handler(func(w http.ResponseWriter, r *http.Request, c MyClaims) { … })
//	c, ok := auth.From[MyClaims](r.Context())
//
// A TypedAuth is safe for concurrent use. Build one with [NewTyped]: the
// zero TypedAuth is not usable and its methods panic.
type TypedAuth[P any] struct {
	*auth.ScopedAuth[P]
	*engine
	validate *validator.Validate // nil when P is not a struct
}

// NewTyped is [New] for a claims struct P. The registered claims are
// verified exactly as by New (with exact, case-sensitive names, and no
// duplicate or case variant of them, scope or scp); the payload is then
// decoded into P with encoding/json, whose field matching is
// case-insensitive for the other claims, the last of two matching members
// winning. A struct P is then validated with
// its validate tags; a failure is a 401 whose detail names the claim (by
// its JSON name) and the rule, never the value, such as
// "Invalid claims: email is required".
//
// Scopes for Requires come from P's Scopes method ([auth.Scoper], given by
// embedding [RegisteredClaims]) or from [WithScopesOf]; NewTyped fails when
// neither is available, and when a validate tag of P names no rule the
// validator knows.
func NewTyped[P any](cfg Config, opts ...Option) (*TypedAuth[P], error) {
	e, err := newEngine(&cfg)
	if err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	var scopesOf func(P) scopes.Set
	var zero P
	switch f := o.scopesOf.(type) {
	case nil:
		if _, ok := any(zero).(auth.Scoper); !ok {
			return nil, fmt.Errorf("jwt: NewTyped: cannot read scopes from %T: embed jwt.RegisteredClaims, implement auth.Scoper, or pass WithScopesOf", zero)
		}
	case func(P) scopes.Set:
		if f == nil {
			return nil, errors.New("jwt: NewTyped: WithScopesOf(nil)")
		}
		scopesOf = f
	default:
		return nil, fmt.Errorf("jwt: NewTyped[%T]: WithScopesOf was given a %T", zero, o.scopesOf)
	}
	a := &TypedAuth[P]{engine: e}
	if t := reflect.TypeFor[P](); t.Kind() == reflect.Struct || (t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct) {
		v := validator.New(validator.WithRequiredStructEnabled())
		v.RegisterTagNameFunc(jsonName)
		if err := checkTags(v, t); err != nil {
			return nil, err
		}
		a.validate = v
	}
	a.ScopedAuth = auth.NewScoped(o.scheme, a.Verify, scopesOf, e.authOptions(o)...)
	return a, nil
}

// checkTags validates a zero value of the struct type t once, so that a
// validate tag the validator does not know, which makes it panic, fails
// NewTyped rather than every request. Tags on elements of slices and maps
// (dive) are reached only when they hold data, and are not checked here.
func checkTags(v *validator.Validate, t reflect.Type) (err error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("jwt: NewTyped: validate tags of %v: %v", t, r)
		}
	}()
	_ = v.Struct(reflect.New(t).Interface()) // failed rules are expected
	return nil
}

// MustNewTyped is like [NewTyped] but panics with the reason when cfg is
// inconsistent, for start-up literals.
func MustNewTyped[P any](cfg Config, opts ...Option) *TypedAuth[P] {
	a, err := NewTyped[P](cfg, opts...)
	if err != nil {
		panic(err)
	}
	return a
}

// Verify checks raw as [Auth.Verify] does, then decodes its payload into a
// P and validates it. A claim of the wrong JSON type for P is a 401
// "Token claims are malformed"; a failed validate tag a 401 naming it.
func (a *TypedAuth[P]) Verify(ctx context.Context, raw string) (P, error) {
	var p P
	payload, err := a.check(ctx, raw)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		var zero P
		return zero, reject(rejectClaims, err)
	}
	if a.validate != nil {
		if err := a.validate.Struct(p); err != nil {
			var zero P
			return zero, invalidClaims(err)
		}
	}
	return p, nil
}

// invalidClaims turns a validator error into a 401 naming the first
// failing field and rule.
func invalidClaims(err error) error {
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) || len(verrs) == 0 {
		return reject(rejectClaims, err)
	}
	fe := verrs[0]
	field := fe.Namespace()
	if i := strings.IndexByte(field, '.'); i >= 0 {
		field = field[i+1:] // drop the struct's type name
	}
	var detail string
	switch fe.Tag() {
	case "required":
		detail = "Invalid claims: " + field + " is required"
	default:
		detail = "Invalid claims: " + field + " fails " + fe.Tag()
	}
	return auth.Unauthorized(detail).Wrap(fmt.Errorf("%w: %w", ErrTokenClaims, err))
}

// jsonName names struct fields by their JSON key in validation errors.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}
