// Package authchi documents and tests the use of package
// [github.com/typedauth/auth] with the chi router. It exports nothing, on
// purpose: chi middleware is func(http.Handler) http.Handler, which is
// exactly the type of [auth.Auth.Guard] and [auth.Auth.Optional], and chi
// handlers are net/http handlers that read the principal with [auth.From].
// An adapter would only add a layer. The package's tests run the shared
// conformance table against chi, and its examples show each way of
// attaching an auth:
//
//	r := chi.NewRouter()
//	r.Use(tokens.Guard)                                   // every route, 404s included
//	r.With(tokens.Requires("reports:read").Guard).Get("/reports", reports)
//	r.With(currentUser.Optional).Get("/feed", feed)       // principal if present
//	r.Get("/me", currentUser.Handler(me).ServeHTTP)        // principal as an argument
//
// One guard or scope requirement for every route under a prefix, as a
// router-level dependency:
//
//	r.Route("/items", func(r chi.Router) {
//		r.Use(tokens.Requires("items:read").Guard)
//		r.Get("/", listItems)
//		r.Get("/{id}", getItem)                           // chi.URLParam still works
//	})
//
// or, without a prefix, for a set of routes:
//
//	r.Group(func(r chi.Router) {
//		r.Use(currentUser.Guard)
//		r.Get("/me", me)
//	})
//
// Middleware added with r.Use runs before chi routes the request, so with a
// guard at the root an unauthenticated client gets 401 for unknown paths too
// and learns nothing about which routes exist. Inside r.Route the same holds
// under the prefix.
//
// In a handler, the principal is typed: u, ok := auth.From[User](r.Context()),
// or auth.MustFrom on routes that are always guarded.
//
// The module is separate from the root module so that chi never enters the
// dependency graph of a service that does not use it.
package authchi
