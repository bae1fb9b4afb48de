package authecho_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v4"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/echo"
)

// User is an application's own principal type.
type User struct {
	ID   string
	Name string
}

// exampleTokens stands in for a JWT verifier: it knows two opaque tokens.
func exampleTokens() *auth.ScopedAuth[auth.Claims] {
	known := map[string]auth.Claims{
		"reader-token": {"sub": "u-1", "scope": "items:read"},
		"guest-token":  {"sub": "u-2"},
	}
	return auth.NewScoped(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
		c, ok := known[raw]
		if !ok {
			return nil, auth.ErrInvalidCredential
		}
		return c, nil
	}, nil)
}

func do(h http.Handler, method, target, token string) {
	req := httptest.NewRequest(method, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Printf("%s %s: %d %s\n", method, target, rec.Code, rec.Body)
}

// One scope requirement protects every route of a group, as a router-level
// dependency does; routes outside the group stay open.
func Example_group() {
	tokens := exampleTokens()

	e := echo.New()
	e.GET("/health", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	items := e.Group("/items", authecho.Middleware(tokens.Requires("items:read")))
	items.GET("/:id", func(c echo.Context) error {
		claims := authecho.MustFrom[auth.Claims](c)
		return c.String(http.StatusOK, fmt.Sprintf("item %s for %s", c.Param("id"), claims["sub"]))
	})

	do(e, "GET", "/health", "")
	do(e, "GET", "/items/7", "reader-token")
	do(e, "GET", "/items/7", "guest-token")
	// Output:
	// GET /health: 200 ok
	// GET /items/7: 200 item 7 for u-1
	// GET /items/7: 403 {"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: items:read"}
}

// Handler gives the handler a typed principal as an argument: here a User
// loaded from the token's subject by auth.Then.
func ExampleHandler() {
	tokens := exampleTokens()
	currentUser := auth.Then(tokens, func(_ context.Context, c auth.Claims) (User, error) {
		return User{ID: c["sub"].(string), Name: "Ada"}, nil
	})

	e := echo.New()
	e.GET("/me", authecho.Handler(currentUser, func(c echo.Context, u User) error {
		return c.String(http.StatusOK, "hello "+u.Name+" ("+u.ID+")")
	}))

	do(e, "GET", "/me", "guest-token")
	do(e, "GET", "/me", "")
	// Output:
	// GET /me: 200 hello Ada (u-2)
	// GET /me: 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Missing credentials"}
}

// Optional serves anonymous requests too; From reports whether there is a
// principal.
func ExampleOptional() {
	tokens := exampleTokens()

	e := echo.New()
	e.GET("/feed", func(c echo.Context) error {
		if claims, ok := authecho.From[auth.Claims](c); ok {
			return c.String(http.StatusOK, fmt.Sprint("feed for ", claims["sub"]))
		}
		return c.String(http.StatusOK, "public feed")
	}, authecho.Optional(tokens))

	do(e, "GET", "/feed", "")
	do(e, "GET", "/feed", "reader-token")
	do(e, "GET", "/feed", "forged")
	// Output:
	// GET /feed: 200 public feed
	// GET /feed: 200 feed for u-1
	// GET /feed: 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Invalid credentials"}
}
