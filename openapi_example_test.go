package auth_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
)

// A net/http service that keeps its own OpenAPI document fills in the
// security schemes and each operation's security from the auths that guard
// its routes, so the document cannot drift from the code.
func ExampleSecuritySchemes() {
	tokens := auth.NewScoped(auth.Bearer(), func(context.Context, string) (auth.Claims, error) {
		return auth.Claims{}, nil // a real verifier checks the token
	}, nil, auth.WithBearerFormat("JWT"))
	keys := apikey.New(apikey.MustStatic(map[string]string{"ci": "ci-key-0123456789"}))
	service := auth.Then(keys, func(_ context.Context, p apikey.Principal) (auth.Claims, error) {
		return auth.Claims{"sub": p.Owner}, nil
	})

	schemes := auth.SecuritySchemes{}
	listItems := schemes.Require(tokens.Requires("items:read"))
	createItem := schemes.Require(auth.AnyOf(tokens.Requires("items:edit"), service))

	out, _ := json.MarshalIndent(map[string]any{
		"securitySchemes": schemes,
		"GET /items":      listItems,
		"POST /items":     createItem,
	}, "", "  ")
	fmt.Println(string(out))
	// Output:
	// {
	//   "GET /items": [
	//     {
	//       "bearer": [
	//         "items:read"
	//       ]
	//     }
	//   ],
	//   "POST /items": [
	//     {
	//       "bearer": [
	//         "items:edit"
	//       ]
	//     },
	//     {
	//       "header.X-Api-Key": []
	//     }
	//   ],
	//   "securitySchemes": {
	//     "bearer": {
	//       "type": "http",
	//       "scheme": "bearer",
	//       "bearerFormat": "JWT"
	//     },
	//     "header.X-Api-Key": {
	//       "type": "apiKey",
	//       "name": "X-Api-Key",
	//       "in": "header"
	//     }
	//   }
	// }
}

// An entry of your own for a place is used as it is: here the bearer token
// is documented as OAuth 2.0 client credentials, and the flow lists the
// scopes that the routes require.
func ExampleSecuritySchemes_oauth2() {
	tokens := auth.NewScoped(auth.Bearer(), func(context.Context, string) (auth.Claims, error) {
		return auth.Claims{}, nil // a real verifier checks the token
	}, nil)
	schemes := auth.SecuritySchemes{"oauth": {Type: "oauth2", Flows: &auth.OAuthFlows{
		ClientCredentials: &auth.OAuthFlow{
			TokenURL: "https://id.example.com/oauth/token",
			Scopes:   map[string]string{"reports:read": "Read the reports"},
		},
	}}}
	read := schemes.Require(tokens.Requires("reports:read"))
	export := schemes.Require(tokens.Requires("reports:export"))

	out, _ := json.Marshal(map[string]any{"securitySchemes": schemes, "read": read, "export": export})
	fmt.Println(string(out))
	// Output:
	// {"export":[{"oauth":["reports:export"]}],"read":[{"oauth":["reports:read"]}],"securitySchemes":{"oauth":{"type":"oauth2","flows":{"clientCredentials":{"tokenUrl":"https://id.example.com/oauth/token","scopes":{"reports:export":"","reports:read":"Read the reports"}}}}}}
}
