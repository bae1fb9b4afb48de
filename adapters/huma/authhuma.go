// Package authhuma protects the operations of a huma v2 API with the auths of
// package [github.com/typedauth/auth], hands handlers their typed principal,
// and documents every protected operation in the API's OpenAPI document: the
// security schemes in the components, and on each operation the security it
// requires, with the scopes of [auth.ScopedAuth.Requires].
//
//	api := humago.New(mux, huma.DefaultConfig("Items", "1.0.0"))
//
//	// One operation, whose handler receives the principal as an argument.
//	authhuma.Register(api, huma.Operation{
//		OperationID: "create-item", Method: http.MethodPost, Path: "/items",
//	}, tokens.Requires("items:edit"), func(ctx context.Context, claims auth.Claims, in *CreateInput) (*ItemOutput, error) {
//		…
//	})
//
//	// Every operation of a group.
//	admin := huma.NewGroup(api, "/admin")
//	authhuma.Group(admin, tokens.Requires("admin"))
//	huma.Get(admin, "/users", listUsers) // reads auth.From[auth.Claims](ctx)
//
// # Responses
//
// Every rejection is written by the auth itself, with its error writer
// ([auth.WriteError] unless [auth.WithErrorWriter] replaced it), so a huma
// service answers byte for byte as a net/http one does: the same status, RFC
// 9457 problem details and WWW-Authenticate lines; huma's error model and
// [huma.NewError] are not involved. The operation's handler and the
// middleware after this package's are not called.
//
// # OpenAPI
//
// The schemes are registered in api.OpenAPI().Components.SecuritySchemes
// with the names of [auth.SecuritySchemes]: one scheme per place a
// credential travels ("bearer", "header.X-Api-Key", …), stable from one run
// to the next. To rename a scheme, describe it differently or document a
// bearer token as OAuth 2.0 with its flows, put your own entry for that place
// in the components before registering operations; it is used as it is
// (oauth2 flows get the scopes that operations require). Each protected
// operation gets its security (alternatives for an [auth.AnyOf], the empty
// requirement for [Optional] ones) and, unless it defines them itself, a 401
// response and, when it requires scopes, a 403 response, both with huma's
// [huma.ErrorModel] as problem+json. A jwt auth whose key set came from
// OpenID Connect discovery is documented as an openIdConnect scheme with the
// provider's discovery URL.
//
// # Requests
//
// The auth reads the request that huma's router received: for the adapters
// whose context hands out the [*http.Request] (humago, humachi, humamux,
// humaflow) that request itself, with the context that earlier huma
// middleware set; for the others (humaecho, humagin, humafiber, …) a request
// made from the [huma.Context]: method, URL, host, remote address, TLS state
// and every header line. The conformance table of this module runs through
// humago, humaecho and a context that hides its request.
package authhuma

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedauth/auth"
)

// Auth is an auth that this package can both enforce and document: every
// auth of package auth and of the packages built on it ([*auth.Auth],
// [*auth.ScopedAuth], the jwt, apikey and auth0 auths, [auth.Then] and
// [auth.AnyOf] chains, and types that embed one).
type Auth interface {
	auth.Guarder
	auth.Documented
}

// Source is an [Auth] of principals of type P, for [Register]: the type of
// the principal is inferred from it.
type Source[P any] interface {
	auth.Source[P]
	auth.Documented
}

// Middleware returns huma middleware that authenticates each request with
// a. A request that a rejects gets a's error response and the chain stops.
// An accepted request continues with the principal in its context, where
// [auth.From] finds it (and, for an [auth.Then] chain, the principal of
// every stage).
//
// Middleware enforces; it does not document. Use it with an API's or a
// group's UseMiddleware, or in an operation's Middlewares, together with
// [Security]; [Operation], [Register] and [Group] do both. It is safe for
// concurrent use. Middleware panics if a is nil or a nil pointer.
func Middleware(a auth.Guarder) func(ctx huma.Context, next func(huma.Context)) {
	if isNil(a) {
		panic("authhuma: Middleware: nil auth")
	}
	return middleware(a.Protect)
}

// Optional returns huma middleware for operations where a credential is
// optional: a request without one continues with no principal ([auth.From]
// reports false), while a credential that is present but invalid is still
// rejected, as by [Middleware]. Optional panics if a is nil.
func Optional(a auth.Guarder) func(ctx huma.Context, next func(huma.Context)) {
	if isNil(a) {
		panic("authhuma: Optional: nil auth")
	}
	return middleware(a.ProtectOptional)
}

// middleware runs protect, which writes the response of a rejected request
// itself, through the huma context.
func middleware(protect func(http.ResponseWriter, *http.Request) (*http.Request, bool)) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		r, ok := protect(&writer{ctx: ctx}, request(ctx))
		if !ok {
			return
		}
		next(huma.WithContext(ctx, r.Context()))
	}
}

// request returns the request of ctx: the router's own for the adapters whose
// context hands it out, otherwise one made from ctx. Its context is
// ctx.Context().
func request(ctx huma.Context) *http.Request {
	c := ctx
	for {
		u, ok := c.(interface{ Unwrap() huma.Context })
		if !ok {
			break
		}
		c = u.Unwrap()
	}
	if u, ok := c.(interface {
		Unwrap() (*http.Request, http.ResponseWriter)
	}); ok {
		if r, _ := u.Unwrap(); r != nil {
			if rc := ctx.Context(); r.Context() != rc {
				r = r.WithContext(rc)
			}
			return r
		}
	}
	u := ctx.URL()
	v := ctx.Version()
	r := &http.Request{
		Method:     ctx.Method(),
		URL:        &u,
		Proto:      v.Proto,
		ProtoMajor: v.ProtoMajor,
		ProtoMinor: v.ProtoMinor,
		Header:     http.Header{},
		Host:       ctx.Host(),
		RemoteAddr: ctx.RemoteAddr(),
		RequestURI: u.RequestURI(),
		TLS:        ctx.TLS(),
		Body:       http.NoBody,
	}
	ctx.EachHeader(func(name, value string) { r.Header.Add(name, value) })
	return r.WithContext(ctx.Context())
}

// writer is the http.ResponseWriter of a rejection, written through the huma
// context so that huma (and its middleware) see the status.
type writer struct {
	ctx    huma.Context
	header http.Header
	wrote  bool
}

func (w *writer) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *writer) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	for name, values := range w.header {
		for i, v := range values {
			if i == 0 {
				w.ctx.SetHeader(name, v)
			} else {
				w.ctx.AppendHeader(name, v)
			}
		}
	}
	w.ctx.SetStatus(status)
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ctx.BodyWriter().Write(b)
}

// Security registers the security schemes of a in api's OpenAPI components
// and returns the security of an operation that a guards, for
// huma.Operation.Security: one requirement per way to satisfy a
// ([auth.Auth.Requirements]), naming its scheme with the scopes the
// operation requires. See the package documentation for the names.
//
// Security panics if a is nil or describes no credential (an auth built on
// an [auth.SchemeFunc] without [auth.WithDescription]), since its
// operations would be documented as open.
func Security(api huma.API, a auth.Documented) []map[string][]string {
	return security(api, a, "Security", false)
}

// OptionalSecurity is [Security] for an operation protected by [Optional]:
// the requirements of a followed by the empty requirement, which allows
// anonymous requests.
func OptionalSecurity(api huma.API, a auth.Documented) []map[string][]string {
	return security(api, a, "OptionalSecurity", true)
}

func security(api huma.API, a auth.Documented, fn string, optional bool) []map[string][]string {
	if isNil(a) {
		panic("authhuma: " + fn + ": nil auth")
	}
	oapi := api.OpenAPI()
	if oapi.Components == nil {
		oapi.Components = &huma.Components{}
	}
	if oapi.Components.SecuritySchemes == nil {
		oapi.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	have := oapi.Components.SecuritySchemes
	s := make(auth.SecuritySchemes, len(have))
	for name, sc := range have {
		if sc != nil {
			s[name] = fromHuma(sc)
		}
	}
	var reqs []auth.SecurityRequirement
	if optional {
		reqs = s.Optional(a)
	} else {
		reqs = s.Require(a)
	}
	if reqs == nil {
		panic(fmt.Sprintf("authhuma: %s: the auth describes no credential; give it auth.WithDescription", fn))
	}
	for name, sc := range s {
		if h := have[name]; h == nil {
			have[name] = toHuma(sc)
		} else if sc.Flows != nil && h.Flows != nil {
			addScopes(h.Flows, sc.Flows)
		}
	}
	out := make([]map[string][]string, len(reqs))
	for i, r := range reqs {
		out[i] = map[string][]string(r)
	}
	return out
}

// Operation returns op protected and documented with a: [Middleware] is
// appended to op.Middlewares, op.Security is set by [Security], and 401 and
// (when a requires scopes) 403 responses are added unless op defines them.
// When op already has security, as from an earlier Operation, a request
// must satisfy both, and op.Security becomes their combination (see
// [Group]):
//
//	huma.Register(api, authhuma.Operation(api, tokens.Requires("items:read"), huma.Operation{
//		OperationID: "list-items", Method: http.MethodGet, Path: "/items",
//	}), listItems) // listItems reads auth.From[auth.Claims](ctx)
//
// Operation panics as [Security] does.
func Operation(api huma.API, a Auth, op huma.Operation) huma.Operation {
	if isNil(a) {
		panic("authhuma: Operation: nil auth")
	}
	op.Security = both(Security(api, a), op.Security)
	op.Middlewares = append(op.Middlewares[:len(op.Middlewares):len(op.Middlewares)], Middleware(a))
	documentErrors(api, &op, a)
	return op
}

// OptionalOperation is [Operation] for an operation where a credential is
// optional: it appends [Optional] and sets [OptionalSecurity].
func OptionalOperation(api huma.API, a Auth, op huma.Operation) huma.Operation {
	if isNil(a) {
		panic("authhuma: OptionalOperation: nil auth")
	}
	op.Security = both(OptionalSecurity(api, a), op.Security)
	op.Middlewares = append(op.Middlewares[:len(op.Middlewares):len(op.Middlewares)], Optional(a))
	documentErrors(api, &op, a)
	return op
}

// Register registers an operation protected and documented with a (see
// [Operation]) whose handler receives the principal as an argument, typed,
// with no assertion:
//
//	authhuma.Register(api, huma.Operation{OperationID: "me", Method: http.MethodGet, Path: "/me"}, currentUser,
//		func(ctx context.Context, u User, _ *struct{}) (*MeOutput, error) {
//			return &MeOutput{Body: u}, nil
//		})
//
// The principal is in ctx as well, where [auth.From] finds it and that of
// every earlier stage of an [auth.Then] chain. Errors the handler returns
// are huma errors as usual. Register panics as [huma.Register] and
// [Security] do.
func Register[I, O, P any](api huma.API, op huma.Operation, a Source[P], handler func(ctx context.Context, p P, input *I) (*O, error)) {
	if isNil(a) {
		panic("authhuma: Register: nil auth")
	}
	if handler == nil {
		panic("authhuma: Register: nil handler")
	}
	huma.Register(api, Operation(api, a, op), func(ctx context.Context, input *I) (*O, error) {
		p, _ := auth.From[P](ctx) // the middleware stored it; zero only for a nil interface principal
		return handler(ctx, p, input)
	})
}

// Group protects and documents with a every operation registered on g after
// the call: it adds [Middleware] to g's middleware and a modifier that sets
// each operation's security and error responses, as [Operation] does.
// Operations registered on g before the call are not protected.
//
// An operation of the group that has security of its own, such as one built
// with [Operation] for a further scope, must satisfy both: its security
// becomes the combination of the group's and its own (for a bearer token
// required by both, the scopes of both). Group panics as [Security] does.
func Group(g *huma.Group, a Auth) {
	if g == nil {
		panic("authhuma: Group: nil group")
	}
	if isNil(a) {
		panic("authhuma: Group: nil auth")
	}
	security := Security(g, a) // checked now: a panic here beats one per operation
	g.UseMiddleware(Middleware(a))
	// huma runs a group's modifiers once to document an operation and once
	// to route it, on the same *Operation when the group has no prefix:
	// each operation is modified once.
	var (
		mu   sync.Mutex
		done = map[*huma.Operation]bool{}
	)
	g.UseSimpleModifier(func(op *huma.Operation) {
		mu.Lock()
		defer mu.Unlock()
		if done[op] {
			return
		}
		done[op] = true
		op.Security = both(security, op.Security)
		documentErrors(g, op, a)
	})
}

// both returns the security of an operation that must satisfy a and b, each
// a list of alternatives: every alternative of a combined with every one of
// b, a scheme named by both requiring the scopes of both. An empty b (an
// operation with no security of its own) leaves a.
func both(a, b []map[string][]string) []map[string][]string {
	if len(b) == 0 {
		return a
	}
	var out []map[string][]string
	for _, x := range a {
		for _, y := range b {
			m := make(map[string][]string, len(x)+len(y))
			for name, scopes := range x {
				m[name] = append([]string{}, scopes...)
			}
			for name, scopes := range y {
				for _, s := range scopes {
					if !slices.Contains(m[name], s) {
						m[name] = append(m[name], s)
					}
				}
				if m[name] == nil {
					m[name] = []string{}
				}
			}
			if !slices.ContainsFunc(out, func(have map[string][]string) bool {
				return maps.EqualFunc(have, m, slices.Equal[[]string])
			}) {
				out = append(out, m)
			}
		}
	}
	return out
}

// isNil reports whether a is nil or a nil pointer, such as a nil *jwt.Auth.
func isNil(a any) bool {
	if a == nil {
		return true
	}
	v := reflect.ValueOf(a)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// documentErrors adds the 401 and, when a requires scopes, the 403 response
// to op, unless op defines them.
func documentErrors(api huma.API, op *huma.Operation, a auth.Documented) {
	if op.Responses == nil {
		op.Responses = map[string]*huma.Response{}
	}
	var schema *huma.Schema
	if reg := api.OpenAPI().Components.Schemas; reg != nil {
		schema = reg.Schema(reflect.TypeFor[huma.ErrorModel](), true, "ErrorModel")
	}
	content := map[string]*huma.MediaType{"application/problem+json": {Schema: schema}}
	if _, ok := op.Responses["401"]; !ok {
		op.Responses["401"] = &huma.Response{
			Description: "Unauthorized: the request carries no credential, or an invalid one",
			Headers: map[string]*huma.Header{"WWW-Authenticate": {
				Description: "The challenges of the schemes that take a challenge (RFC 9110 §11.6.1)",
				Schema:      &huma.Schema{Type: "string"},
			}},
			Content: content,
		}
	}
	scoped := false
	for _, r := range a.Requirements() {
		scoped = scoped || len(r.Scopes) > 0
	}
	if _, ok := op.Responses["403"]; !ok && scoped {
		op.Responses["403"] = &huma.Response{
			Description: "Forbidden: the credential lacks a required scope",
			Content:     content,
		}
	}
}

func fromHuma(sc *huma.SecurityScheme) auth.SecurityScheme {
	out := auth.SecurityScheme{
		Type:             sc.Type,
		Description:      sc.Description,
		Name:             sc.Name,
		In:               sc.In,
		Scheme:           sc.Scheme,
		BearerFormat:     sc.BearerFormat,
		OpenIDConnectURL: sc.OpenIDConnectURL,
	}
	if f := sc.Flows; f != nil {
		out.Flows = &auth.OAuthFlows{
			Implicit:          flowFromHuma(f.Implicit),
			Password:          flowFromHuma(f.Password),
			ClientCredentials: flowFromHuma(f.ClientCredentials),
			AuthorizationCode: flowFromHuma(f.AuthorizationCode),
		}
	}
	return out
}

func flowFromHuma(f *huma.OAuthFlow) *auth.OAuthFlow {
	if f == nil {
		return nil
	}
	scopes := make(map[string]string, len(f.Scopes))
	for k, v := range f.Scopes {
		scopes[k] = v
	}
	return &auth.OAuthFlow{AuthorizationURL: f.AuthorizationURL, TokenURL: f.TokenURL, RefreshURL: f.RefreshURL, Scopes: scopes}
}

func toHuma(sc auth.SecurityScheme) *huma.SecurityScheme {
	out := &huma.SecurityScheme{
		Type:             sc.Type,
		Description:      sc.Description,
		Name:             sc.Name,
		In:               sc.In,
		Scheme:           sc.Scheme,
		BearerFormat:     sc.BearerFormat,
		OpenIDConnectURL: sc.OpenIDConnectURL,
	}
	if f := sc.Flows; f != nil {
		out.Flows = &huma.OAuthFlows{
			Implicit:          flowToHuma(f.Implicit),
			Password:          flowToHuma(f.Password),
			ClientCredentials: flowToHuma(f.ClientCredentials),
			AuthorizationCode: flowToHuma(f.AuthorizationCode),
		}
	}
	return out
}

func flowToHuma(f *auth.OAuthFlow) *huma.OAuthFlow {
	if f == nil {
		return nil
	}
	scopes := make(map[string]string, len(f.Scopes))
	for k, v := range f.Scopes {
		scopes[k] = v
	}
	return &huma.OAuthFlow{AuthorizationURL: f.AuthorizationURL, TokenURL: f.TokenURL, RefreshURL: f.RefreshURL, Scopes: scopes}
}

// addScopes adds to the flows of h the scopes of the flows of s that h lacks.
func addScopes(h *huma.OAuthFlows, s *auth.OAuthFlows) {
	pairs := []struct {
		h *huma.OAuthFlow
		s *auth.OAuthFlow
	}{
		{h.Implicit, s.Implicit}, {h.Password, s.Password},
		{h.ClientCredentials, s.ClientCredentials}, {h.AuthorizationCode, s.AuthorizationCode},
	}
	for _, p := range pairs {
		if p.h == nil || p.s == nil {
			continue
		}
		if p.h.Scopes == nil {
			p.h.Scopes = map[string]string{}
		}
		for k, v := range p.s.Scopes {
			if _, ok := p.h.Scopes[k]; !ok {
				p.h.Scopes[k] = v
			}
		}
	}
}
