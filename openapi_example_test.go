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
