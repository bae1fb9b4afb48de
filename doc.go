// Package auth authenticates HTTP requests and hands handlers a typed
// principal.
//
// Authentication is two orthogonal pieces. A [Scheme] pulls the raw
// credential out of a request: [Bearer] for "Authorization: Bearer <token>",
// [Header] for an API key, [Cookie], [Query], [FirstOf] several, or any
// function converted with [SchemeFunc]. The scheme also decides what a 401
// says (its WWW-Authenticate challenge) and how the Auth is described for API
// documentation ([Auth.Descriptions]). A verifier turns the raw credential
// into a principal of any type P. An [Auth] pairs the two:
//
//	a := auth.New(auth.Bearer(), func(ctx context.Context, raw string) (User, error) { … })
//	mux.Handle("GET /me", a.Guard(me))               // 401 without a valid credential
//	mux.Handle("GET /feed", a.Optional(feed))        // principal if present
//	user, ok := auth.From[User](r.Context())         // typed, no assertion
//
// # Scopes
//
// Token auths are a [ScopedAuth]: [ScopedAuth.Requires] narrows one to the
// requests whose token holds every listed scope, and answers others with
// 403. Scopes are matched by a [scopes.Validator]; the default,
// [scopes.Hierarchical], reads resource:action scopes with wildcards and an
// action hierarchy in which edit implies read.
//
//	reports := tokens.Requires("reports:read")
//
// # Loading a user
//
// [Then] chains a loader after verification and scope checks, so that
// handlers receive a User rather than a bag of claims; the result is an Auth
// itself and composes further:
//
//	editor := auth.Then(tokens.Requires("documents:edit"), loadUser)
//	mux.Handle("PUT /documents/{id}", editor.Handler(func(w http.ResponseWriter, r *http.Request, u User) { … }))
//
// [AnyOf] accepts any of several credentials, such as a JWT or an API key,
// as long as they resolve to the same principal type:
//
//	either := auth.AnyOf(user, auth.Then(keys, keyToUser))
//
// Then, AnyOf and the framework adapters take any [Source]: an [*Auth], a
// [*ScopedAuth], the auths of packages jwt and auth0, or a type of yours that
// embeds one.
//
// # Without a request
//
// Every Auth verifies a raw credential with [Auth.Verify], running the same
// checks as its guard: the verifier, the scopes, the loaders of Then, the
// members of AnyOf. A WebSocket message, a queue job or a gRPC call is
// authenticated without an *http.Request:
//
//	u, err := either.Verify(ctx, raw)
//
// # Errors
//
// Every rejection is an [*Error] written as RFC 9457 problem details
// (application/problem+json) with the WWW-Authenticate challenge of the
// scheme; for a bearer token (RFC 6750):
//
//	no credential                     401  Bearer
//	unreadable Authorization header   400  Bearer error="invalid_request", error_description="…"
//	invalid, expired, foreign token   401  Bearer error="invalid_token", error_description="…"
//	missing scope                     403  Bearer error="insufficient_scope", scope="…"
//	key server unreachable            503
//	a loader's own failure            500  (its text is never sent)
//
// The categories [ErrUnauthorized], [ErrForbidden] and [ErrUnavailable] work
// with [errors.Is] on every error this module returns. [WithErrorWriter]
// replaces the writer, for instance to log the cause first.
//
// # Related packages
//
// Package scopes matches scopes; package apikey authenticates API keys;
// package jwt verifies and issues JSON Web Tokens and serves and fetches
// JWKS; package authtest helps test handlers. chi needs no adapter (its
// middleware is Guard's shape); adapters for Echo and Gin and an Auth0
// verifier live in their own modules.
package auth
