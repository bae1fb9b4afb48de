// Package auth0 authenticates requests with access tokens issued by an
// Auth0 tenant, verified by Auth0's own Go SDK
// (github.com/auth0/go-jwt-middleware/v2, its validator and jwks packages).
// It lives in its own module so that the SDK and go-jose reach only the
// programs that use it.
//
// # Use
//
// [NewTenant] takes the tenant's domain and the API's audience and returns
// an [auth.ScopedAuth] whose principal is the token's claims:
//
//	tokens, err := auth0.NewTenant("your-tenant.auth0.com", "https://api.example.com")
//	if err != nil { … }
//	mux.Handle("GET /me", tokens.Guard(me))                         // any valid token
//	mux.Handle("GET /reports", tokens.Requires("reports:read").Guard(reports))
//
//	func me(w http.ResponseWriter, r *http.Request) {
//		claims := auth.MustFrom[auth.Claims](r.Context())
//		fmt.Fprintln(w, claims["sub"])
//	}
//
// Tokens must be RS256, name https://DOMAIN/ as issuer and the audience in
// aud, carry an exp and be within their exp/nbf/iat window, and be signed by a key of the
// tenant's JWKS (RSA keys under [MinRSABits] are ignored), fetched from
// https://DOMAIN/.well-known/jwks.json with the SDK's [jwks.Provider] and
// cached for [WithCacheTTL]; a token naming a kid the cache lacks makes it
// download the set again, at most once per [WithUnknownKIDInterval], so a
// rotated key is accepted at once. Redirects never lead from https to http. [New] takes a
// [validator.Validator] built by hand instead, for other algorithms or
// several audiences.
//
// # Claims and scopes
//
// The principal is one map of every claim, registered and custom
// (claims["sub"], claims["https://example.com/email"]), decoded once by the
// SDK through [CustomClaims]. The scopes that Requires checks are those of
// the "scope" claim together with those of the RBAC "permissions" claim,
// each element of which is one permission (see [Scopes]), matched by [scopes.Hierarchical] unless
// [WithScopeValidator] says otherwise.
//
// # Errors
//
// Each rejection is an [*auth.Error], written as problem+json with the RFC
// 6750 challenge:
//
//	no token                  401  Bearer
//	expired                   401  Bearer error="invalid_token", error_description="Token has expired"
//	no exp claim              401  … "Token has no expiration time"
//	bad signature             401  … "Token signature is invalid"
//	wrong aud / wrong iss     401  … "Token audience is not accepted" / "Token issuer is not accepted"
//	not a JWS                 401  … "Token is malformed"
//	unknown kid               401  … "Token signing key is not known"
//	missing scope             403  Bearer error="insufficient_scope", scope="…"
//	JWKS unreachable          503  (connection refused, timeout, HTTP error, not a JWKS, no usable key)
//
// The details are fixed texts: nothing of the token is echoed. The cause
// stays in the error for logs: errors.Is works with this package's reasons
// ([ErrTokenExpired], …), with the auth categories and with go-jose's
// sentinels.
//
// # What is not checked
//
// Tokens are not checked against a revocation list, and "azp" and "org_id"
// are not checked: read them from the claims if your API needs to.
package auth0
