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
// [Config.Keys], a [KeySet]), the accepted [Config.Algorithms] (required
// unless a remote set declares its issuer's; "none" is never accepted),
// [Config.IssuerURL] (required as iss
// when set, and set on issue), [Config.Audience], the default
// [Config.Expiration] and the clock skew [Config.Leeway] (10 s by default).
// [New] refuses inconsistent configurations: an algorithm no key can
// verify (RS256 with an HMAC secret), a secret shorter than its hash, an
// RSA key under 2048 bits, an ECDSA key on the wrong curve.
//
// # Issuing
//
// An [Auth] built from local keys holds their [Issuer]: [Issuer.Encode]
// signs claims, filling in iat, iss and exp when they are absent;
// [Issuer.CreateAccessToken] returns the token endpoint's response,
// [BearerAccessToken]. Explicit claims always win. [Issuer.JWKSHandler]
// publishes the public keys at /.well-known/jwks.json (never a secret). A
// service that only issues builds an Issuer alone with [NewIssuer].
//
// # Verifying
//
// [Auth.Verify] (called by Guard, Optional, Handler and Requires) hands the
// token to a golang-jwt parser built once by [New] (allowed algorithms,
// issuer, audience, exp required, iat, leeway, strict base64, the Config's
// clock), whose keys come from jwkset storages indexed by kid. Around the
// parser it keeps the rules of RFC 8725 the parser lacks: at most
// [Config.MaxTokenLength] bytes, exactly three segments of strict base64url
// and nothing else inside them, no crit or b64 header parameter, the
// required typ, registered claims of the right JSON type, none of them (nor
// scope or scp) twice or under a case variant of its name (Unicode folding
// included, as encoding/json matches), and a token without kid accepted
// only when exactly one key can verify its alg. Any key, from any source,
// must fit the alg: an HMAC secret is never taken from an asymmetric key.
// Rejections match this package's causes ([ErrTokenExpired], …) and
// golang-jwt's alike.
//
// # Caching verified tokens
//
// [WithCache] keeps verified tokens, bounded in entries and bytes, so that
// a token presented again skips the signature check; on every hit exp, nbf
// and iat are checked again against the Config's clock, the key that
// verified the token must still be in the key set, and the handler gets a
// copy of the claims of its own. See WithCache for the eviction policy and
// the costs.
//
// # Typed claims
//
// [NewTyped] decodes the payload straight into a struct and validates it
// with its go-playground/validator tags. Embedding [RegisteredClaims] gives
// the registered claims and the scopes of scope and scp:
//
//	type MyClaims struct {
//		jwt.RegisteredClaims
//		Email string `json:"email" validate:"required,email"`
//	}
//	a := jwt.MustNewTyped[MyClaims](cfg)
//	mux.Handle("GET /me", a.Handler(func(w http.ResponseWriter, r *http.Request, c MyClaims) { … }))
//
// [NewTypedFunc] takes the function that reads the scopes of a type that
// does not carry them.
//
// # Keys from elsewhere
//
// Keys are fetched, then the Auth is built: [FetchKeySet] downloads an
// issuer's JWKS once and [ParseKeySet] reads one from bytes (a file, an
// environment variable), both into a [MemoryKeySet]; [NewRemoteKeySet] and
// [DiscoverKeySet] follow an issuer's rotation with a [RemoteKeySet]. Put
// the set in [Config.KeySet]. Sets are jwkset storages, usable with
// keyfunc and golang-jwt directly. A remote set that has never loaded gives
// 503; once loaded, an unknown kid is 401 whatever its key server does.
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
