package scopes_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

// tokenAuth is a bearer auth whose verifier looks tokens up in a table of
// granted scopes, with the given validator: enough to show matching end to
// end through a real handler.
func tokenAuth(v scopes.Validator, granted ...string) *auth.ScopedAuth[auth.Claims] {
	verify := func(_ context.Context, raw string) (auth.Claims, error) {
		var i int
		if _, err := fmt.Sscanf(raw, "t%d", &i); err != nil || i >= len(granted) {
			return nil, auth.Unauthorized("Unknown token")
		}
		return auth.Claims{"scope": granted[i]}, nil
	}
	return auth.NewScoped(auth.Bearer(), verify, nil, auth.WithScopeValidator(v))
}

// callAll sends one request per granted scope string to h (tokens t0, t1, …)
// and prints what each token holds and the status it got.
func callAll(h http.Handler, granted ...string) {
	for i, g := range granted {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", fmt.Sprintf("Bearer t%d", i))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%-20s %d\n", g, w.Code)
	}
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

// A custom action hierarchy: admin implies write, and write implies read, so
// admin implies read too.
func ExampleNewHierarchical() {
	v := scopes.NewHierarchical(map[string][]string{
		"read":  nil,
		"write": {"read"},
		"admin": {"write"},
	})
	granted := []string{"docs:admin", "docs:write", "*:read", "docs:publish", "users:admin"}
	h := tokenAuth(v, granted...).Requires("docs:read").Guard(ok)

	callAll(h, granted...)
	// Output:
	// docs:admin           200
	// docs:write           200
	// *:read               200
	// docs:publish         403
	// users:admin          403
}

// Simple grants a scope only when the token holds it verbatim: no wildcard,
// no hierarchy.
func ExampleSimple() {
	granted := []string{"items:read", "items:*", "items:edit"}
	h := tokenAuth(scopes.Simple{}, granted...).Requires("items:read").Guard(ok)

	callAll(h, granted...)
	// Output:
	// items:read           200
	// items:*              403
	// items:edit           403
}

// A prefix validator, as a plain function: a granted "reports" grants every
// scope that starts with it.
func ExampleFunc() {
	prefix := scopes.Func(func(required string, granted scopes.Set) bool {
		for g := range granted.All() {
			if strings.HasPrefix(required, g) {
				return true
			}
		}
		return false
	})
	granted := []string{"reports", "users reports:read", "users"}
	h := tokenAuth(prefix, granted...).Requires("reports:read").Guard(ok)

	callAll(h, granted...)
	// Output:
	// reports              200
	// users reports:read   200
	// users                403
}

// The default validator resolves wildcards and lets edit imply read.
func ExampleHierarchical() {
	v := scopes.NewHierarchical(nil)
	fmt.Println(v.HasScope("items:read", scopes.Parse("items:edit")))
	fmt.Println(v.HasScope("items:read", scopes.Parse("orders:* *:read")))
	fmt.Println(v.HasScope("items:edit", scopes.FromAny([]any{"items:read"})))
	// Output:
	// true
	// true
	// false
}
