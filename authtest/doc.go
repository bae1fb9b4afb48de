// Package authtest helps test code that authenticates requests with package
// auth and package jwt. It is meant for tests only: its functions and methods
// panic on error, it generates keys with no regard for how they are stored,
// and its fake issuer publishes its keys on loopback, over plain http unless
// [WithTLS] is given.
//
// # A fake OpenID Provider
//
// [NewIssuer] starts an issuer on an httptest server. It publishes an OpenID
// Connect discovery document and a JWKS, as a real identity provider does,
// and mints signed tokens with the claims a test chooses:
//
//	iss := authtest.NewIssuer(t, authtest.WithAudience("https://api.example.com"))
//	tokens := jwt.MustNew(iss.Config()) // discovers iss and follows its JWKS
//	srv := httptest.NewServer(tokens.Requires("reports:read").Guard(reports))
//	token := iss.Token(auth.Claims{"sub": "alice", "scope": "reports:read"})
//
// [Issuer.Rotate] switches the issuer to a new signing key while it keeps
// publishing the old one, so that tests can check that verifiers follow key
// rotation.
//
// # Handlers without tokens
//
// A handler that reads its principal with [auth.From] can be unit-tested
// without any credential: [WithPrincipal] puts a principal in a request's
// context, as a guard would. When the guard itself matters, [Verifier] and
// [ScopedVerifier] build an [auth.Auth] that accepts a fixed set of opaque
// tokens, with no cryptography.
package authtest
