package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/typedauth/auth/scopes"
)

// Auth authenticates requests and produces a principal of type P. It pairs a
// [Scheme], which extracts the raw credential, with a verifier, which turns
// the credential into a P. Derived auths ([ScopedAuth.Requires], [Then],
// [AnyOf]) are Auths too, so each of them can guard a handler, a router group
// or be resolved by hand with [Auth.Authenticate].
//
// An Auth is immutable after construction and safe for concurrent use. The
// zero Auth rejects every request with status 500; build one with [New],
// [NewScoped] or a package such as jwt or apikey.
type Auth[P any] struct {
	s            *settings
	challenges   []Challenge
	descriptions []Description
	requirements []Requirement // see Requirements
	resolve      resolver[P]
	verify       verifier[P]
	// hide returns a copy of ctx in which From finds no principal of the
	// types this Auth stores (P and those of earlier stages), for the
	// anonymous requests of Optional.
	hide func(ctx context.Context) context.Context
}

// resolver authenticates r. It returns a context carrying the principals of
// earlier stages (see Then), the principal, or an error. A missing credential
// is reported as an error matching ErrNoCredential.
type resolver[P any] func(ctx context.Context, r *http.Request) (context.Context, P, error)

// verifier is a resolver for a raw credential that was not read from a
// request.
type verifier[P any] func(ctx context.Context, raw string) (context.Context, P, error)

// Source is anything that is an Auth of P: an [*Auth], a [*ScopedAuth], and
// every type that embeds one, such as the auths of packages jwt and auth0 or
// a type of your own. [Then], [AnyOf] and the framework adapters accept a
// Source, so that they take each of these without a conversion:
//
//	user := auth.Then(tokens, loadUser) // tokens is a *jwt.Auth
//
// Source is sealed: only this package can add implementations, by the
// unexported method that returns the underlying Auth.
type Source[P any] interface {
	Guarder
	source() *Auth[P]
}

var (
	_ Source[Claims] = (*Auth[Claims])(nil)
	_ Source[Claims] = (*ScopedAuth[Claims])(nil)
)

func (a *Auth[P]) source() *Auth[P] { return a }

// authOf returns the Auth behind src, or nil when src is nil or zero
// (including a nil pointer of an embedding type).
func authOf[P any](src Source[P]) *Auth[P] {
	var a *Auth[P]
	if src != nil {
		func() {
			defer func() {
				if recover() != nil { // a nil *jwt.Auth, say: its embedded field cannot be read
					a = nil
				}
			}()
			a = src.source()
		}()
	}
	if a == nil || a.resolve == nil {
		return nil
	}
	return a
}

// Guarder is the view of an [Auth] that does not depend on its principal
// type. Framework adapters accept it, so they need no type parameters.
type Guarder interface {
	// Guard returns middleware that rejects requests without a valid
	// credential and stores the principal in the request context.
	Guard(next http.Handler) http.Handler
	// Optional returns middleware that lets requests without a credential
	// through with no principal of the auth's types (see [Auth.Optional]).
	Optional(next http.Handler) http.Handler
	// Protect authenticates r. On success it returns r with the principal in
	// its context and true; on failure it writes the error response to w and
	// returns false.
	Protect(w http.ResponseWriter, r *http.Request) (*http.Request, bool)
	// ProtectOptional is Protect for requests that may carry no credential:
	// those are returned with true, with no principal of the auth's types
	// visible in their context (see [Auth.ProtectOptional]).
	ProtectOptional(w http.ResponseWriter, r *http.Request) (*http.Request, bool)
}

var _ Guarder = (*Auth[Claims])(nil)

// New returns an Auth that reads credentials with scheme and turns them into
// principals with verify. verify receives the request's context and a
// credential that is non-empty and at most [DefaultMaxCredentialLength] bytes
// (see [WithMaxCredentialLength]). The Auth's 401 responses carry the
// scheme's challenges and [Auth.Descriptions] reports the scheme's
// descriptions, unless [WithChallenge] or [WithDescription] say otherwise.
//
// verify rejects a credential by returning an error that says what went
// wrong: [ErrInvalidCredential] (or [Unauthorized] for a specific public
// detail) for a bad credential, 401; [ErrForbidden] or [Forbidden], 403;
// [ErrUnavailable] or [Unavailable] when a backend it depends on is down,
// 503. Any other error is treated as an internal failure: 500, with a generic
// detail, never disguised as 401. An error matching [ErrNoCredential] from
// verify is a rejection of the credential it was given (401 invalid_token),
// never a reason to serve the request as anonymous in [Auth.Optional].
//
// New panics if scheme or verify is nil.
func New[P any](scheme Scheme, verify func(ctx context.Context, raw string) (P, error), opts ...Option) *Auth[P] {
	if scheme == nil {
		panic("auth: New: nil scheme")
	}
	if verify == nil {
		panic("auth: New: nil verify func")
	}
	s := newSettings(scheme, opts)
	maxLen, absent := s.maxLen, s.absent
	tooLong := &Error{Status: http.StatusUnauthorized, Detail: "Credential is too long", Code: CodeInvalidToken,
		Err: fmt.Errorf("%w: credential longer than %d bytes", ErrInvalidCredential, maxLen)}
	credential := credentialOf(scheme)
	return &Auth[P]{
		s:            s,
		challenges:   s.challenges,
		descriptions: s.descriptions,
		requirements: requirementsOf(s.descriptions),
		resolve: func(ctx context.Context, r *http.Request) (context.Context, P, error) {
			var zero P
			raw, err := credential(r)
			if err != nil {
				if errors.Is(err, ErrNoCredential) {
					return ctx, zero, absent
				}
				return ctx, zero, err
			}
			if raw == "" {
				return ctx, zero, absent
			}
			if len(raw) > maxLen {
				return ctx, zero, tooLong
			}
			p, err := verify(ctx, raw)
			if err != nil {
				return ctx, zero, rejectAbsent(err)
			}
			return ctx, p, nil
		},
		verify: func(ctx context.Context, raw string) (context.Context, P, error) {
			var zero P
			if raw == "" {
				return ctx, zero, absent
			}
			if len(raw) > maxLen {
				return ctx, zero, tooLong
			}
			p, err := verify(ctx, raw)
			if err != nil {
				return ctx, zero, rejectAbsent(err)
			}
			return ctx, p, nil
		},
		hide: hideOf[P](nil),
	}
}

// credentialOf returns the Credential method of s bound to its concrete
// value where this package knows the type, so that a request costs one
// indirect call to the scheme, as when schemes were plain functions.
func credentialOf(s Scheme) func(*http.Request) (string, error) {
	switch s := s.(type) {
	case SchemeFunc:
		return s
	case bearerScheme:
		return s.Credential
	case headerScheme:
		return s.Credential
	case cookieScheme:
		return s.Credential
	case queryScheme:
		return s.Credential
	case firstOf:
		return s.Credential
	}
	return s.Credential
}

// noPrincipal is stored in place of a principal that [Auth.Optional] must
// hide: From reports false for it.
type noPrincipal struct{}

// hideOf returns a hide function that masks P after whatever inner masks.
func hideOf[P any](inner func(context.Context) context.Context) func(context.Context) context.Context {
	return func(ctx context.Context) context.Context {
		if inner != nil {
			ctx = inner(ctx)
		}
		return context.WithValue(ctx, principalKey[P]{}, noPrincipal{})
	}
}

// Verify authenticates a raw credential that was not read from a request,
// such as the token of a WebSocket message, a queue job or a gRPC call. It
// runs every check that [Auth.Guard] runs after the scheme has extracted the
// credential: the length limit, the verifier, the scopes of
// [ScopedAuth.Requires], the loaders of [Then] (which find each earlier
// stage's principal in the context they receive) and, for [AnyOf], the
// members as documented there. An empty raw is reported as no credential
// (an error matching [ErrNoCredential]).
//
// On failure Verify returns the zero P and an [*Error] (as error) whose
// status is what Guard would send. It is safe for concurrent use.
func (a *Auth[P]) Verify(ctx context.Context, raw string) (P, error) {
	var zero P
	if a == nil || a.verify == nil {
		return zero, a.asError(errZeroAuth)
	}
	_, p, err := a.verify(ctx, raw)
	if err != nil {
		return zero, a.asError(err)
	}
	return p, nil
}

// Authenticate resolves the principal of r without writing a response. On
// failure it returns an [*Error] (as error) whose status and challenges are
// what [Auth.Guard] would send. A request without a credential gives an
// error matching [ErrNoCredential].
func (a *Auth[P]) Authenticate(r *http.Request) (P, error) {
	_, p, err := a.run(r)
	if err != nil {
		return p, a.asError(err)
	}
	return p, nil
}

// run calls the resolver, treating a zero Auth as an internal failure.
func (a *Auth[P]) run(r *http.Request) (context.Context, P, error) {
	if a == nil || a.resolve == nil {
		var zero P
		return r.Context(), zero, errZeroAuth
	}
	return a.resolve(r.Context(), r)
}

var errZeroAuth = errors.New("auth: use of a zero or nil Auth; build one with auth.New")

// asError classifies err and attaches a's challenges unless a member of an
// AnyOf already attached its own.
func (a *Auth[P]) asError(err error) *Error {
	if a == nil {
		return classify(err, nil)
	}
	return classify(err, a.challenges) // a deep copy: see ErrorWriter
}

func (a *Auth[P]) fail(w http.ResponseWriter, r *http.Request, err error) {
	write := WriteError
	if a != nil && a.s != nil {
		write = a.s.writeError
	}
	write(w, r, a.asError(err))
}

// Protect authenticates r. On success it returns a shallow copy of r whose
// context carries the principal (and, for an Auth built with [Then], the
// principal of every earlier stage), and true. On failure it writes the error
// response with the Auth's error writer and returns nil and false. Framework
// adapters use it; most code wants [Auth.Guard].
func (a *Auth[P]) Protect(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	ctx, p, err := a.run(r)
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	return r.WithContext(NewContext(ctx, p)), true
}

// ProtectOptional is [Auth.Protect] for routes where a credential is
// optional. A request without one is returned with true, as a shallow copy
// whose context hides any principal of the types a stores (P, and for an
// Auth built with [Then] the type of every stage): [From] reports false for
// them even when an outer guard had stored one, so that a principal of the
// same type put there by a gateway's guard is never taken for a signed-in
// user. A credential that is present but invalid is still rejected.
func (a *Auth[P]) ProtectOptional(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	ctx, p, err := a.run(r)
	if err != nil {
		if isAbsent(err) {
			return r.WithContext(a.hide(r.Context())), true
		}
		a.fail(w, r, err)
		return nil, false
	}
	return r.WithContext(NewContext(ctx, p)), true
}

// isAbsent reports whether err, as returned by a resolver, says that the
// request carries no credential. Only the errors this package builds for an
// absent credential qualify, and only unwrapped: a verifier's or loader's
// ErrNoCredential has been turned into an invalid credential by then (see
// rejectAbsent).
func isAbsent(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Err == errAbsentCause
}

// rejectAbsent turns an error of a verifier or loader that matches
// ErrNoCredential into a 401 invalid_token: a credential was presented, so
// "no credential" from further down is a rejection of it, not a reason to
// serve the request as anonymous or to try the next Auth of an AnyOf. An
// error that already matches ErrInvalidCredential keeps its own detail.
func rejectAbsent(err error) error {
	if errors.Is(err, ErrNoCredential) && !errors.Is(err, ErrInvalidCredential) {
		return &Error{Status: http.StatusUnauthorized, Detail: detailInvalid, Code: CodeInvalidToken,
			Err: &joined{category: ErrInvalidCredential, cause: err}}
	}
	return err
}

// Guard returns middleware that authenticates each request before calling
// next. Requests without a credential get 401 with a bare challenge; requests
// with an invalid one get 401 with error="invalid_token" (400 with
// error="invalid_request" when the header cannot be read); requests lacking a
// required scope get 403. The handler finds the principal with [From]. Guard
// never writes a verifier's or loader's error text to the client.
//
// One Guard can protect a whole subtree of an [http.ServeMux]:
//
//	mux.Handle("/admin/", a.Guard(adminMux))
func (a *Auth[P]) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r, ok := a.Protect(w, r); ok {
			next.ServeHTTP(w, r)
		}
	})
}

// Optional returns middleware that authenticates requests that carry a
// credential and lets those without one through with no principal in the
// context: [From] reports false for P (and for the type of every stage of
// an Auth built with [Then]), even if an outer guard stored a principal of
// that type. An invalid credential is still rejected:
// a client that sends a bad token learns so rather than being served as
// anonymous.
func (a *Auth[P]) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r, ok := a.ProtectOptional(w, r); ok {
			next.ServeHTTP(w, r)
		}
	})
}

// Handler returns a guarded handler that receives the principal as an
// argument, so that it never touches the context:
//
//	mux.Handle("GET /me", currentUser.Handler(func(w http.ResponseWriter, r *http.Request, u User) {
//		fmt.Fprintln(w, u.Name)
//	}))
//
// The principal is in the request context as well, as with [Auth.Guard].
func (a *Auth[P]) Handler(h func(w http.ResponseWriter, r *http.Request, p P)) http.Handler {
	if h == nil {
		panic("auth: Handler: nil handler func")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, p, err := a.run(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r.WithContext(NewContext(ctx, p)), p)
	})
}

// Description returns the first of [Auth.Descriptions], or the zero
// Description when there is none.
func (a *Auth[P]) Description() Description {
	if a == nil || len(a.descriptions) == 0 {
		return Description{}
	}
	return a.descriptions[0]
}

// Descriptions returns where a reads credentials, for generators of API
// documentation: one Description per alternative, any one of which a
// request may use. An Auth built with [New] has its scheme's descriptions
// (one for each scheme of [FirstOf]) or the one of [WithDescription];
// [ScopedAuth.Requires] and [Then] keep those of the Auth they derive from;
// [AnyOf] lists those of its members in order, without repeats. A scheme
// that does not describe itself, such as a [SchemeFunc], contributes none.
func (a *Auth[P]) Descriptions() []Description {
	if a == nil {
		return nil
	}
	return append([]Description(nil), a.descriptions...)
}

// Challenges returns the WWW-Authenticate challenges that a sends with a 401.
func (a *Auth[P]) Challenges() []Challenge {
	if a == nil {
		return nil
	}
	return append([]Challenge(nil), a.challenges...)
}

// ScopedAuth is an [Auth] whose principals carry scopes, such as the claims of
// an OAuth 2.0 access token. [ScopedAuth.Requires] narrows it to the requests
// whose principal holds given scopes. Used directly (it embeds *Auth[P]), it
// checks no scope.
type ScopedAuth[P any] struct {
	*Auth[P]
	validator scopes.Validator
	scopesOf  func(P) scopes.Set
}

// NewScoped returns a [ScopedAuth] whose principals' scopes are read by
// scopesOf. When scopesOf is nil, the scopes are read with [ClaimsScopes] if
// P is [Claims], and with the Scopes method if P implements [Scoper];
// otherwise NewScoped panics. Scopes are matched with the validator of
// [WithScopeValidator], by default [scopes.Hierarchical].
//
// Any verifier that returns claims gets scope enforcement this way.
func NewScoped[P any](scheme Scheme, verify func(ctx context.Context, raw string) (P, error), scopesOf func(P) scopes.Set, opts ...Option) *ScopedAuth[P] {
	return Scoped(New(scheme, verify, opts...), scopesOf)
}

// Scoped adds scope enforcement to an existing Auth, reading scopes as
// [NewScoped] does. The validator is the one given to a with
// [WithScopeValidator], or [scopes.Hierarchical].
func Scoped[P any](a *Auth[P], scopesOf func(P) scopes.Set) *ScopedAuth[P] {
	if a == nil || a.resolve == nil {
		panic("auth: Scoped: nil or zero Auth")
	}
	if scopesOf == nil {
		var zero P
		switch any(zero).(type) {
		case Claims:
			scopesOf = func(p P) scopes.Set { return ClaimsScopes(any(p).(Claims)) }
		case Scoper:
			scopesOf = func(p P) scopes.Set { return any(p).(Scoper).Scopes() }
		default:
			name := reflect.TypeFor[P]().String() // %T of a nil interface would say <nil>
			if _, ok := any(&zero).(Scoper); ok {
				panic(fmt.Sprintf("auth: Scoped: %s has a pointer-receiver Scopes method; give a scope reader", name))
			}
			panic(fmt.Sprintf("auth: Scoped: cannot read scopes from %s; give a scope reader", name))
		}
	}
	v := a.s.validator
	if v == nil {
		v = scopes.NewHierarchical(nil)
	}
	return &ScopedAuth[P]{Auth: a, validator: v, scopesOf: scopesOf}
}

// Validator returns the scope validator of a.
func (a *ScopedAuth[P]) Validator() scopes.Validator { return a.validator }

// Requires returns an Auth that accepts a request only when its principal
// holds every one of the required scopes, as judged by a's validator. A
// principal lacking one gets 403 with the detail
// "Token is missing required scope: <scope>" and the challenge
// Bearer error="insufficient_scope", scope="<required scopes>".
//
// The required scopes are checked here, once: Requires panics if one is
// empty, longer than [scopes.MaxLength] or holds a space or another
// character RFC 6749 does not allow, since that is a programming error. With
// no scope, the result accepts every principal that a accepts.
func (a *ScopedAuth[P]) Requires(required ...string) *Auth[P] {
	required = append([]string(nil), required...)
	denials := make([]*Error, len(required))
	for i, s := range required {
		if err := scopes.Check(s); err != nil {
			panic(fmt.Sprintf("auth: Requires(%s): %v", quoteAll(required), err))
		}
		denials[i] = &Error{
			Status: http.StatusForbidden,
			Detail: DetailMissingScope + s,
			Code:   CodeInsufficientScope,
			Scope:  required,
			Err:    &ScopeError{Missing: s, Required: required},
		}
	}
	inner, innerVerify, scopesOf := a.resolve, a.verify, a.scopesOf
	// The matcher keeps its own copy: the errors above hold required, and
	// no error, however it escapes, can then change what is checked.
	missing := compile(a.validator, slices.Clone(required))
	return &Auth[P]{
		s:            a.s,
		challenges:   a.challenges,
		descriptions: a.descriptions,
		requirements: withScopes(a.requirements, required),
		resolve: func(ctx context.Context, r *http.Request) (context.Context, P, error) {
			ctx, p, err := inner(ctx, r)
			if err != nil {
				return ctx, p, err
			}
			if i := missing.Missing(scopesOf(p)); i >= 0 {
				var zero P
				return ctx, zero, denials[i]
			}
			return ctx, p, nil
		},
		verify: func(ctx context.Context, raw string) (context.Context, P, error) {
			ctx, p, err := innerVerify(ctx, raw)
			if err != nil {
				return ctx, p, err
			}
			if i := missing.Missing(scopesOf(p)); i >= 0 {
				var zero P
				return ctx, zero, denials[i]
			}
			return ctx, p, nil
		},
		hide: a.hide,
	}
}

// compile prepares required for v: with v's own [scopes.Matcher] when v is a
// [scopes.Compiler], so that a request's scopes are read once, and otherwise
// with one HasScope call per required scope.
func compile(v scopes.Validator, required []string) scopes.Matcher {
	if c, ok := v.(scopes.Compiler); ok {
		return c.Compile(required)
	}
	return eachScope{v: v, required: required}
}

// eachScope is the Matcher of a validator that does not compile.
type eachScope struct {
	v        scopes.Validator
	required []string
}

func (e eachScope) Missing(granted scopes.Set) int {
	for i, s := range e.required {
		if !e.v.HasScope(s, granted) {
			return i
		}
	}
	return -1
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// ScopeError is the cause of a 403 for a missing scope.
type ScopeError struct {
	// Missing is the first required scope the principal lacked.
	Missing string
	// Required lists every scope the route requires.
	Required []string
}

// Error names the first missing scope.
func (e *ScopeError) Error() string { return "auth: missing required scope " + e.Missing }

// Is reports that a ScopeError is an [ErrForbidden].
func (e *ScopeError) Is(target error) bool { return target == ErrForbidden }

// Then returns an Auth whose principal is load(ctx, p) for the principal p
// that a produced, after a's verification and scope checks. It is how a
// handler receives a typed User rather than claims:
//
//	currentUser := auth.Then(tokens.Requires("documents:edit"), loadUser)
//
// a is any [Source]: an [*Auth], a [*ScopedAuth], a jwt or auth0 auth, or
// another Then. load finds p in ctx too (with [From]), and so does the
// handler: every stage's principal stays in the request context under its
// own type. Thens compose: Then(Then(a, f), g) is valid. [Auth.Verify] of
// the result verifies, then loads.
//
// load reports an authentication outcome with the errors of this package —
// [Unauthorized] or [ErrInvalidCredential] for an unknown user (401),
// [Forbidden] or [ErrForbidden] (403) — and they keep their status. Any
// other error, such as a database failure, is a 500 whose text the client
// never sees: never disguised as 401. [ErrNoCredential] from load counts as
// an invalid credential, since a credential was presented.
//
// Then panics if a or load is nil.
func Then[P, U any](a Source[P], load func(ctx context.Context, p P) (U, error)) *Auth[U] {
	in := authOf(a)
	if in == nil {
		panic("auth: Then: nil or zero Auth")
	}
	if load == nil {
		panic("auth: Then: nil loader")
	}
	step := func(ctx context.Context, p P) (context.Context, U, error) {
		ctx = NewContext(ctx, p)
		u, err := load(ctx, p)
		if err != nil {
			var zero U
			// A loader cannot un-send a credential: its "no
			// credential" is a rejection of the one it was given.
			return ctx, zero, rejectAbsent(err)
		}
		return ctx, u, nil
	}
	inner, innerVerify := in.resolve, in.verify
	return &Auth[U]{
		s:            in.s,
		challenges:   in.challenges,
		descriptions: in.descriptions,
		requirements: in.requirements,
		resolve: func(ctx context.Context, r *http.Request) (context.Context, U, error) {
			ctx, p, err := inner(ctx, r)
			if err != nil {
				var zero U
				return ctx, zero, err
			}
			return step(ctx, p)
		},
		verify: func(ctx context.Context, raw string) (context.Context, U, error) {
			ctx, p, err := innerVerify(ctx, raw)
			if err != nil {
				var zero U
				return ctx, zero, err
			}
			return step(ctx, p)
		},
		hide: hideOf[U](in.hide),
	}
}

// AnyOf returns an Auth that accepts any of several credentials that resolve
// to one principal type, as Envoy's requires_any does: a JWT or an API key,
// both loaded into the same User with [Then]:
//
//	either := auth.AnyOf(user, auth.Then(keys, keyToUser))
//
// On a request, the auths are tried in order; the first whose scheme finds a
// credential decides, and its verdict stands (a bad JWT is not retried as an
// API key). When none finds a credential, the 401 carries every auth's
// challenge.
//
// [Auth.Verify] has no request to tell where the credential came from, so
// it gives raw to each auth in order, and the first that accepts it wins. An
// auth that rejects raw as an invalid credential (a 401 or 400: not its
// credential) hands it to the next; any other rejection ends the search and
// is returned: a 403 means the auth recognised the credential and refused
// it, and a 503 or 500 means it could not be checked, which is never turned
// into another auth's success or a 401. When every auth rejects raw as
// invalid, the error is the first auth's.
//
// The error writer is that of the first auth; [Auth.Descriptions] lists the
// members' descriptions in order, as alternatives. AnyOf panics if given no
// auth or a nil one.
func AnyOf[P any](auths ...Source[P]) *Auth[P] {
	if len(auths) == 0 {
		panic("auth: AnyOf needs at least one Auth")
	}
	var (
		challenges   []Challenge
		descriptions []Description
		requirements []Requirement
		hide         func(context.Context) context.Context
	)
	members := make([]*Auth[P], len(auths))
	for i, src := range auths {
		a := authOf(src)
		if a == nil {
			panic(fmt.Sprintf("auth: AnyOf: Auth %d is nil or zero", i))
		}
		members[i] = a
		challenges = appendNew(challenges, a.challenges...)
		descriptions = appendNew(descriptions, a.descriptions...)
		requirements = appendRequirements(requirements, a.requirements...)
		inner, prev := a.hide, hide
		if prev == nil {
			hide = inner
		} else {
			hide = func(ctx context.Context) context.Context { return inner(prev(ctx)) }
		}
	}
	return &Auth[P]{
		s:            members[0].s,
		challenges:   challenges,
		descriptions: descriptions,
		requirements: requirements,
		resolve: func(ctx context.Context, r *http.Request) (context.Context, P, error) {
			for _, a := range members {
				ctx2, p, err := a.resolve(ctx, r)
				if err == nil {
					return ctx2, p, nil
				}
				if isAbsent(err) {
					continue
				}
				var zero P
				return ctx, zero, a.asError(err)
			}
			var zero P
			return ctx, zero, errAbsent
		},
		verify: func(ctx context.Context, raw string) (context.Context, P, error) {
			var zero P
			if raw == "" {
				return ctx, zero, errAbsent
			}
			var first error
			for _, a := range members {
				ctx2, p, err := a.verify(ctx, raw)
				if err == nil {
					return ctx2, p, nil
				}
				e := a.asError(err)
				if !errors.Is(e, ErrUnauthorized) {
					return ctx, zero, e
				}
				if first == nil {
					first = e
				}
			}
			return ctx, zero, first
		},
		hide: hideOf[P](hide),
	}
}

// appendNew appends the elements of add that s does not hold yet.
func appendNew[T comparable](s []T, add ...T) []T {
next:
	for _, x := range add {
		for _, have := range s {
			if have == x {
				continue next
			}
		}
		s = append(s, x)
	}
	return s
}
