package authtest

import (
	"context"
	"crypto/subtle"
	"net/http"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

// WithPrincipal returns a shallow copy of r whose context carries the
// principal p, as a guard of an [auth.Auth] would leave it. A handler that
// reads its principal with [auth.From] or [auth.MustFrom] can then be called
// directly, without a credential or a guard:
//
//	r := authtest.WithPrincipal(httptest.NewRequest("GET", "/me", nil), User{ID: "alice"})
//	me(w, r) // auth.MustFrom[User](r.Context()) is User{ID: "alice"}
//
// P must be the exact type the handler asks for: a principal stored as
// auth.Claims is not found by auth.From[MyClaims].
func WithPrincipal[P any](r *http.Request, p P) *http.Request {
	return r.WithContext(auth.NewContext(r.Context(), p))
}

// Verifier returns an Auth that reads bearer tokens and accepts exactly the
// tokens of the map, each as its principal, with no cryptography: it stands
// in for a real verifier in tests of routing, error handling or loaders.
// Any other token is rejected with 401 invalid_token ("Unknown token"), and
// a missing one with the bare Bearer challenge, as with any bearer Auth.
// Tokens are compared in constant time. The map is copied.
//
// Verifier panics if a token is empty, since an empty credential never
// reaches a verifier.
func Verifier[P any](tokens map[string]P, opts ...auth.Option) *auth.Auth[P] {
	return auth.New(auth.Bearer(), fixed(tokens), opts...)
}

// ScopedVerifier is [Verifier] for principals that carry scopes, so that
// Requires works as on a real token Auth. scopesOf reads a principal's
// scopes; when it is nil, P must be auth.Claims (scopes are read from the
// scope and scp claims) or implement [auth.Scoper], or ScopedVerifier
// panics.
//
//	tokens := authtest.ScopedVerifier(map[string]auth.Claims{
//		"reader": {"sub": "alice", "scope": "reports:read"},
//	}, nil)
//	mux.Handle("GET /reports", tokens.Requires("reports:read").Guard(reports))
func ScopedVerifier[P any](tokens map[string]P, scopesOf func(P) scopes.Set, opts ...auth.Option) *auth.ScopedAuth[P] {
	return auth.NewScoped(auth.Bearer(), fixed(tokens), scopesOf, opts...)
}

// fixed returns a verify function accepting the tokens of m.
func fixed[P any](m map[string]P) func(context.Context, string) (P, error) {
	type entry struct {
		token     []byte
		principal P
	}
	entries := make([]entry, 0, len(m))
	for t, p := range m {
		if t == "" {
			panic("authtest: empty token")
		}
		entries = append(entries, entry{token: []byte(t), principal: p})
	}
	return func(_ context.Context, raw string) (P, error) {
		var (
			found P
			ok    int
		)
		b := []byte(raw)
		for _, e := range entries { // every entry, so that timing says nothing about the match
			if subtle.ConstantTimeCompare(e.token, b) == 1 {
				found, ok = e.principal, 1
			}
		}
		if ok == 0 {
			var zero P
			return zero, auth.Unauthorized("Unknown token")
		}
		return found, nil
	}
}
