// Package authgin protects Gin routes with the auths of package
// [github.com/typedauth/auth] and hands handlers their typed principal.
//
// Every rejection is written by the auth itself, with its error writer
// ([auth.WriteError] unless [auth.WithErrorWriter] replaced it), so a Gin
// service answers byte for byte as a net/http one does: RFC 9457 problem
// details with the RFC 6750 WWW-Authenticate header. The middleware then
// aborts the chain, so no later middleware or handler runs; nothing is added
// to c.Errors, since a rejected request is an answered request, not a
// server error.
//
//	r := gin.New()
//	r.GET("/me", authgin.Middleware(currentUser), me)          // one route
//	items := r.Group("/items", authgin.Middleware(tokens.Requires("items:read")))
//	items.GET("/:id", getItem)                                 // every route of the group
//
//	func me(c *gin.Context) {
//		u := authgin.MustFrom[User](c)
//		c.String(http.StatusOK, u.Name)
//	}
//
// Gin runs group middleware only for the routes registered on the group: an
// unknown path under the prefix gets Gin's 404 without authentication. Use
// r.Use for middleware that must run on every request, 404s included.
//
// The principal is stored in the request's context (c.Request.Context()),
// where [auth.From] finds it as well; it is not copied into Gin's c.Set
// store.
package authgin

import (
	"fmt"
	"net/http"
	"reflect"

	"github.com/gin-gonic/gin"

	"github.com/typedauth/auth"
)

// Middleware returns Gin middleware that authenticates each request with a,
// which is any [auth.Auth] (a scope requirement, a [auth.Then] chain, an
// [auth.AnyOf]). A request that a rejects gets a's error response and the
// chain is aborted, so no later handler runs. An accepted request continues
// with the principal in its context, read with [From].
//
// Use it on a route, on a group (every route registered on the group) or
// with r.Use (every request). It is safe for concurrent use. Middleware
// panics if a is nil.
func Middleware(a auth.Guarder) gin.HandlerFunc {
	if a == nil {
		panic("authgin: Middleware: nil Guarder")
	}
	return middleware(a.Protect)
}

// middleware runs protect, which writes the response of a rejected request
// itself, and aborts the chain or continues with the request it returns.
func middleware(protect func(http.ResponseWriter, *http.Request) (*http.Request, bool)) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := protect(c.Writer, c.Request)
		if !ok {
			c.Abort()
			return
		}
		c.Request = r
		c.Next()
	}
}

// Optional returns Gin middleware for routes where a credential is
// optional: a request without one continues with no principal ([From]
// reports false for the auth's types, even if an earlier middleware stored
// one), while a credential that is present but invalid is still
// rejected, as by [Middleware]. Optional panics if a is nil.
func Optional(a auth.Guarder) gin.HandlerFunc {
	if a == nil {
		panic("authgin: Optional: nil Guarder")
	}
	return middleware(a.ProtectOptional)
}

// From returns the principal of type P that [Middleware], [Optional] or
// [Handler] stored for the request of c. With an auth built by [auth.Then],
// the principal of every stage is available under its own type. It reports
// false when there is none, as on an anonymous request through [Optional].
func From[P any](c *gin.Context) (P, bool) {
	return auth.From[P](c.Request.Context())
}

// MustFrom is like [From] but panics when the request carries no principal
// of type P. Use it only in handlers that a middleware always protects,
// where a missing principal is a wiring bug.
func MustFrom[P any](c *gin.Context) P {
	p, ok := From[P](c)
	if !ok {
		panic(fmt.Sprintf("authgin: no principal of type %s for this request; is the route behind authgin.Middleware?", reflect.TypeFor[P]()))
	}
	return p
}

// Handler returns a Gin handler guarded by a that receives the principal as
// an argument. a is any [auth.Source]: an *auth.Auth, a *jwt.Auth, an auth
// built with auth.Then, and so on.
//
//	r.GET("/me", authgin.Handler(currentUser, func(c *gin.Context, u User) {
//		c.String(http.StatusOK, u.Name)
//	}))
//
// A rejected request gets a's error response, the chain is aborted and h is
// not called. The principal is in the request context as well, so [From]
// works inside h. Handler panics if a or h is nil.
func Handler[P any](a auth.Source[P], h func(c *gin.Context, p P)) gin.HandlerFunc {
	if a == nil {
		panic("authgin: Handler: nil Auth")
	}
	if h == nil {
		panic("authgin: Handler: nil handler func")
	}
	return func(c *gin.Context) {
		r, ok := a.Protect(c.Writer, c.Request)
		if !ok {
			c.Abort()
			return
		}
		c.Request = r
		p, _ := auth.From[P](r.Context()) // Protect stored it; zero only for a nil interface principal
		h(c, p)
	}
}
