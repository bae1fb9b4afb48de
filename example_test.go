package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
)

// send serves a GET of target to h with the given header lines (name, value,
// name, value…) and prints the status, the challenges and the body.
func send(h http.Handler, target string, kv ...string) {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Code)
	for _, c := range w.Header().Values("WWW-Authenticate") {
		fmt.Printf(" [%s]", c)
	}
	fmt.Printf(" %s\n", w.Body)
}

// exampleTokens stands in for a token verifier such as package jwt: it maps
// opaque tokens to their claims.
func exampleTokens(_ context.Context, raw string) (auth.Claims, error) {
	switch raw {
	case "tok-alice":
		return auth.Claims{"sub": "alice", "scope": "reports:read reports:write"}, nil
	case "tok-bob":
		return auth.Claims{"sub": "bob", "scope": "reports:read"}, nil
	}
	return nil, auth.Unauthorized("Unknown token")
}

// New pairs a scheme with a verifier; any principal type works.
func ExampleNew() {
	type Session struct{ User string }
	sessions := auth.New(auth.Cookie("session"), func(_ context.Context, id string) (Session, error) {
		if id == "s-42" {
			return Session{User: "alice"}, nil
		}
		return Session{}, auth.Unauthorized("Session expired")
	}, auth.WithChallenge("", "")) // a browser session: no WWW-Authenticate

	h := sessions.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := auth.From[Session](r.Context())
		fmt.Fprintf(w, "hello %s", s.User)
	}))
	send(h, "/", "Cookie", "session=s-42")
	send(h, "/", "Cookie", "session=s-41")
	// Output:
	// 200 hello alice
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Session expired"}
}

// Guard protects a handler, or a whole subtree of a ServeMux.
func ExampleAuth_Guard() {
	tokens := auth.New(auth.Bearer(), exampleTokens)

	admin := http.NewServeMux()
	admin.HandleFunc("GET /admin/stats", func(w http.ResponseWriter, r *http.Request) {
		c := auth.MustFrom[auth.Claims](r.Context())
		fmt.Fprintf(w, "stats for %s", c["sub"])
	})
	mux := http.NewServeMux()
	mux.Handle("/admin/", tokens.Guard(admin))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })

	send(mux, "/health")
	send(mux, "/admin/stats")
	send(mux, "/admin/stats", "Authorization", "Bearer tok-bob")
	send(mux, "/admin/stats", "Authorization", "Bearer forged")
	send(mux, "/admin/stats", "Authorization", "Bearer a b")
	// Output:
	// 200 ok
	// 401 [Bearer] {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Missing credentials"}
	// 200 stats for bob
	// 401 [Bearer error="invalid_token", error_description="Unknown token"] {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Unknown token"}
	// 400 [Bearer error="invalid_request", error_description="The token is not a single token68 value"] {"type":"about:blank","title":"Bad Request","status":400,"detail":"The token is not a single token68 value"}
}

// Requires narrows a token auth to the requests whose token holds every
// listed scope; others get 403.
func ExampleScopedAuth_Requires() {
	tokens := auth.NewScoped(auth.Bearer(), exampleTokens, nil)
	create := tokens.Requires("reports:read", "reports:write").Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "created")
	}))

	send(create, "/reports", "Authorization", "Bearer tok-alice")
	send(create, "/reports", "Authorization", "Bearer tok-bob")
	// Output:
	// 200 created
	// 403 [Bearer error="insufficient_scope", scope="reports:read reports:write"] {"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: reports:write"}
}

// Then loads the user behind a token, so handlers receive a User rather than
// claims. A loader's own failure is a 500 whose text the client never sees.
func ExampleThen() {
	type User struct{ ID, Name string }
	errDB := errors.New("db: connection refused")
	tokens := auth.NewScoped(auth.Bearer(), exampleTokens, nil)
	currentUser := auth.Then(tokens.Requires("reports:read"), func(ctx context.Context, c auth.Claims) (User, error) {
		switch c["sub"] {
		case "alice":
			return User{ID: "alice", Name: "Alice"}, nil
		case "bob":
			return User{}, errDB
		}
		return User{}, auth.Unauthorized("Unknown user")
	})

	h := currentUser.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := auth.MustFrom[User](r.Context())
		c := auth.MustFrom[auth.Claims](r.Context()) // every stage stays available
		fmt.Fprintf(w, "%s (%s)", u.Name, c["scope"])
	}))
	send(h, "/me", "Authorization", "Bearer tok-alice")
	send(h, "/me", "Authorization", "Bearer tok-bob")
	// Output:
	// 200 Alice (reports:read reports:write)
	// 500 {"type":"about:blank","title":"Internal Server Error","status":500,"detail":"Internal Server Error"}
}

// AnyOf accepts a bearer token or an API key, both loaded into one User.
// The first auth that finds a credential decides; with none, the 401 offers
// both challenges.
func ExampleAnyOf() {
	type User struct{ Name string }
	byToken := auth.Then(auth.New(auth.Bearer(), exampleTokens), func(_ context.Context, c auth.Claims) (User, error) {
		return User{Name: c["sub"].(string)}, nil
	})
	byKey := auth.Then(apikey.New(apikey.MustStatic(map[string]string{"ci": "ci-key-0123456789"})), func(_ context.Context, key apikey.Principal) (User, error) {
		return User{Name: "service " + key.Owner}, nil
	})
	users := auth.AnyOf(byToken, byKey)

	h := users.Handler(func(w http.ResponseWriter, r *http.Request, u User) { fmt.Fprint(w, u.Name) })
	send(h, "/", "Authorization", "Bearer tok-alice")
	send(h, "/", "X-Api-Key", "ci-key-0123456789")
	send(h, "/", "Authorization", "Bearer forged", "X-Api-Key", "ci-key-0123456789")
	send(h, "/")
	// Output:
	// 200 alice
	// 200 service ci
	// 401 [Bearer error="invalid_token", error_description="Unknown token"] {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Unknown token"}
	// 401 [Bearer] [APIKey] {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Missing credentials"}
}

// Optional serves anonymous requests too, but still rejects a bad credential.
func ExampleAuth_Optional() {
	tokens := auth.New(auth.Bearer(), exampleTokens)
	feed := tokens.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := auth.From[auth.Claims](r.Context()); ok {
			fmt.Fprintf(w, "feed for %s", c["sub"])
			return
		}
		fmt.Fprint(w, "public feed")
	}))

	send(feed, "/feed")
	send(feed, "/feed", "Authorization", "Bearer tok-bob")
	send(feed, "/feed", "Authorization", "Bearer forged")
	// Output:
	// 200 public feed
	// 200 feed for bob
	// 401 [Bearer error="invalid_token", error_description="Unknown token"] {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Unknown token"}
}

// Handler hands the principal to the handler as a typed argument.
func ExampleAuth_Handler() {
	tokens := auth.New(auth.Bearer(), exampleTokens)
	me := tokens.Handler(func(w http.ResponseWriter, r *http.Request, c auth.Claims) {
		fmt.Fprintf(w, "you are %s", c["sub"])
	})

	send(me, "/me", "Authorization", "bearer tok-alice")
	send(me, "/me", "Authorization", "Basic YWxpY2U6cHc=")
	// Output:
	// 200 you are alice
	// 401 [Bearer] {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Missing credentials"}
}
