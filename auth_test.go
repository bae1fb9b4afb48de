package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/scopes"
)

func TestRequiresForbiddenBody(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	h := a.Requires("reports:read", "reports:write").Guard(subHandler)

	rec := serve(t, h, newRequest(t, "/reports", bearer("bob-token")))
	const wantBody = `{"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: reports:write"}`
	if got := rec.Body.String(); got != wantBody {
		t.Errorf("body = %s; want %s", got, wantBody)
	}
	if rec.Code != http.StatusForbidden {
		t.Errorf("status = %d; want 403", rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type = %q; want application/problem+json", got)
	}
	checkChallenges(t, rec, `Bearer error="insufficient_scope", scope="reports:read reports:write"`)
}

func TestRequires(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		required   []string
		token      string
		wantStatus int
		wantDetail string
		wantChall  []string
	}{
		{name: "scope claim grants both", required: []string{"reports:read", "reports:write"}, token: "alice-token", wantStatus: http.StatusOK},
		{name: "scp array grants both", required: []string{"reports:read", "reports:write"}, token: "carol-token", wantStatus: http.StatusOK},
		{name: "scp string grants both", required: []string{"reports:read", "reports:write"}, token: "dave-token", wantStatus: http.StatusOK},
		{name: "scp string lacks one", required: []string{"reports:read", "admin:read"}, token: "dave-token",
			wantStatus: http.StatusForbidden, wantDetail: "Token is missing required scope: admin:read",
			wantChall: []string{`Bearer error="insufficient_scope", scope="reports:read admin:read"`}},
		{name: "edit implies read", required: []string{"reports:read"}, token: "alice-token", wantStatus: http.StatusOK},
		{name: "no scope required", token: "ghost-token", wantStatus: http.StatusOK},
		{name: "first missing is reported", required: []string{"admin:read", "reports:write"}, token: "bob-token",
			wantStatus: http.StatusForbidden, wantDetail: "Token is missing required scope: admin:read",
			wantChall: []string{`Bearer error="insufficient_scope", scope="admin:read reports:write"`}},
		{name: "token without scopes", required: []string{"reports:read"}, token: "ghost-token",
			wantStatus: http.StatusForbidden, wantDetail: "Token is missing required scope: reports:read",
			wantChall: []string{`Bearer error="insufficient_scope", scope="reports:read"`}},
		{name: "invalid token is 401, not 403", required: []string{"reports:read"}, token: "forged",
			wantStatus: http.StatusUnauthorized, wantDetail: "Unknown token",
			wantChall: []string{`Bearer error="invalid_token", error_description="Unknown token"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newTokenAuth(t)
			rec := serve(t, a.Requires(tt.required...).Guard(subHandler), newRequest(t, "/", bearer(tt.token)))
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK {
					t.Errorf("status = %d; want 200 (body %q)", rec.Code, rec.Body.String())
				}
			} else {
				checkProblem(t, rec, tt.wantStatus, tt.wantDetail)
			}
			checkChallenges(t, rec, tt.wantChall...)

			_, err := a.Requires(tt.required...).Authenticate(newRequest(t, "/", bearer(tt.token)))
			if tt.wantStatus == http.StatusForbidden {
				var se *auth.ScopeError
				if !errors.Is(err, auth.ErrForbidden) || !errors.As(err, &se) {
					t.Fatalf("Authenticate error = %v; want a ScopeError matching ErrForbidden", err)
				}
				if want := "auth: missing required scope " + se.Missing; se.Error() != want || len(se.Required) != len(tt.required) {
					t.Errorf("ScopeError = %q %q; want %q, required %q", se.Error(), se.Required, want, tt.required)
				}
			}
		})
	}
}

func TestRequiresPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		required []string
		wantMsg  string
	}{
		{name: "empty", required: []string{"a:read", ""}, wantMsg: `auth: Requires("a:read", ""): scopes: empty scope`},
		{name: "space", required: []string{"a:read b:read"}, wantMsg: `invalid character ' ' at byte 6`},
		{name: "quote", required: []string{`a"b`}, wantMsg: `invalid character '"'`},
		{name: "too long", required: []string{strings.Repeat("x", scopes.MaxLength+1)}, wantMsg: "scope of 256 bytes is longer than 255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newTokenAuth(t)
			msg := panicMessage(t, func() { a.Requires(tt.required...) })
			if !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("panic %q; want it to contain %q", msg, tt.wantMsg)
			}
		})
	}
	a, _ := newTokenAuth(t)
	if msg := panicMessage(t, func() { a.Requires(strings.Repeat("x", scopes.MaxLength)) }); msg != "" {
		t.Errorf("Requires of a %d-byte scope panicked: %s", scopes.MaxLength, msg)
	}
}

// panicMessage runs f and returns the text of its panic, or "".
func panicMessage(tb testing.TB, f func()) (msg string) {
	tb.Helper()
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestRequiresCopiesItsArguments(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	req := []string{"reports:read"}
	guard := a.Requires(req...).Guard(subHandler)
	req[0] = "admin:read" // must not affect the guard built above
	if rec := serve(t, guard, newRequest(t, "/", bearer("bob-token"))); rec.Code != http.StatusOK {
		t.Errorf("status = %d; want 200", rec.Code)
	}
}

func TestWithScopeValidator(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t, auth.WithScopeValidator(scopes.Simple{}))
	if _, ok := a.Validator().(scopes.Simple); !ok {
		t.Fatalf("Validator() = %T; want scopes.Simple", a.Validator())
	}
	// alice holds reports:write, which implies nothing under Simple.
	rec := serve(t, a.Requires("reports:edit").Guard(subHandler), newRequest(t, "/", bearer("alice-token")))
	checkProblem(t, rec, http.StatusForbidden, "Token is missing required scope: reports:edit")
}

// scopedUser carries its own scopes.
type scopedUser struct {
	name   string
	scopes []string
}

func (u scopedUser) Scopes() scopes.Set { return scopes.Of(u.scopes...) }

type ptrScoped struct{}

func (*ptrScoped) Scopes() scopes.Set { return scopes.Set{} }

func TestScopedReaders(t *testing.T) {
	t.Parallel()
	verify := func(_ context.Context, raw string) (scopedUser, error) {
		return scopedUser{name: raw, scopes: []string{"docs:edit"}}, nil
	}
	a := auth.NewScoped(auth.Bearer(), verify, nil)
	if rec := serve(t, a.Requires("docs:read").Guard(subHandler), newRequest(t, "/", bearer("x"))); rec.Code != http.StatusTeapot {
		// subHandler looks for Claims: 418 proves the guard let the request through.
		t.Errorf("Scoper principal: status = %d; want the handler to run", rec.Code)
	}
	custom := auth.NewScoped(auth.Bearer(), verify, func(scopedUser) scopes.Set { return scopes.Parse("docs:read") })
	if rec := serve(t, custom.Requires("docs:edit").Guard(subHandler), newRequest(t, "/", bearer("x"))); rec.Code != http.StatusForbidden {
		t.Errorf("custom reader: status = %d; want 403", rec.Code)
	}

	tests := []struct {
		name    string
		build   func()
		wantMsg string
	}{
		{name: "string principal", build: func() {
			auth.NewScoped(auth.Bearer(), func(context.Context, string) (string, error) { return "", nil }, nil)
		}, wantMsg: "auth: Scoped: cannot read scopes from string; give a scope reader"},
		{name: "pointer receiver", build: func() {
			auth.NewScoped(auth.Bearer(), func(context.Context, string) (ptrScoped, error) { return ptrScoped{}, nil }, nil)
		}, wantMsg: "auth: Scoped: auth_test.ptrScoped has a pointer-receiver Scopes method; give a scope reader"},
		{name: "interface principal", build: func() {
			auth.NewScoped(auth.Bearer(), func(context.Context, string) (fmt.Stringer, error) { return nil, nil }, nil)
		}, wantMsg: "auth: Scoped: cannot read scopes from fmt.Stringer; give a scope reader"},
		{name: "nil auth", build: func() { auth.Scoped[auth.Claims](nil, nil) }, wantMsg: "auth: Scoped: nil or zero Auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if msg := panicMessage(t, tt.build); msg != tt.wantMsg {
				t.Errorf("panic %q; want %q", msg, tt.wantMsg)
			}
		})
	}
}

// account is the second Then stage: User → Account.
func loadAccount(tb testing.TB) func(context.Context, User) (Account, error) {
	return func(ctx context.Context, u User) (Account, error) {
		// Every earlier stage is in the loader's context.
		c, ok := auth.From[auth.Claims](ctx)
		if !ok || c["sub"] != u.ID {
			tb.Errorf("loadAccount: claims in context = %v, %v; want sub %q", c, ok, u.ID)
		}
		if u.ID == "carol" {
			return Account{}, auth.Forbidden("Account closed")
		}
		return Account{Owner: u.ID, Balance: len(u.Name)}, nil
	}
}

func TestThen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		wantStatus int
		wantBody   string
		wantDetail string
		wantChall  []string
		wantErr    error
	}{
		{name: "two stages", token: "alice-token", wantStatus: http.StatusOK, wantBody: "alice Alice alice 5"},
		{name: "unknown user", token: "ghost-token", wantStatus: http.StatusUnauthorized, wantDetail: "Unknown user",
			wantChall: []string{`Bearer error="invalid_token", error_description="Unknown user"`}, wantErr: auth.ErrInvalidCredential},
		{name: "user loader forbids", token: "banned-token", wantStatus: http.StatusForbidden, wantDetail: "Account suspended", wantErr: auth.ErrForbidden},
		{name: "account loader forbids", token: "carol-token", wantStatus: http.StatusForbidden, wantDetail: "Account closed", wantErr: auth.ErrForbidden},
		{name: "database failure", token: "db-token", wantStatus: http.StatusInternalServerError, wantDetail: "Internal Server Error", wantErr: errDBDown},
		{name: "bad token never reaches loaders", token: "forged", wantStatus: http.StatusUnauthorized, wantDetail: "Unknown token",
			wantChall: []string{`Bearer error="invalid_token", error_description="Unknown token"`}, wantErr: auth.ErrInvalidCredential},
		{name: "no token", wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChall: []string{"Bearer"}, wantErr: auth.ErrNoCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newTokenAuth(t)
			accounts := auth.Then(auth.Then(a.Auth, loadUser), loadAccount(t))
			h := accounts.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c := auth.MustFrom[auth.Claims](r.Context())
				u := auth.MustFrom[User](r.Context())
				acc := auth.MustFrom[Account](r.Context())
				fmt.Fprintf(w, "%s %s %s %d", c["sub"], u.Name, acc.Owner, acc.Balance)
			}))
			var headers []header
			if tt.token != "" {
				headers = append(headers, bearer(tt.token))
			}
			rec := serve(t, h, newRequest(t, "/", headers...))
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != tt.wantBody {
					t.Errorf("got %d %q; want 200 %q", rec.Code, rec.Body.String(), tt.wantBody)
				}
			} else {
				checkProblem(t, rec, tt.wantStatus, tt.wantDetail)
			}
			checkChallenges(t, rec, tt.wantChall...)
			if strings.Contains(rec.Body.String(), "db down") || strings.Contains(rec.Body.String(), "10.0.0.7") {
				t.Errorf("body %q leaks the loader's error", rec.Body.String())
			}
			_, err := accounts.Authenticate(newRequest(t, "/", headers...))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Authenticate error = %v; want it to match %v", err, tt.wantErr)
			}
		})
	}
}

func TestThenWithRequires(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	editors := auth.Then(a.Requires("reports:write"), loadUser)
	rec := serve(t, editors.Guard(subHandler), newRequest(t, "/", bearer("bob-token")))
	checkProblem(t, rec, http.StatusForbidden, "Token is missing required scope: reports:write")
	rec = serve(t, editors.Guard(subHandler), newRequest(t, "/", bearer("alice-token")))
	if rec.Code != http.StatusOK || rec.Body.String() != "alice" {
		t.Errorf("got %d %q; want 200 alice", rec.Code, rec.Body.String())
	}
}

func TestThenLoaderNoCredentialIsInvalid(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	u := auth.Then(a.Auth, func(context.Context, auth.Claims) (User, error) {
		return User{}, fmt.Errorf("lookup: %w", auth.ErrNoCredential)
	})
	// A loader cannot turn a presented credential into an absent one: Optional
	// must not serve the request as anonymous.
	rec := serve(t, u.Optional(subHandler), newRequest(t, "/", bearer("alice-token")))
	checkProblem(t, rec, http.StatusUnauthorized, "Invalid credentials")
	checkChallenges(t, rec, `Bearer error="invalid_token", error_description="Invalid credentials"`)
}

func TestVerifierNoCredentialIsInvalid(t *testing.T) {
	t.Parallel()
	verify := func(context.Context, string) (auth.Claims, error) {
		return nil, fmt.Errorf("session store: %w", auth.ErrNoCredential)
	}
	a := auth.New(auth.Bearer(), verify)
	// A verifier that rejects a presented credential with ErrNoCredential must
	// not make Optional serve the request as anonymous.
	rec := serve(t, a.Optional(subHandler), newRequest(t, "/", bearer("stale")))
	checkProblem(t, rec, http.StatusUnauthorized, "Invalid credentials")
	checkChallenges(t, rec, `Bearer error="invalid_token", error_description="Invalid credentials"`)
	// Nor make AnyOf try the next auth.
	fallback := auth.New(auth.Header("X-Api-Key"), func(context.Context, string) (auth.Claims, error) {
		return auth.Claims{"sub": "fallback"}, nil
	})
	rec = serve(t, auth.AnyOf(a, fallback).Guard(subHandler), newRequest(t, "/", bearer("stale"), header{name: "X-Api-Key", value: "k"}))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("AnyOf status = %d; want 401", rec.Code)
	}
	_, err := a.Authenticate(newRequest(t, "/", bearer("stale")))
	if !errors.Is(err, auth.ErrInvalidCredential) || auth.StatusOf(err) != http.StatusUnauthorized {
		t.Errorf("Authenticate error = %v; want a 401 ErrInvalidCredential", err)
	}
}

func TestThenPanics(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	tests := []struct {
		name    string
		build   func()
		wantMsg string
	}{
		{name: "nil auth", build: func() { auth.Then[auth.Claims, User](nil, loadUser) }, wantMsg: "auth: Then: nil or zero Auth"},
		{name: "zero auth", build: func() { auth.Then(&auth.Auth[auth.Claims]{}, loadUser) }, wantMsg: "auth: Then: nil or zero Auth"},
		{name: "nil loader", build: func() { auth.Then[auth.Claims, User](a.Auth, nil) }, wantMsg: "auth: Then: nil loader"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if msg := panicMessage(t, tt.build); msg != tt.wantMsg {
				t.Errorf("panic %q; want %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestOptional(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := auth.From[auth.Claims](r.Context()); ok {
			fmt.Fprintf(w, "hello %s", c["sub"])
			return
		}
		fmt.Fprint(w, "hello anonymous")
	})
	tests := []struct {
		name       string
		headers    []header
		wantStatus int
		wantBody   string
		wantDetail string
	}{
		{name: "no credential", wantStatus: http.StatusOK, wantBody: "hello anonymous"},
		{name: "foreign scheme", headers: []header{{name: "Authorization", value: "Basic Zm9v"}}, wantStatus: http.StatusOK, wantBody: "hello anonymous"},
		{name: "valid", headers: []header{bearer("alice-token")}, wantStatus: http.StatusOK, wantBody: "hello alice"},
		{name: "invalid", headers: []header{bearer("forged")}, wantStatus: http.StatusUnauthorized, wantDetail: "Unknown token"},
		{name: "malformed", headers: []header{{name: "Authorization", value: "Bearer a b"}}, wantStatus: http.StatusBadRequest,
			wantDetail: "The token is not a single token68 value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newTokenAuth(t)
			for _, g := range []auth.Guarder{a, a.Requires(), auth.Then(a.Auth, func(_ context.Context, c auth.Claims) (auth.Claims, error) { return c, nil })} {
				rec := serve(t, g.Optional(h), newRequest(t, "/", tt.headers...))
				if tt.wantStatus == http.StatusOK {
					if rec.Code != http.StatusOK || rec.Body.String() != tt.wantBody {
						t.Errorf("got %d %q; want 200 %q", rec.Code, rec.Body.String(), tt.wantBody)
					}
				} else {
					checkProblem(t, rec, tt.wantStatus, tt.wantDetail)
				}
			}
		})
	}
}

func TestGuardMuxSubtree(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	admin := http.NewServeMux()
	admin.HandleFunc("GET /admin/users", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "users for %s", auth.MustFrom[auth.Claims](r.Context())["sub"])
	})
	admin.HandleFunc("GET /admin/reports/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "report %s", r.PathValue("id"))
	})
	mux := http.NewServeMux()
	mux.Handle("/admin/", a.Requires("reports:read").Guard(admin))
	mux.HandleFunc("GET /public", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "public") })

	tests := []struct {
		name       string
		target     string
		headers    []header
		wantStatus int
		wantBody   string
	}{
		{name: "outside, anonymous", target: "/public", wantStatus: http.StatusOK, wantBody: "public"},
		{name: "inside, anonymous", target: "/admin/users", wantStatus: http.StatusUnauthorized},
		{name: "inside, deeper, anonymous", target: "/admin/reports/7", wantStatus: http.StatusUnauthorized},
		{name: "inside, unknown path, anonymous", target: "/admin/nothing", wantStatus: http.StatusUnauthorized},
		{name: "inside, dot-dot path, anonymous", target: "/admin/../admin/users", wantStatus: http.StatusTemporaryRedirect},
		{name: "outside via dot-dot, anonymous", target: "/public/../admin/users", wantStatus: http.StatusTemporaryRedirect},
		{name: "inside, token", target: "/admin/users", headers: []header{bearer("bob-token")}, wantStatus: http.StatusOK, wantBody: "users for bob"},
		{name: "inside, deeper, token", target: "/admin/reports/7", headers: []header{bearer("bob-token")}, wantStatus: http.StatusOK, wantBody: "report 7"},
		{name: "inside, token without scope", target: "/admin/users", headers: []header{bearer("ghost-token")}, wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, mux, newRequest(t, tt.target, tt.headers...))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d; want %d (body %q)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q; want %q", rec.Body.String(), tt.wantBody)
			}
		})
	}
}

// newAnyOfUsers returns the AnyOf of a bearer auth and an API key auth, both
// loaded into User.
func newAnyOfUsers(tb testing.TB) *auth.Auth[User] {
	tb.Helper()
	a, _ := newTokenAuth(tb)
	byToken := auth.Then(a.Auth, loadUser)
	keys := apikey.New(apikey.MustStatic(map[string]string{"bob": "bob-key-0123456789"}))
	byKey := auth.Then(keys, func(_ context.Context, p apikey.Principal) (User, error) {
		u, ok := users[p.Owner]
		if !ok {
			return User{}, auth.Unauthorized("Unknown user")
		}
		return u, nil
	})
	return auth.AnyOf(byToken, byKey)
}

func TestAnyOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		headers    []header
		wantStatus int
		wantBody   string
		wantDetail string
		wantChall  []string
	}{
		{name: "bearer decides", headers: []header{bearer("alice-token")}, wantStatus: http.StatusOK, wantBody: "Alice"},
		{name: "api key decides", headers: []header{{name: "X-Api-Key", value: "bob-key-0123456789"}}, wantStatus: http.StatusOK, wantBody: "Bob"},
		{name: "bearer first when both are valid", headers: []header{bearer("alice-token"), {name: "X-Api-Key", value: "bob-key-0123456789"}},
			wantStatus: http.StatusOK, wantBody: "Alice"},
		{name: "bad bearer and good key", headers: []header{bearer("forged"), {name: "X-Api-Key", value: "bob-key-0123456789"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Unknown token",
			wantChall: []string{`Bearer error="invalid_token", error_description="Unknown token"`}},
		{name: "malformed bearer and good key", headers: []header{{name: "Authorization", value: "Bearer"}, {name: "X-Api-Key", value: "bob-key-0123456789"}},
			wantStatus: http.StatusBadRequest, wantDetail: "No token after the scheme name",
			wantChall: []string{`Bearer error="invalid_request", error_description="No token after the scheme name"`}},
		{name: "bad key", headers: []header{{name: "X-Api-Key", value: "guess"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid API Key", wantChall: []string{"APIKey"}},
		{name: "foreign Authorization and good key", headers: []header{{name: "Authorization", value: "Basic Zm9v"}, {name: "X-Api-Key", value: "bob-key-0123456789"}},
			wantStatus: http.StatusOK, wantBody: "Bob"},
		{name: "loader failure is 500", headers: []header{bearer("db-token")}, wantStatus: http.StatusInternalServerError, wantDetail: "Internal Server Error"},
		{name: "none", wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChall: []string{"Bearer", "APIKey"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newAnyOfUsers(t).Handler(func(w http.ResponseWriter, r *http.Request, u User) {
				fmt.Fprint(w, u.Name)
			})
			rec := serve(t, h, newRequest(t, "/", tt.headers...))
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != tt.wantBody {
					t.Errorf("got %d %q; want 200 %q", rec.Code, rec.Body.String(), tt.wantBody)
				}
			} else {
				checkProblem(t, rec, tt.wantStatus, tt.wantDetail)
			}
			checkChallenges(t, rec, tt.wantChall...)
		})
	}
}

func TestAnyOfChallenges(t *testing.T) {
	t.Parallel()
	a := newAnyOfUsers(t)
	got := a.Challenges()
	want := []auth.Challenge{{Scheme: "Bearer"}, {Scheme: "APIKey"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Challenges() = %v; want %v", got, want)
	}
	got[0].Scheme = "Mutated"
	if a.Challenges()[0].Scheme != "Bearer" {
		t.Error("Challenges() returned the Auth's own slice")
	}
	// Duplicates are sent once.
	b, _ := newTokenAuth(t)
	c, _ := newTokenAuth(t)
	rec := serve(t, auth.AnyOf(b.Auth, c.Auth).Guard(subHandler), newRequest(t, "/"))
	checkChallenges(t, rec, "Bearer")
}

func TestAnyOfPanics(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	tests := []struct {
		name    string
		auths   []auth.Source[auth.Claims]
		wantMsg string
	}{
		{name: "none", wantMsg: "auth: AnyOf needs at least one Auth"},
		{name: "nil", auths: []auth.Source[auth.Claims]{a.Auth, nil}, wantMsg: "auth: AnyOf: Auth 1 is nil or zero"},
		{name: "nil pointer", auths: []auth.Source[auth.Claims]{a.Auth, (*auth.Auth[auth.Claims])(nil)}, wantMsg: "auth: AnyOf: Auth 1 is nil or zero"},
		{name: "nil embedded", auths: []auth.Source[auth.Claims]{(*auth.ScopedAuth[auth.Claims])(nil)}, wantMsg: "auth: AnyOf: Auth 0 is nil or zero"},
		{name: "zero", auths: []auth.Source[auth.Claims]{&auth.Auth[auth.Claims]{}}, wantMsg: "auth: AnyOf: Auth 0 is nil or zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if msg := panicMessage(t, func() { auth.AnyOf(tt.auths...) }); msg != tt.wantMsg {
				t.Errorf("panic %q; want %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	users := auth.Then(a.Auth, loadUser)
	h := users.Handler(func(w http.ResponseWriter, r *http.Request, u User) {
		inCtx := auth.MustFrom[User](r.Context())
		fmt.Fprintf(w, "%s %s", u.Name, inCtx.ID)
	})
	tests := []struct {
		name       string
		headers    []header
		wantStatus int
		wantBody   string
	}{
		{name: "valid", headers: []header{bearer("alice-token")}, wantStatus: http.StatusOK, wantBody: "Alice alice"},
		{name: "missing", wantStatus: http.StatusUnauthorized},
		{name: "malformed", headers: []header{{name: "Authorization", value: "Bearer  "}}, wantStatus: http.StatusBadRequest},
		{name: "forbidden", headers: []header{bearer("banned-token")}, wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, h, newRequest(t, "/", tt.headers...))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d; want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q; want %q", rec.Body.String(), tt.wantBody)
			}
		})
	}
	if msg := panicMessage(t, func() { users.Handler(nil) }); msg != "auth: Handler: nil handler func" {
		t.Errorf("Handler(nil) panic = %q", msg)
	}
}

func TestProtect(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	var g auth.Guarder = a.Requires("reports:read")

	rec := newRecorder()
	r, ok := g.Protect(rec, newRequest(t, "/", bearer("bob-token")))
	if !ok || r == nil {
		t.Fatalf("Protect = %v, %v; want a request and true", r, ok)
	}
	if c, _ := auth.From[auth.Claims](r.Context()); c["sub"] != "bob" {
		t.Errorf("principal = %v; want bob's claims", c)
	}
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("Protect wrote %d %q on success", rec.Code, rec.Body.String())
	}

	rec = newRecorder()
	if r, ok := g.Protect(rec, newRequest(t, "/")); ok || r != nil {
		t.Errorf("Protect without credential = %v, %v; want nil, false", r, ok)
	}
	checkProblem(t, rec, http.StatusUnauthorized, "Missing credentials")

	rec = newRecorder()
	orig := newRequest(t, "/")
	if r, ok := g.ProtectOptional(rec, orig); !ok || r == nil || r.URL != orig.URL || rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("ProtectOptional without credential = %v, %v, wrote %d %q; want the request, true, nothing written", r, ok, rec.Code, rec.Body)
	} else if _, found := auth.From[auth.Claims](r.Context()); found {
		t.Error("ProtectOptional without credential left a principal in the context")
	}
	rec = newRecorder()
	if r, ok := g.ProtectOptional(rec, newRequest(t, "/", bearer("ghost-token"))); ok || r != nil {
		t.Errorf("ProtectOptional without scope = %v, %v; want nil, false", r, ok)
	}
	checkProblem(t, rec, http.StatusForbidden, "Token is missing required scope: reports:read")
}

func TestZeroAuth(t *testing.T) {
	t.Parallel()
	for _, a := range []*auth.Auth[auth.Claims]{nil, {}} {
		rec := serve(t, a.Guard(subHandler), newRequest(t, "/", bearer("alice-token")))
		checkProblem(t, rec, http.StatusInternalServerError, "Internal Server Error")
		_, err := a.Authenticate(newRequest(t, "/"))
		if auth.StatusOf(err) != http.StatusInternalServerError {
			t.Errorf("Authenticate error = %v; want a 500", err)
		}
		if a.Challenges() != nil || a.Description() != (auth.Description{}) {
			t.Errorf("zero Auth has challenges %v or description %v", a.Challenges(), a.Description())
		}
	}
}

func TestNewPanics(t *testing.T) {
	t.Parallel()
	verify := func(context.Context, string) (string, error) { return "", nil }
	if msg := panicMessage(t, func() { auth.New(nil, verify) }); msg != "auth: New: nil scheme" {
		t.Errorf("New(nil, …) panic = %q", msg)
	}
	if msg := panicMessage(t, func() { auth.New[string](auth.Bearer(), nil) }); msg != "auth: New: nil verify func" {
		t.Errorf("New(…, nil) panic = %q", msg)
	}
}

func TestFromAndMustFrom(t *testing.T) {
	t.Parallel()
	ctx := auth.NewContext(context.Background(), User{ID: "u1"})
	if u, ok := auth.From[User](ctx); !ok || u.ID != "u1" {
		t.Errorf("From[User] = %v, %v; want u1, true", u, ok)
	}
	if _, ok := auth.From[Account](ctx); ok {
		t.Error("From[Account] found a principal that was never stored")
	}
	if got := auth.MustFrom[User](ctx); got.ID != "u1" {
		t.Errorf("MustFrom[User] = %v", got)
	}
	tests := []struct {
		name    string
		must    func()
		wantMsg string
	}{
		{name: "struct", must: func() { auth.MustFrom[Account](ctx) },
			wantMsg: "auth: no principal of type auth_test.Account in context; is the handler behind a Guard?"},
		{name: "map", must: func() { auth.MustFrom[auth.Claims](ctx) },
			wantMsg: "auth: no principal of type map[string]interface {} in context; is the handler behind a Guard?"},
		{name: "interface", must: func() { auth.MustFrom[fmt.Stringer](ctx) },
			wantMsg: "auth: no principal of type fmt.Stringer in context; is the handler behind a Guard?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if msg := panicMessage(t, tt.must); msg != tt.wantMsg {
				t.Errorf("panic %q; want %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestDescription(t *testing.T) {
	t.Parallel()
	d := auth.Description{Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: "Access tokens"}
	a, _ := newTokenAuth(t, auth.WithDescription(d))
	for _, got := range []auth.Description{a.Description(), a.Requires("x:read").Description(), auth.Then(a.Auth, loadUser).Description()} {
		if got != d {
			t.Errorf("Description() = %+v; want %+v", got, d)
		}
	}
}

func TestAnyOfNestedAndThen(t *testing.T) {
	t.Parallel()
	claimsOf := func(sub string) func(context.Context, string) (auth.Claims, error) {
		return func(_ context.Context, raw string) (auth.Claims, error) {
			if raw != "k-"+sub {
				return nil, auth.Unauthorized("Unknown key")
			}
			return auth.Claims{"sub": sub}, nil
		}
	}
	a := auth.New(auth.Header("X-A"), claimsOf("a"), auth.WithChallenge("A", ""))
	b := auth.New(auth.Header("X-B"), claimsOf("b"), auth.WithChallenge("B", ""))
	c := auth.New(auth.Header("X-C"), claimsOf("c"), auth.WithChallenge("C", ""))
	nested := auth.Then(auth.AnyOf(auth.AnyOf(a, b), c), func(_ context.Context, cl auth.Claims) (auth.Claims, error) { return cl, nil })
	tests := []struct {
		name       string
		headers    []header
		wantStatus int
		wantBody   string
		wantChall  []string
	}{
		{name: "inner first", headers: []header{{name: "X-A", value: "k-a"}}, wantStatus: 200, wantBody: "a"},
		{name: "inner second", headers: []header{{name: "X-B", value: "k-b"}}, wantStatus: 200, wantBody: "b"},
		{name: "outer", headers: []header{{name: "X-C", value: "k-c"}}, wantStatus: 200, wantBody: "c"},
		{name: "inner bad decides", headers: []header{{name: "X-B", value: "bad"}, {name: "X-C", value: "k-c"}}, wantStatus: 401, wantChall: []string{"B"}},
		{name: "none", wantStatus: 418, wantChall: nil}, // Optional: anonymous
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, nested.Optional(subHandler), newRequest(t, "/", tt.headers...))
			if rec.Code != tt.wantStatus || (tt.wantBody != "" && rec.Body.String() != tt.wantBody) {
				t.Errorf("got %d %q; want %d %q", rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
			}
			checkChallenges(t, rec, tt.wantChall...)
		})
	}
	rec := serve(t, nested.Guard(subHandler), newRequest(t, "/"))
	checkProblem(t, rec, http.StatusUnauthorized, "Missing credentials")
	checkChallenges(t, rec, "A", "B", "C")
}

func TestSchemeErrNoCredentialIsAbsent(t *testing.T) {
	t.Parallel()
	// A scheme may say "no credential" with ErrNoCredential instead of "".
	var calls int
	a := auth.New(auth.SchemeFunc(func(*http.Request) (string, error) { return "ignored", fmt.Errorf("cookie: %w", auth.ErrNoCredential) }),
		func(context.Context, string) (auth.Claims, error) { calls++; return auth.Claims{}, nil })
	if rec := serve(t, a.Optional(subHandler), newRequest(t, "/")); rec.Code != http.StatusTeapot {
		t.Errorf("Optional: status = %d; want the handler to run without a principal", rec.Code)
	}
	checkProblem(t, serve(t, a.Guard(subHandler), newRequest(t, "/")), http.StatusUnauthorized, "Missing credentials")
	if calls != 0 {
		t.Errorf("verifier called %d times for an absent credential", calls)
	}
	// Any other scheme error is reported as is.
	b := auth.New(auth.SchemeFunc(func(*http.Request) (string, error) { return "", errors.New("scheme broke") }),
		func(context.Context, string) (auth.Claims, error) { return auth.Claims{}, nil })
	checkProblem(t, serve(t, b.Guard(subHandler), newRequest(t, "/")), http.StatusInternalServerError, "Internal Server Error")
}

// A validator that is not a scopes.Compiler is asked once per required
// scope, in order, and the first it refuses is reported.
func TestRequiresCustomValidator(t *testing.T) {
	t.Parallel()
	var asked []string
	var mu sync.Mutex
	prefix := scopes.Func(func(required string, granted scopes.Set) bool {
		mu.Lock()
		asked = append(asked, required)
		mu.Unlock()
		for g := range granted.All() {
			if strings.HasPrefix(required, g) {
				return true
			}
		}
		return false
	})
	a, _ := newTokenAuth(t, auth.WithScopeValidator(prefix))
	if _, ok := a.Validator().(scopes.Compiler); ok {
		t.Fatal("scopes.Func must not be a Compiler for this test to mean anything")
	}
	// bob-token grants reports:read (see helpers_test.go).
	rec := serve(t, a.Requires("reports:read:all", "admin:read", "reports:readme").Guard(subHandler), newRequest(t, "/", bearer("bob-token")))
	checkProblem(t, rec, http.StatusForbidden, "Token is missing required scope: admin:read")
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"reports:read:all", "admin:read"}; !slices.Equal(asked, want) {
		t.Errorf("validator asked for %q; want %q (in order, stopping at the first refusal)", asked, want)
	}
}
