// Package conformance holds the one table of requests that every way of
// serving auth must answer identically: net/http, chi, Echo, Gin and huma. Each
// adapter module builds the routes below with its own router and runs [Run];
// the cases compare the status, every response header line but Date, and the
// exact body, so no adapter can drift from the library's own responses.
//
// # Routes
//
// A server under test serves these routes, guarded by the auths of a
// [Stack] and answering with the Reply functions:
//
//	GET  /public          no auth                       ReplyPublic()
//	GET  /me              Users, as middleware          ReplyMe(user)          (From[User])
//	GET  /typed           Users, typed handler form     ReplyTyped(user)       (principal as argument)
//	GET  /stages          Users, as middleware          ReplyStages(claims, user)
//	GET  /feed            Users, optional               ReplyFeed(user, ok)
//	GET  /reports         Reports, as middleware        ReplyReports(claims)
//	GET  /service         Keys, as middleware           ReplyService(name)     (From[apikey.Principal])
//	GET  /whoami          Either, as middleware         ReplyMe(user)
//	GET  /items           Items on the /items group     ReplyItems(claims)
//	POST /items           Items on the /items group     ReplyCreated(claims)
//	GET  /items/{id}      Items on the /items group     ReplyItem(id, claims)
//
// Successful handlers answer 200 (201 for POST /items) with Content-Type
// [ContentType] and the text of the Reply function; a handler that finds
// no principal where one must be answers 500 with [NoPrincipal], which fails
// the table. The /items routes must be protected once, at the group, not
// route by route.
package conformance

import (
	"context"
	"errors"
	"maps"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
)

// ContentType is the Content-Type of every successful reply.
const ContentType = "text/plain; charset=utf-8"

// NoPrincipal is the body a handler answers with, status 500, when it finds
// no principal where the guard should have stored one.
const NoPrincipal = "no principal"

// APIKey is the one API key that Stack.Keys accepts; its owner is "billing".
const APIKey = "key-billing-7f3a9c"

// User is the principal that Stack.Users loads from a token's subject.
type User struct {
	ID   string
	Name string
}

// Stack holds the auths that the routes are built from. Build one with
// [NewStack]; it is safe for concurrent use.
type Stack struct {
	// Tokens authenticates "Authorization: Bearer" tokens with a
	// deterministic fake verifier that knows the tokens of the table.
	Tokens *auth.ScopedAuth[auth.Claims]
	// Reports is Tokens requiring the scope reports:read.
	Reports *auth.Auth[auth.Claims]
	// Items is Tokens requiring items:read; it protects the /items group.
	Items *auth.Auth[auth.Claims]
	// Users loads a User from a token's subject with auth.Then.
	Users *auth.Auth[User]
	// Keys authenticates the X-Api-Key header against [APIKey].
	Keys *auth.Auth[apikey.Principal]
	// Either accepts a token (as Users) or an API key (as a service User).
	Either *auth.Auth[User]
}

// tokens are the bearer tokens the fake verifier knows, with their claims.
var tokens = map[string]auth.Claims{
	"t-alice":   {"sub": "alice"},
	"t-bob":     {"sub": "bob", "scope": "reports:read"},
	"t-carol":   {"sub": "carol", "scope": "items:read"},
	"t-dave":    {"sub": "dave", "scp": []any{"items:edit"}},
	"t-mallory": {"sub": "mallory"},
	"t-broken":  {"sub": "broken"},
}

// users are the users the loader knows, by subject.
var users = map[string]User{
	"alice": {ID: "u-1", Name: "Alice"},
	"bob":   {ID: "u-2", Name: "Bob"},
	"carol": {ID: "u-3", Name: "Carol"},
	"dave":  {ID: "u-4", Name: "Dave"},
}

// errStoreDown is the loader's failure for the subject "broken": an internal
// error whose text must never reach a client.
var errStoreDown = errors.New("conformance: user store is down (secret-dsn)")

// verifyFake is the fake token verifier: a fixed lookup, plus tokens that
// exercise the verifier's error paths.
func verifyFake(_ context.Context, raw string) (auth.Claims, error) {
	switch raw {
	case "t-expired":
		return nil, auth.Unauthorized("Token has expired")
	case "t-unavailable":
		return nil, auth.Unavailable("Token service unavailable")
	}
	c, ok := tokens[raw]
	if !ok {
		return nil, auth.ErrInvalidCredential
	}
	return maps.Clone(c), nil
}

func loadUser(_ context.Context, c auth.Claims) (User, error) {
	sub, _ := c["sub"].(string)
	if sub == "broken" {
		return User{}, errStoreDown
	}
	u, ok := users[sub]
	if !ok {
		return User{}, auth.Unauthorized("Unknown user")
	}
	return u, nil
}

// NewStack returns the auths of the table.
func NewStack() *Stack {
	tokens := auth.NewScoped(auth.Bearer(), verifyFake, nil)
	users := auth.Then(tokens.Auth, loadUser)
	keys := apikey.New(apikey.MustStatic(map[string]string{"billing": APIKey}))
	service := auth.Then(keys, func(_ context.Context, p apikey.Principal) (User, error) {
		return User{ID: "svc-" + p.Owner, Name: p.Owner}, nil
	})
	return &Stack{
		Tokens:  tokens,
		Reports: tokens.Requires("reports:read"),
		Items:   tokens.Requires("items:read"),
		Users:   users,
		Keys:    keys,
		Either:  auth.AnyOf(users, service),
	}
}

// ReplyPublic is the reply of GET /public.
func ReplyPublic() string { return "public" }

// ReplyMe is the reply of GET /me and GET /whoami.
func ReplyMe(u User) string { return "me " + u.ID + " " + u.Name }

// ReplyTyped is the reply of GET /typed.
func ReplyTyped(u User) string { return "typed " + u.ID + " " + u.Name }

// ReplyStages is the reply of GET /stages: the claims of the first stage and the
// User of the second, both read from the request's context.
func ReplyStages(c auth.Claims, u User) string {
	return "stages " + sub(c) + " " + u.Name
}

// ReplyFeed is the reply of GET /feed, with ok false for an anonymous request.
func ReplyFeed(u User, ok bool) string {
	if !ok {
		return "feed anonymous"
	}
	return "feed " + u.Name
}

// ReplyReports is the reply of GET /reports.
func ReplyReports(c auth.Claims) string { return "reports " + sub(c) }

// ReplyService is the reply of GET /service.
func ReplyService(name string) string { return "service " + name }

// ReplyItems is the reply of GET /items.
func ReplyItems(c auth.Claims) string { return "items " + sub(c) }

// ReplyCreated is the reply of POST /items, with status 201.
func ReplyCreated(c auth.Claims) string { return "created by " + sub(c) }

// ReplyItem is the reply of GET /items/{id}.
func ReplyItem(id string, c auth.Claims) string {
	return "item " + id + " " + sub(c)
}

func sub(c auth.Claims) string {
	s, _ := c["sub"].(string)
	return s
}
