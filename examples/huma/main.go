// Command huma serves an items API built with huma v2 whose OpenAPI document
// knows its authentication: the security schemes (a JWT bearer token and an
// API key) and, on every operation, the security it requires with the exact
// scopes its auth checks. The document and the auth come from the same
// values, so they cannot drift apart.
//
// Configuration, from the environment:
//
//	ADDR        the address to listen on (default 127.0.0.1:8080)
//	JWT_SECRET  the HS256 signing secret, at least 32 bytes (default: random,
//	            so tokens die with the process)
//	API_KEY     the API key of the "reporting" service, at least 16 bytes
//	            (default: random, printed at start-up)
//
// Operations:
//
//	GET  /healthz       open to all
//	GET  /me            any valid token; the handler gets a typed User
//	GET  /items         token with items:read
//	GET  /items/{id}    token with items:read
//	POST /items         token with items:edit; JSON body {"name":"…"}
//	GET  /reports       token with reports:read, or the API key (X-Api-Key)
//	GET  /openapi.json  the OpenAPI 3.1 document (/openapi.yaml too)
//	GET  /docs          the API reference, rendered from the document
//
// Scopes are matched hierarchically: items:edit implies items:read.
//
// Try it (the program prints a token for each demo user and the API key):
//
//	go run ./examples/huma
//	curl -s http://127.0.0.1:8080/openapi.json                                   # the document
//	curl -i http://127.0.0.1:8080/items                                          # 401
//	curl -i -H "Authorization: Bearer $RITA" http://127.0.0.1:8080/items         # 200
//	curl -i -H "Authorization: Bearer $RITA" -d '{"name":"pen"}' http://127.0.0.1:8080/items   # 403
//	curl -i -H "X-Api-Key: $KEY" http://127.0.0.1:8080/reports                   # 200
//	open http://127.0.0.1:8080/docs                                              # the reference page
//
// A bad configuration makes the program exit with status 1 and a one-line
// reason.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedauth/auth"
	authhuma "github.com/typedauth/auth/adapters/huma"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/examples/internal/items"
	"github.com/typedauth/auth/examples/internal/serve"
	"github.com/typedauth/auth/jwt"
)

// main runs run until SIGINT or SIGTERM, then shuts the server down
// gracefully; a bad configuration exits with status 1.
func main() { serve.Main("huma", run) }

// demoUsers are the subjects and scopes of the tokens printed at start-up.
var demoUsers = []items.DemoUser{
	{Sub: "rita", Scope: "items:read"},
	{Sub: "ed", Scope: "items:edit"},
	{Sub: "sam", Scope: "profile"},
	{Sub: "rex", Scope: "reports:read"},
}

// minKeyLength is the shortest API_KEY accepted.
const minKeyLength = 16

// run configures the service from getenv, prints its address, demo tokens
// and API key to stdout, and serves until ctx is done. It returns an error,
// without serving, when the configuration is bad.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	// Step 1: the auths. A random secret and key are fine for a demo; a real
	// service reads them from a secret store.
	secret := []byte(getenv("JWT_SECRET"))
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
	}
	tokens, err := jwt.New(jwt.Config{
		Secret:     secret,
		Algorithms: []string{"HS256"},
		IssuerURL:  "urn:example:items",
		Expiration: time.Hour,
	})
	if err != nil {
		return fmt.Errorf("JWT_SECRET: %w", err)
	}
	key := getenv("API_KEY")
	if key == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		key = hex.EncodeToString(b)
	} else if len(key) < minKeyLength {
		return fmt.Errorf("API_KEY: shorter than %d bytes", minKeyLength)
	}
	verifyKey, err := apikey.Static(map[string]string{"reporting": key})
	if err != nil {
		return fmt.Errorf("API_KEY: %w", err)
	}
	keys := apikey.New(verifyKey, apikey.WithDescription("The key of a service client"))

	// Step 2: listen, then print what curl needs.
	ln, err := serve.Listen(getenv("ADDR"))
	if err != nil {
		return err
	}
	for _, u := range demoUsers {
		tok, err := tokens.Encode(auth.Claims{"sub": u.Sub, "scope": u.Scope}, 0)
		if err != nil {
			ln.Close()
			return fmt.Errorf("minting a demo token for %s: %w", u.Sub, err)
		}
		fmt.Fprintf(stdout, "token for %s (%s): %s\n", u.Sub, u.Scope, tok)
	}
	fmt.Fprintf(stdout, "api key for reporting: %s\n", key)
	fmt.Fprintf(stdout, "docs: %s/docs\n", serve.URL(ln))
	return serve.Serve(ctx, stdout, ln, serve.Server(newAPI(tokens, keys, items.NewStore())))
}

// User is the principal of /me: the token's subject and scopes, as a
// service would load them from its user store.
type User struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// Caller is the principal of /reports, whichever credential it presented.
type Caller struct {
	Name string `json:"name"`
	Via  string `json:"via" enum:"token,api key"`
}

type healthOutput struct {
	Body struct {
		Status string `json:"status" example:"ok"`
	}
}

type meOutput struct{ Body User }

type listOutput struct {
	Body struct {
		For   string       `json:"for" doc:"The subject of the token"`
		Items []items.Item `json:"items"`
	}
}

type itemInput struct {
	ID string `path:"id" doc:"The item's id" example:"1"`
}

type itemOutput struct{ Body items.Item }

type createInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"100" example:"pen"`
	}
}

type createdOutput struct {
	Status int
	Body   items.Item
}

type reportOutput struct {
	Body struct {
		For   Caller `json:"for"`
		Items int    `json:"items" doc:"How many items there are"`
	}
}

// newAPI builds the huma API: its operations, protected and documented by
// authhuma, its OpenAPI document and its docs page.
func newAPI(tokens *jwt.Auth, keys *auth.Auth[apikey.Principal], store *items.Store) http.Handler {
	mux := http.NewServeMux()
	config := huma.DefaultConfig("Items API", "1.0.0")
	config.Info.Description = "Items, guarded by JWT bearer tokens with scopes and by an API key."
	api := humago.New(mux, config)

	// Each auth is built once, here: Requires checks its scopes' syntax at
	// start-up, and authhuma documents exactly what each one checks.
	currentUser := auth.Then(tokens, func(_ context.Context, c auth.Claims) (User, error) {
		sub, _ := c["sub"].(string)
		return User{Name: sub, Scopes: auth.ClaimsScopes(c).Strings()}, nil
	})
	readItems := tokens.Requires("items:read")
	editItems := tokens.Requires("items:edit")
	reporter := auth.AnyOf(
		auth.Then(tokens.Requires("reports:read"), func(_ context.Context, c auth.Claims) (Caller, error) {
			sub, _ := c["sub"].(string)
			return Caller{Name: sub, Via: "token"}, nil
		}),
		auth.Then(keys, func(_ context.Context, p apikey.Principal) (Caller, error) {
			return Caller{Name: p.Owner, Via: "api key"}, nil
		}),
	)

	huma.Register(api, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz", Summary: "Health check",
	}, func(context.Context, *struct{}) (*healthOutput, error) {
		out := &healthOutput{}
		out.Body.Status = "ok"
		return out, nil
	})

	// The handler receives the typed User: no context lookup, no assertion.
	authhuma.Register(api, huma.Operation{
		OperationID: "me", Method: http.MethodGet, Path: "/me", Summary: "The caller",
	}, currentUser, func(_ context.Context, u User, _ *struct{}) (*meOutput, error) {
		return &meOutput{Body: u}, nil
	})

	authhuma.Register(api, huma.Operation{
		OperationID: "list-items", Method: http.MethodGet, Path: "/items", Summary: "List the items",
	}, readItems, func(_ context.Context, c auth.Claims, _ *struct{}) (*listOutput, error) {
		out := &listOutput{}
		out.Body.For, _ = c["sub"].(string)
		out.Body.Items = store.List()
		return out, nil
	})

	authhuma.Register(api, huma.Operation{
		OperationID: "get-item", Method: http.MethodGet, Path: "/items/{id}", Summary: "Get an item",
		Errors: []int{http.StatusNotFound},
	}, readItems, func(_ context.Context, _ auth.Claims, in *itemInput) (*itemOutput, error) {
		it, ok := store.Get(in.ID)
		if !ok {
			return nil, huma.Error404NotFound("No such item")
		}
		return &itemOutput{Body: it}, nil
	})

	authhuma.Register(api, huma.Operation{
		OperationID: "create-item", Method: http.MethodPost, Path: "/items", Summary: "Add an item",
		DefaultStatus: http.StatusCreated, MaxBodyBytes: 1 << 10,
		Errors: []int{http.StatusConflict, http.StatusRequestEntityTooLarge},
	}, editItems, func(_ context.Context, c auth.Claims, in *createInput) (*createdOutput, error) {
		sub, _ := c["sub"].(string)
		it, err := store.Add(in.Body.Name, sub)
		if err != nil {
			status, detail := items.Problem(err) // a full store, a name too long in bytes
			return nil, huma.NewError(status, detail)
		}
		return &createdOutput{Status: http.StatusCreated, Body: it}, nil
	})

	// A token with reports:read or the API key: the document lists both
	// alternatives.
	authhuma.Register(api, huma.Operation{
		OperationID: "reports", Method: http.MethodGet, Path: "/reports", Summary: "The items report",
	}, reporter, func(_ context.Context, who Caller, _ *struct{}) (*reportOutput, error) {
		out := &reportOutput{}
		out.Body.For = who
		out.Body.Items = len(store.List())
		return out, nil
	})

	// Unknown paths get a problem, as every rejection does.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		auth.WriteError(w, r, &auth.Error{Status: http.StatusNotFound, Detail: "No such route"})
	})
	return mux
}
