package authhuma_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/huma"
)

// verifyDemo is a stand-in for a real token verifier such as jwt.New: the
// token "t-ann" grants items:read, "t-bob" grants nothing.
func verifyDemo(_ context.Context, raw string) (auth.Claims, error) {
	switch raw {
	case "t-ann":
		return auth.Claims{"sub": "ann", "scope": "items:read"}, nil
	case "t-bob":
		return auth.Claims{"sub": "bob"}, nil
	}
	return nil, auth.ErrInvalidCredential
}

type ItemsOutput struct {
	Body struct {
		For   string   `json:"for"`
		Items []string `json:"items"`
	}
}

// Register guards an operation, hands its handler the typed principal and
// documents the operation's security with the scopes it requires.
func ExampleRegister() {
	tokens := auth.NewScoped(auth.Bearer(), verifyDemo, nil, auth.WithBearerFormat("JWT"))

	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Items", "1.0.0"))
	authhuma.Register(api, huma.Operation{OperationID: "list-items", Method: http.MethodGet, Path: "/items"},
		tokens.Requires("items:read"),
		func(_ context.Context, claims auth.Claims, _ *struct{}) (*ItemsOutput, error) {
			out := &ItemsOutput{}
			out.Body.For, _ = claims["sub"].(string)
			out.Body.Items = []string{"pen"}
			return out, nil
		})

	for _, authorization := range []string{"", "Bearer t-bob", "Bearer t-ann"} {
		req := httptest.NewRequest(http.MethodGet, "/items", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Values("WWW-Authenticate"))
	}

	security, _ := json.Marshal(api.OpenAPI().Paths["/items"].Get.Security)
	scheme, _ := json.Marshal(api.OpenAPI().Components.SecuritySchemes["bearer"])
	fmt.Println(string(security))
	fmt.Println(string(scheme))
	// Output:
	// 401 [Bearer]
	// 403 [Bearer error="insufficient_scope", scope="items:read"]
	// 200 []
	// [{"bearer":["items:read"]}]
	// {"bearerFormat":"JWT","scheme":"bearer","type":"http"}
}

// Group protects every operation registered on a group afterwards, once.
func ExampleGroup() {
	tokens := auth.NewScoped(auth.Bearer(), verifyDemo, nil)

	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Items", "1.0.0"))
	items := huma.NewGroup(api, "/items")
	authhuma.Group(items, tokens.Requires("items:read"))
	huma.Get(items, "/{id}", func(ctx context.Context, in *struct {
		ID string `path:"id"`
	}) (*ItemsOutput, error) {
		claims := auth.MustFrom[auth.Claims](ctx) // the group's middleware stored them
		out := &ItemsOutput{}
		out.Body.For, _ = claims["sub"].(string)
		out.Body.Items = []string{in.ID}
		return out, nil
	})

	req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
	req.Header.Set("Authorization", "Bearer t-ann")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	security, _ := json.Marshal(api.OpenAPI().Paths["/items/{id}"].Get.Security)
	fmt.Println(string(security))
	// Output:
	// 200
	// [{"bearer":["items:read"]}]
}
