package apikey_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
)

// get sends a request to h with the given X-Api-Key (none when key is "")
// and prints the status, the challenge and the body.
func get(h http.Handler, key string) {
	r := httptest.NewRequest(http.MethodGet, "/ping", nil)
	if key != "" {
		r.Header.Set("X-Api-Key", key)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Printf("%d %q %s\n", w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
}

// New with a verifier of your own: here, a function that knows one key.
func ExampleNew() {
	keys := apikey.New(func(_ context.Context, key string) (apikey.Principal, error) {
		if key == "s3cret-key" {
			return apikey.Principal{Owner: "billing-service"}, nil
		}
		return apikey.Principal{}, apikey.ErrUnknownKey
	}, apikey.WithDescription("Service key"))

	pong := keys.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, _ := auth.From[apikey.Principal](r.Context())
		fmt.Fprintf(w, "pong for %s", caller.Owner)
	}))

	get(pong, "s3cret-key")
	get(pong, "guess")
	get(pong, "")
	fmt.Println(keys.Description().Name, keys.Description().Description)
	// Output:
	// 200 "" pong for billing-service
	// 401 "APIKey" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Invalid API Key"}
	// 401 "APIKey" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Invalid API Key"}
	// X-Api-Key Service key
}

// Static keys, such as keys read from the environment at start-up, compared
// in constant time. An unset variable is an error, not a key.
func ExampleStatic() {
	verify, err := apikey.Static(map[string]string{
		"ci":      "ci-6f1c2a0e9b7d4c3e8a5f", // os.Getenv("CI_API_KEY") in a program
		"grafana": "gf-88d0c1b2a3e4f5061728",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	keys := apikey.New(verify)
	h := keys.Handler(func(w http.ResponseWriter, r *http.Request, p apikey.Principal) {
		fmt.Fprintf(w, "hello %s", p.Owner)
	})

	get(h, "gf-88d0c1b2a3e4f5061728")
	get(h, "ci-6f1c2a0e9b7d4c3e8a5")

	_, err = apikey.Static(map[string]string{"ci": ""})
	fmt.Println(err)
	// Output:
	// 200 "" hello grafana
	// 401 "APIKey" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Invalid API Key"}
	// apikey: Static: empty key for "ci"
}

// Hashed keys: only SHA-256 digests are stored, and the lookup is one map
// access. A database-backed Lookup works the same way.
func ExampleHashed() {
	// At issue time, keep only the digest.
	store := apikey.Digests{
		apikey.Digest("ak_live_4f9c0d1e2b3a"): {Owner: "acme-corp", KeyID: "key-7"},
	}
	keys := apikey.New(apikey.Hashed(store.Lookup))
	h := keys.Handler(func(w http.ResponseWriter, r *http.Request, p apikey.Principal) {
		fmt.Fprintf(w, "tenant %s, key %s", p.Owner, p.KeyID)
	})

	get(h, "ak_live_4f9c0d1e2b3a")
	get(h, "ak_live_0000")
	// Output:
	// 200 "" tenant acme-corp, key key-7
	// 401 "APIKey" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Invalid API Key"}
}
