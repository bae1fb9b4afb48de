package authgin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/gin"
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

	r := gin.New()
	r.GET("/health", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	items := r.Group("/items", authgin.Middleware(tokens.Requires("items:read")))
	items.GET("/:id", func(c *gin.Context) {
		claims := authgin.MustFrom[auth.Claims](c)
		c.String(http.StatusOK, "item %s for %s", c.Param("id"), claims["sub"])
	})

	do(r, "GET", "/health", "")
	do(r, "GET", "/items/7", "reader-token")
	do(r, "GET", "/items/7", "guest-token")
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

	r := gin.New()
	r.GET("/me", authgin.Handler(currentUser, func(c *gin.Context, u User) {
		c.String(http.StatusOK, "hello %s (%s)", u.Name, u.ID)
	}))

	do(r, "GET", "/me", "guest-token")
	do(r, "GET", "/me", "")
	// Output:
	// GET /me: 200 hello Ada (u-2)
	// GET /me: 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Missing credentials"}
}

// Optional serves anonymous requests too; From reports whether there is a
// principal.
func ExampleOptional() {
	tokens := exampleTokens()

	r := gin.New()
	r.GET("/feed", authgin.Optional(tokens), func(c *gin.Context) {
		if claims, ok := authgin.From[auth.Claims](c); ok {
			c.String(http.StatusOK, "feed for %s", claims["sub"])
			return
		}
		c.String(http.StatusOK, "public feed")
	})

	do(r, "GET", "/feed", "")
	do(r, "GET", "/feed", "reader-token")
	do(r, "GET", "/feed", "forged")
	// Output:
	// GET /feed: 200 public feed
	// GET /feed: 200 feed for u-1
	// GET /feed: 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Invalid credentials"}
}
