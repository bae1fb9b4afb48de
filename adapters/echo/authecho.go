// Package authecho protects Echo (v4) routes with the auths of package
// [github.com/typedauth/auth] and hands handlers their typed principal.
//
// Every rejection is written by the auth itself, with its error writer
// ([auth.WriteError] unless [auth.WithErrorWriter] replaced it), so an Echo
// service answers byte for byte as a net/http one does: RFC 9457 problem
// details with the RFC 6750 WWW-Authenticate header. The middleware then
// returns nil, so Echo's HTTPErrorHandler never sees, rewrites or logs an
// authentication failure as an error; errors that handlers return reach it
// as usual.
//
//	e := echo.New()
//	e.GET("/me", me, authecho.Middleware(currentUser))          // one route
//	items := e.Group("/items", authecho.Middleware(tokens.Requires("items:read")))
//	items.GET("/:id", getItem)                                  // every route of the group
//
//	func me(c echo.Context) error {
//		u := authecho.MustFrom[User](c)
//		return c.String(http.StatusOK, u.Name)
//	}
//
// Group middleware runs for unknown paths under the group's prefix too
// (Echo registers a catch-all route for the group), so an unauthenticated
// client gets 401, not 404, and learns nothing about which routes exist.
//
// The principal is stored in the request's context, where [auth.From] finds
// it as well; it is not copied into Echo's c.Set store.
//
// Wrapping a.Guard with [echo.WrapMiddleware] gives the same responses;
// [Middleware] does so without wrapping Echo's response on every request.
package authecho

import (
	"fmt"
	"net/http"
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/typedauth/auth"
)

// Middleware returns Echo middleware that authenticates each request with a,
// which is any [auth.Auth] (a scope requirement, a [auth.Then] chain, an
// [auth.AnyOf]). A request that a rejects gets a's error response and the
// chain stops: next is not called and the middleware returns nil. An
// accepted request continues with the principal in its context, read with
// [From].
//
// Use it on a route, on a group (every route under the prefix) or with
// e.Use (every route). It is safe for concurrent use. Middleware panics if a
// is nil.
func Middleware(a auth.Guarder) echo.MiddlewareFunc {
	if a == nil {
		panic("authecho: Middleware: nil Guarder")
	}
	return middleware(a.Protect)
}

// middleware runs protect, which writes the response of a rejected request
// itself: the handler then returns nil, so that Echo's error handler leaves
// that response alone. An accepted request continues with the request
// protect returns.
func middleware(protect func(http.ResponseWriter, *http.Request) (*http.Request, bool)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r, ok := protect(c.Response(), c.Request())
			if !ok {
				return nil
			}
			c.SetRequest(r)
			return next(c)
		}
	}
}

// Optional returns Echo middleware for routes where a credential is
// optional: a request without one continues with no principal ([From]
// reports false for the auth's types, even if an earlier middleware stored
// one), while a credential that is present but invalid is still
// rejected, as by [Middleware]. Optional panics if a is nil.
func Optional(a auth.Guarder) echo.MiddlewareFunc {
	if a == nil {
		panic("authecho: Optional: nil Guarder")
	}
	return middleware(a.ProtectOptional)
}

// From returns the principal of type P that [Middleware], [Optional] or
// [Handler] stored for the request of c. With an auth built by [auth.Then],
// the principal of every stage is available under its own type. It reports
// false when there is none, as on an anonymous request through [Optional].
func From[P any](c echo.Context) (P, bool) {
	return auth.From[P](c.Request().Context())
}

// MustFrom is like [From] but panics when the request carries no principal
// of type P. Use it only in handlers that a middleware always protects,
// where a missing principal is a wiring bug.
func MustFrom[P any](c echo.Context) P {
	p, ok := From[P](c)
	if !ok {
		panic(fmt.Sprintf("authecho: no principal of type %s for this request; is the route behind authecho.Middleware?", reflect.TypeFor[P]()))
	}
	return p
}

// Handler returns an Echo handler guarded by a that receives the principal
// as an argument. a is any [auth.Source]: an *auth.Auth, a *jwt.Auth, an
// auth built with auth.Then, and so on.
//
//	e.GET("/me", authecho.Handler(currentUser, func(c echo.Context, u User) error {
//		return c.String(http.StatusOK, u.Name)
//	}))
//
// A rejected request gets a's error response and h is not called. The
// principal is in the request context as well, so [From] works inside h.
// Errors that h returns go to Echo's HTTPErrorHandler as usual. Echo v4
// applies route middleware anew on every request, so on a single route
// Handler saves the allocation that [Middleware] costs there. Handler panics
// if a or h is nil.
func Handler[P any](a auth.Source[P], h func(c echo.Context, p P) error) echo.HandlerFunc {
	if a == nil {
		panic("authecho: Handler: nil Auth")
	}
	if h == nil {
		panic("authecho: Handler: nil handler func")
	}
	return func(c echo.Context) error {
		r, ok := a.Protect(c.Response(), c.Request())
		if !ok {
			return nil
		}
		c.SetRequest(r)
		p, _ := auth.From[P](r.Context()) // Protect stored it; zero only for a nil interface principal
		return h(c, p)
	}
}
