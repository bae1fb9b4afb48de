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
// scope claims. Embed it in a claims struct given to [NewTyped]: its fields
// are decoded from the token, it gives golang-jwt's parser the claims it
// validates, and its Scopes method makes the struct an [auth.Scoper], so
// Requires works.
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
	// Scp is the scp claim of Okta and Azure AD: a space-delimited string,
	// or an array of strings (decoded as []any). Other JSON types grant no
	// scope.
	Scp any `json:"scp,omitempty"`
}

// Scopes returns the scopes of the scope and scp claims, read exactly as
// [auth.ClaimsScopes] reads them from a claims map.
func (c RegisteredClaims) Scopes() scopes.Set {
	s := scopes.Parse(c.Scope)
	switch v := c.Scp.(type) {
	case string:
		return s.Union(scopes.Parse(v))
	case []string:
		return s.Union(scopes.Of(v...))
	case []any:
		return s.Union(scopes.FromAny(v))
	}
	return s
}

// GetExpirationTime implements golang-jwt's Claims.
func (c RegisteredClaims) GetExpirationTime() (*gojwt.NumericDate, error) { return c.ExpiresAt, nil }

// GetNotBefore implements golang-jwt's Claims.
func (c RegisteredClaims) GetNotBefore() (*gojwt.NumericDate, error) { return c.NotBefore, nil }

// GetIssuedAt implements golang-jwt's Claims.
func (c RegisteredClaims) GetIssuedAt() (*gojwt.NumericDate, error) { return c.IssuedAt, nil }

// GetAudience implements golang-jwt's Claims.
func (c RegisteredClaims) GetAudience() (gojwt.ClaimStrings, error) { return c.Audience, nil }

// GetIssuer implements golang-jwt's Claims.
func (c RegisteredClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements golang-jwt's Claims.
func (c RegisteredClaims) GetSubject() (string, error) { return c.Subject, nil }

// TypedAuth is an [Auth] whose principal is the claims struct P, decoded by
// golang-jwt's parser straight from the token's payload (no map in between)
// and checked with the validate tags of github.com/go-playground/validator/v10.
// Handlers receive a P with no type assertion:
//
//	a.Handler(func(w http.ResponseWriter, r *http.Request, c MyClaims) { … })
//	c, ok := auth.From[MyClaims](r.Context())
//
// Like Auth, it holds the [Issuer] of its local keys, if any. A TypedAuth is
// safe for concurrent use. Build one with [NewTyped] or [NewTypedFunc]: the
// zero TypedAuth is not usable and its methods panic.
type TypedAuth[P any] struct {
	*auth.ScopedAuth[P]
	*Issuer
	v        *verifier
	validate *validator.Validate // nil when P is not a struct
	direct   bool                // *P implements golang-jwt's Claims
	cache    *tokenCache         // nil unless WithCache
	copy     copyFunc            // copies a P for the cache; nil when assignment does
	copyable bool                // P can be copied (see copierOf)
	timed    bool                // a validate tag of P compares a time with the clock
}

// NewTyped is [New] for a claims struct P that carries its scopes, usually
// by embedding [RegisteredClaims] (P is then an [auth.Scoper]); for other
// types, [NewTypedFunc] says how to read them. The registered claims are
// verified exactly as by New (with exact, case-sensitive names, and no
// duplicate or case variant of them, scope or scp); the payload is decoded
// into P with encoding/json, whose field matching is case-insensitive for
// the other claims, the last of two matching members winning. A struct P is
// then validated with its validate tags; a failure is a 401 whose detail
// names the claim (by its JSON name) and the rule, never the value, such as
// "Invalid claims: email is required".
//
// NewTyped fails as New does, and when a validate tag of P names no rule
// the validator knows.
func NewTyped[P auth.Scoper](cfg Config, opts ...Option) (*TypedAuth[P], error) {
	return newTyped[P](cfg, nil, opts)
}

// MustNewTyped is like [NewTyped] but panics with the reason when cfg is
// inconsistent, for configurations written as literals.
func MustNewTyped[P auth.Scoper](cfg Config, opts ...Option) *TypedAuth[P] {
	return must(NewTyped[P](cfg, opts...))
}

// NewTypedFunc is [NewTyped] for a claims type P that does not carry its
// scopes: scopesOf reads them.
//
//	a, err := jwt.NewTypedFunc(cfg, func(c Claims) scopes.Set { return scopes.Of(c.Permissions...) })
func NewTypedFunc[P any](cfg Config, scopesOf func(P) scopes.Set, opts ...Option) (*TypedAuth[P], error) {
	if scopesOf == nil {
		return nil, errors.New("jwt: NewTypedFunc: nil scopesOf")
	}
	return newTyped(cfg, scopesOf, opts)
}

// MustNewTypedFunc is like [NewTypedFunc] but panics with the reason when
// cfg is inconsistent, for configurations written as literals.
func MustNewTypedFunc[P any](cfg Config, scopesOf func(P) scopes.Set, opts ...Option) *TypedAuth[P] {
	return must(NewTypedFunc(cfg, scopesOf, opts...))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newTyped[P any](cfg Config, scopesOf func(P) scopes.Set, opts []Option) (*TypedAuth[P], error) {
	b, err := build(&cfg, opts)
	if err != nil {
		return nil, err
	}
	a := &TypedAuth[P]{Issuer: b.issuer, v: b.verifier, cache: b.cache}
	_, a.direct = any(new(P)).(gojwt.Claims)
	a.copy, a.copyable = copierOf(reflect.TypeFor[P]())
	if t := reflect.TypeFor[P](); t.Kind() == reflect.Struct || (t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct) {
		v := validator.New(validator.WithRequiredStructEnabled())
		v.RegisterTagNameFunc(jsonName)
		if err := checkTags(v, t); err != nil {
			return nil, err
		}
		a.validate = v
		a.timed = timedTags(t, map[reflect.Type]bool{})
	}
	a.ScopedAuth = auth.NewScoped(b.opts.scheme, a.verify, scopesOf, b.authOptions()...)
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

// timedTags reports whether a validate tag of the struct type t, or of a
// struct it holds, applies gt, gte, lt or lte to a time: the validator
// compares a time.Time with the clock for them (whatever their parameter),
// so their verdict changes while a token is cached. It errs towards true.
func timedTags(t reflect.Type, seen map[reflect.Type]bool) bool {
	t = underElem(t)
	if t.Kind() != reflect.Struct || t.ConvertibleTo(timeType) || seen[t] {
		return false
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		if underElem(f.Type).ConvertibleTo(timeType) {
			for rule := range strings.FieldsFuncSeq(f.Tag.Get("validate"), func(r rune) bool { return r == ',' || r == '|' }) {
				switch name, _, _ := strings.Cut(rule, "="); name {
				case "gt", "gte", "lt", "lte":
					return true
				}
			}
		}
		if timedTags(f.Type, seen) {
			return true
		}
	}
	return false
}

// underElem returns t without its pointers, slices, arrays and maps: the
// type of the values they lead to, or a container type that leads to
// itself (type T map[string]T).
func underElem(t reflect.Type) reflect.Type {
	var seen map[reflect.Type]bool
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			if seen[t] {
				return t
			}
			if seen == nil {
				seen = map[reflect.Type]bool{}
			}
			seen[t] = true
			t = t.Elem()
		default:
			return t
		}
	}
}

// Verify checks raw as [Auth.Verify] does, with the payload decoded into a
// P and validated. A claim of the wrong JSON type for P is a 401 "Token
// claims are malformed"; a failed validate tag a 401 naming it.
func (a *TypedAuth[P]) Verify(ctx context.Context, raw string) (P, error) {
	if len(raw) > a.v.maxLen {
		var zero P
		return zero, reject(ErrTokenTooLong, nil)
	}
	return a.verify(ctx, raw)
}

func (a *TypedAuth[P]) verify(ctx context.Context, raw string) (P, error) {
	if a.cache != nil {
		return a.verifyCached(ctx, raw) // cache.go
	}
	return a.verifyRecording(ctx, raw, nil)
}

// verifyRecording is verify without the cache, filling rec (when not nil)
// as [verifier.parseRecording] does.
func (a *TypedAuth[P]) verifyRecording(ctx context.Context, raw string, rec *verified) (P, error) {
	var p P
	var err error
	if a.direct {
		err = a.v.parseRecording(ctx, raw, any(&p).(gojwt.Claims), rec)
	} else {
		err = a.v.parseRecording(ctx, raw, &claimsOf[P]{p: &p}, rec)
	}
	if err == nil && a.validate != nil {
		err = invalidClaims(a.validate.Struct(p))
	}
	if err != nil {
		var zero P
		return zero, err
	}
	return p, nil
}

// claimsOf decodes a payload into a P that is not golang-jwt's Claims, and
// into the registered claims the parser validates.
type claimsOf[P any] struct {
	RegisteredClaims
	p *P
}

func (c *claimsOf[P]) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, c.p); err != nil {
		return err
	}
	return json.Unmarshal(b, &c.RegisteredClaims)
}

// invalidClaims turns a validator error into a 401 naming the first
// failing field and rule.
func invalidClaims(err error) error {
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) || len(verrs) == 0 {
		return reject(ErrTokenClaims, err)
	}
	fe := verrs[0]
	field := fe.Namespace()
	if i := strings.IndexByte(field, '.'); i >= 0 {
		field = field[i+1:] // drop the struct's type name
	}
	detail := "Invalid claims: " + field + " fails " + fe.Tag()
	if fe.Tag() == "required" {
		detail = "Invalid claims: " + field + " is required"
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
