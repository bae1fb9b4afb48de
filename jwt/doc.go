// Package jwt verifies and issues JSON Web Tokens (RFC 7519) for the auth
// package, on top of github.com/golang-jwt/jwt/v5.
//
// # Quick start
//
// Configure signing once, then build the auth. Its principal is the decoded
// claims map, [auth.Claims]:
//
//	a := jwt.MustNew(jwt.Config{Secret: key, Algorithms: []string{"HS256"}, Expiration: time.Hour})
//	mux.Handle("GET /me", a.Handler(func(w http.ResponseWriter, r *http.Request, token auth.Claims) {
//		json.NewEncoder(w).Encode(map[string]any{"sub": token["sub"]})
//	}))
//
// A request without a token gets 401 with a bare Bearer challenge; an
// invalid, malformed or expired token gets 401 with error="invalid_token"
// and an error_description saying why ("Token has expired", "Token issuer is
// not accepted", …). A missing scope gets 403.
//
// # Configuration
//
// [Config] is data: keys ([Config.Secret], [Config.Key], a local set in
// [Config.Keys], a remote [KeySet]), the accepted [Config.Algorithms]
// (required; "none" is never accepted), [Config.IssuerURL] (required as iss
// when set, and set on issue), [Config.Audience], the default
// [Config.Expiration] and the clock skew [Config.Leeway] (10 s by default).
// [New] refuses inconsistent configurations: an algorithm no key can
// verify (RS256 with an HMAC secret), a secret shorter than its hash, an
// RSA key under 2048 bits, an ECDSA key on the wrong curve.
//
// # Issuing
//
// [Auth.Encode] signs claims, filling in iat, iss and exp when they are
// absent; [Auth.CreateAccessToken] returns the token endpoint's response,
// [BearerAccessToken]. Explicit claims always win.
//
// # Verifying
//
// [Auth.Verify] (called by Guard, Optional, Handler and Requires) follows
// RFC 8725: the token must be strict base64url with exactly three segments
// and at most [Config.MaxTokenLength] bytes; crit and b64 header parameters
// are refused; alg must be in the allowlist; the key is chosen by kid in
// O(1), and must fit the algorithm (an HMAC secret is never taken from an
// asymmetric key); a token without kid is accepted only when exactly one
// key can verify its alg. Registered claims are read with exact names and
// must have the right JSON type; they, scope and scp may appear only once,
// and a member whose name is a case variant of one of them (Unicode folding
// included, as encoding/json matches) is refused; exp (required unless
// [Config.AllowMissingExpiration]), nbf and iat are checked with leeway;
// iss, aud and (when [Config.RequiredType] is set) typ must match.
//
// # Typed claims
//
// [NewTyped] decodes the payload straight into a struct and validates it
// with its go-playground/validator tags. Embedding [RegisteredClaims] gives
// the registered claims and scopes:
//
//	type MyClaims struct {
//		jwt.RegisteredClaims
//		Email string `json:"email" validate:"required,email"`
//	}
//	a := jwt.MustNewTyped[MyClaims](cfg)
//	mux.Handle("GET /me", a.Handler(func(w http.ResponseWriter, r *http.Request, c MyClaims) { … }))
//
// # Keys from elsewhere
//
// [Auth.JWKS] and [Auth.JWKSHandler] publish the public keys at
// /.well-known/jwks.json. A verifying service fetches an issuer's keys once
// at start-up with [Config.AwaitJWKS] and [Auth.FetchJWKS], or follows
// rotation with a [RemoteKeySet] as [Config.KeySet]. A key server that
// cannot be reached gives 503, never 401.
//
// # Scopes
//
// [Auth] embeds [auth.ScopedAuth], so a.Requires("reports:read") guards a
// route. Scopes are read from the scope and scp claims and matched by
// [scopes.Hierarchical] unless [WithScopeValidator] says otherwise.
//
// # What is not checked
//
// jti (replay), custom claims of a claims map, and the nonce of OpenID
// Connect ID tokens are left to the caller. Of the claims RFC 9068 requires
// in access tokens, only exp is required (unless AllowMissingExpiration),
// even with RequiredType "at+jwt": require sub, client_id, iat and jti with
// validate:"required" tags of a [NewTyped] struct. Embedded keys (jwk, jku,
// x5u, x5c headers) are never trusted.
package jwt
