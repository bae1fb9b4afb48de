// Package auth0 authenticates requests with access tokens issued by an
// Auth0 tenant, validated by Auth0's own Go SDK
// (github.com/auth0/go-jwt-middleware/v2, its validator package) with the
// tenant's keys held by a [jwt.RemoteKeySet]. It lives in its own module so
// that the SDK and go-jose reach only the programs that use it.
//
// # Use
//
// [NewTenant] takes the tenant's domain and the API's audience, downloads
// the tenant's keys and returns an [Auth], a scoped auth whose principal
// is the token's claims:
//
//	tokens, err := auth0.NewTenant(ctx, "your-tenant.auth0.com", "https://api.example.com")
//	if err != nil { … }
//	defer tokens.Close()
//	mux.Handle("GET /me", tokens.Guard(me))                         // any valid token
//	mux.Handle("GET /reports", tokens.Requires("reports:read").Guard(reports))
//
//	func me(w http.ResponseWriter, r *http.Request) {
//		claims := auth.MustFrom[auth.Claims](r.Context())
//		fmt.Fprintln(w, claims["sub"])
//	}
//
// Tokens must be RS256 with a kid, name https://DOMAIN/ as issuer and the
// audience in aud, carry an exp and be within their exp/nbf/iat window,
// and be signed by a key of the tenant's JWKS. The keys follow the rules of
// every remote key set of package jwt: https only (http on loopback
// aside), no redirect to http, size and key-count caps, background refresh
// every [DefaultRefreshInterval], keys kept when the tenant fails, a kid
// the set lacks downloaded again at most once per interval. During an
// Auth0 outage tokens of known keys keep being accepted and unknown kids
// are 401.
//
// [New] takes a [Validator] instead: an SDK validator built by hand, for
// other algorithms or several audiences, or a fake in tests, which needs
// no key server (see the example of New).
//
// # Claims and scopes
//
// The principal is one map of every claim, registered and custom
// (claims["sub"], claims["https://example.com/email"]), decoded once by the
// SDK through [CustomClaims]. The scopes that Requires checks are those of
// the "scope" claim together with those of the RBAC "permissions" claim,
// each element of which is one permission (see [Scopes]), matched by
// [scopes.Hierarchical] unless [WithScopeValidator] says otherwise.
//
// # Errors
//
// Each rejection is an [*auth.Error], written as problem+json with the RFC
// 6750 challenge, in package jwt's words: the same status, challenge and
// detail as jwt.Auth gives for the same failure ([jwt.Rejection]), and the
// same causes for errors.Is:
//
//	no token             401  Bearer
//	expired              401  Bearer error="invalid_token", error_description="Token has expired"   jwt.ErrTokenExpired
//	no exp claim         401  … "Token has no expiration"                                           jwt.ErrTokenNoExpiration
//	bad signature        401  … "Token signature is invalid"                                        jwt.ErrTokenSignatureInvalid
//	wrong aud / iss      401  … "Token audience is not accepted" / "Token issuer is not accepted"
//	not a JWS            401  … "Token is malformed"                                                jwt.ErrTokenMalformed
//	unknown kid          401  … "Token signing key is unknown"                                      jwt.ErrKeyNotFound
//	not RS256            401  … "Token algorithm is not allowed"                                    jwt.ErrTokenAlgorithm
//	other SDK error      401  … "Token is invalid"                                                  ErrInvalidToken
//	missing scope        403  Bearer error="insufficient_scope", scope="…"
//	keys never loaded    503  jwt.ErrKeySetUnavailable
//
// The details are fixed texts: nothing of the token is echoed. The cause
// stays in the error for the error writer (auth.WithErrorWriter), and
// errors.Is also holds for golang-jwt's sentinels (through jwt's causes)
// and go-jose's.
//
// # What is not checked
//
// Tokens are not checked against a revocation list, and "azp" and "org_id"
// are not checked: read them from the claims if your API needs to.
package auth0
