package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/typedauth/auth"
)

// embedded is a user type that embeds a ScopedAuth, as jwt.Auth does: it is
// a Source without a conversion.
type embedded struct {
	*auth.ScopedAuth[auth.Claims]
	name string
}

// Admin is a principal derived from a User.
type Admin struct{ User User }

func requireAdmin(ctx context.Context, u User) (Admin, error) {
	if _, ok := auth.From[auth.Claims](ctx); !ok {
		return Admin{}, errors.New("claims of the first stage are not in the loader's context")
	}
	if u.ID != "alice" {
		return Admin{}, auth.Forbidden("Admins only")
	}
	return Admin{User: u}, nil
}

func TestSourceAcceptsEmbeddingTypes(t *testing.T) {
	t.Parallel()
	tokens, _ := newTokenAuth(t)
	e := &embedded{ScopedAuth: tokens, name: "tokens"}
	// Each of these infers its type arguments.
	var (
		fromAuth   = auth.Then(tokens.Auth, loadUser)
		fromScoped = auth.Then(tokens, loadUser)
		fromUser   = auth.Then(e, loadUser)
		either     = auth.AnyOf(e, tokens, tokens.Requires("reports:read"))
	)
	for name, a := range map[string]*auth.Auth[User]{"Auth": fromAuth, "ScopedAuth": fromScoped, "embedding type": fromUser} {
		rec := serve(t, a.Handler(func(w http.ResponseWriter, _ *http.Request, u User) { fmt.Fprint(w, u.Name) }),
			newRequest(t, "/", bearer("alice-token")))
		if rec.Code != http.StatusOK || rec.Body.String() != "Alice" {
			t.Errorf("Then(%s): got %d %q; want 200 Alice", name, rec.Code, rec.Body)
		}
	}
	if rec := serve(t, either.Guard(subHandler), newRequest(t, "/", bearer("bob-token"))); rec.Body.String() != "bob" {
		t.Errorf("AnyOf of an embedding type: got %d %q; want bob", rec.Code, rec.Body)
	}
	if msg := panicMessage(t, func() { auth.Then((*embedded)(nil), loadUser) }); msg != "auth: Then: nil or zero Auth" {
		t.Errorf("Then(nil embedding type) panics with %q", msg)
	}
	if msg := panicMessage(t, func() { auth.Then(&embedded{}, loadUser) }); msg != "auth: Then: nil or zero Auth" {
		t.Errorf("Then(embedding type with a nil Auth) panics with %q", msg)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	tokens, _ := newTokenAuth(t, auth.WithMaxCredentialLength(20))
	user := auth.Then(tokens, loadUser)
	admin := auth.Then(user, requireAdmin)
	writer := auth.Then(tokens.Requires("reports:write"), loadUser)
	ctx := context.Background()

	type result struct {
		value      string
		status     int
		detail     string
		wantAbsent bool
	}
	check := func(t *testing.T, name string, got string, err error, want result) {
		t.Helper()
		if want.status == 0 {
			if err != nil || got != want.value {
				t.Errorf("%s = %q, %v; want %q", name, got, err, want.value)
			}
			return
		}
		var e *auth.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s error = %v (%T); want an *auth.Error", name, err, err)
		}
		if e.Status != want.status || e.Detail != want.detail || got != "" {
			t.Errorf("%s = %q, status %d %q; want status %d %q and the zero principal", name, got, e.Status, e.Detail, want.status, want.detail)
		}
		if errors.Is(err, auth.ErrNoCredential) != want.wantAbsent {
			t.Errorf("%s: errors.Is(err, ErrNoCredential) = %v; want %v", name, !want.wantAbsent, want.wantAbsent)
		}
	}
	tests := []struct {
		raw                   string
		claims, usr, adm, wrt result
	}{
		{raw: "alice-token", claims: result{value: "alice"}, usr: result{value: "Alice"}, adm: result{value: "Alice"}, wrt: result{value: "Alice"}},
		{raw: "bob-token", claims: result{value: "bob"}, usr: result{value: "Bob"},
			adm: result{status: 403, detail: "Admins only"},
			wrt: result{status: 403, detail: "Token is missing required scope: reports:write"}},
		{raw: "ghost-token", claims: result{value: "ghost"}, usr: result{status: 401, detail: "Unknown user"},
			adm: result{status: 401, detail: "Unknown user"}, wrt: result{status: 403, detail: "Token is missing required scope: reports:write"}},
		{raw: "banned-token", claims: result{value: "mallory"}, usr: result{status: 403, detail: "Account suspended"},
			adm: result{status: 403, detail: "Account suspended"}, wrt: result{status: 403, detail: "Token is missing required scope: reports:write"}},
		{raw: "db-token", claims: result{value: "db-down"}, usr: result{status: 500, detail: "Internal Server Error"},
			adm: result{status: 500, detail: "Internal Server Error"}, wrt: result{status: 403, detail: "Token is missing required scope: reports:write"}},
		{raw: "forged", claims: result{status: 401, detail: "Unknown token"}, usr: result{status: 401, detail: "Unknown token"},
			adm: result{status: 401, detail: "Unknown token"}, wrt: result{status: 401, detail: "Unknown token"}},
		{raw: strings.Repeat("x", 21), claims: result{status: 401, detail: "Credential is too long"}, usr: result{status: 401, detail: "Credential is too long"},
			adm: result{status: 401, detail: "Credential is too long"}, wrt: result{status: 401, detail: "Credential is too long"}},
		{raw: "", claims: result{status: 401, detail: "Missing credentials", wantAbsent: true}, usr: result{status: 401, detail: "Missing credentials", wantAbsent: true},
			adm: result{status: 401, detail: "Missing credentials", wantAbsent: true}, wrt: result{status: 401, detail: "Missing credentials", wantAbsent: true}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			c, err := tokens.Verify(ctx, tt.raw)
			sub, _ := c["sub"].(string)
			check(t, "tokens.Verify", sub, err, tt.claims)
			u, err := user.Verify(ctx, tt.raw)
			check(t, "user.Verify", u.Name, err, tt.usr)
			a, err := admin.Verify(ctx, tt.raw)
			check(t, "admin.Verify", a.User.Name, err, tt.adm)
			w, err := writer.Verify(ctx, tt.raw)
			check(t, "writer.Verify", w.Name, err, tt.wrt)
		})
	}

	// The error of Verify carries the challenges Guard would send.
	_, err := user.Verify(ctx, "forged")
	var e *auth.Error
	if !errors.As(err, &e) || fmt.Sprint(e.Challenges) != fmt.Sprint([]auth.Challenge{{Scheme: "Bearer"}}) {
		t.Errorf("Verify error challenges = %v; want Bearer", err)
	}
	// A zero or nil Auth fails with 500.
	for name, z := range map[string]*auth.Auth[User]{"zero": {}, "nil": nil} {
		if _, err := z.Verify(ctx, "alice-token"); auth.StatusOf(err) != http.StatusInternalServerError {
			t.Errorf("%s Auth: Verify error %v; want a 500", name, err)
		}
	}
}

// A loader of a Then chain called by Verify finds each earlier stage's
// principal in its context, as it does behind Guard.
func TestVerifyStagesInContext(t *testing.T) {
	t.Parallel()
	tokens, _ := newTokenAuth(t)
	type Session struct{ Admin Admin }
	var seen []string
	chain := auth.Then(auth.Then(auth.Then(tokens, loadUser), requireAdmin), func(ctx context.Context, a Admin) (Session, error) {
		c, okc := auth.From[auth.Claims](ctx)
		u, oku := auth.From[User](ctx)
		a2, oka := auth.From[Admin](ctx)
		if okc && oku && oka {
			seen = append(seen, fmt.Sprint(c["sub"], " ", u.Name, " ", a2.User.ID))
		}
		return Session{Admin: a}, nil
	})
	s, err := chain.Verify(context.Background(), "alice-token")
	if err != nil || s.Admin.User.Name != "Alice" {
		t.Fatalf("Verify = %+v, %v; want Alice's session", s, err)
	}
	if want := []string{"alice Alice alice"}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("the last loader saw %q; want %q", seen, want)
	}
}

// stub returns an Auth whose verifier answers every credential with the
// given principal or error, and counts its calls.
func stub(name string, err error, calls *[]string) *auth.Auth[string] {
	return auth.New(auth.Bearer(), func(_ context.Context, raw string) (string, error) {
		*calls = append(*calls, name)
		if err != nil {
			return "", err
		}
		return name + ":" + raw, nil
	})
}

func TestAnyOfVerify(t *testing.T) {
	t.Parallel()
	var (
		invalid     = auth.Unauthorized("Not mine")
		invalid2    = auth.Unauthorized("Not mine either")
		malformed   = fmt.Errorf("%w: unparsable", auth.ErrMalformedRequest)
		forbidden   = auth.Forbidden("Suspended")
		unavailable = auth.Unavailable("Key server down")
		internal    = errors.New("db down")
	)
	tests := []struct {
		name       string
		errs       []error // nil: the member accepts
		want       string
		wantStatus int
		wantDetail string
		wantCalls  string
	}{
		{name: "first accepts", errs: []error{nil, nil}, want: "m0:raw", wantCalls: "[m0]"},
		{name: "invalid passes on", errs: []error{invalid, nil}, want: "m1:raw", wantCalls: "[m0 m1]"},
		{name: "malformed passes on", errs: []error{malformed, invalid, nil}, want: "m2:raw", wantCalls: "[m0 m1 m2]"},
		{name: "all invalid gives the first error", errs: []error{invalid, invalid2}, wantStatus: 401, wantDetail: "Not mine", wantCalls: "[m0 m1]"},
		{name: "forbidden stops", errs: []error{forbidden, nil}, wantStatus: 403, wantDetail: "Suspended", wantCalls: "[m0]"},
		{name: "unavailable stops", errs: []error{invalid, unavailable, nil}, wantStatus: 503, wantDetail: "Key server down", wantCalls: "[m0 m1]"},
		{name: "internal failure stops", errs: []error{internal, nil}, wantStatus: 500, wantDetail: "Internal Server Error", wantCalls: "[m0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls []string
			var members []auth.Source[string]
			for i, err := range tt.errs {
				members = append(members, stub(fmt.Sprintf("m%d", i), err, &calls))
			}
			got, err := auth.AnyOf(members...).Verify(context.Background(), "raw")
			if fmt.Sprint(calls) != tt.wantCalls {
				t.Errorf("members called: %v; want %s", calls, tt.wantCalls)
			}
			if tt.wantStatus == 0 {
				if err != nil || got != tt.want {
					t.Errorf("Verify = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var e *auth.Error
			if !errors.As(err, &e) || e.Status != tt.wantStatus || e.Detail != tt.wantDetail || got != "" {
				t.Errorf("Verify = %q, %v; want status %d %q", got, err, tt.wantStatus, tt.wantDetail)
			}
		})
	}
	var calls []string
	_, err := auth.AnyOf(stub("m0", nil, &calls)).Verify(context.Background(), "")
	if !errors.Is(err, auth.ErrNoCredential) || len(calls) != 0 {
		t.Errorf("Verify(\"\") = %v after calls %v; want ErrNoCredential and no call", err, calls)
	}
}

// AnyOf.Verify with the auths of TestAnyOf: a JWT or an API key, one User.
func TestAnyOfVerifyTokenOrKey(t *testing.T) {
	t.Parallel()
	either := newAnyOfUsers(t)
	ctx := context.Background()
	for raw, want := range map[string]string{"alice-token": "Alice", "bob-key-0123456789": "Bob"} {
		if u, err := either.Verify(ctx, raw); err != nil || u.Name != want {
			t.Errorf("Verify(%q) = %+v, %v; want %s", raw, u, err, want)
		}
	}
	if _, err := either.Verify(ctx, "guess"); auth.StatusOf(err) != http.StatusUnauthorized || auth.AsError(err).Detail != "Unknown token" {
		t.Errorf("Verify(unknown) = %v; want the first auth's 401", err)
	}
	if _, err := either.Verify(ctx, "banned-token"); auth.StatusOf(err) != http.StatusForbidden {
		t.Errorf("Verify(banned) = %v; want 403, not a retry as an API key", err)
	}
}

// Optional hides a principal of its type that an outer guard stored, so
// that the handler of an anonymous request never takes it for the caller.
func TestOptionalHidesOuterPrincipal(t *testing.T) {
	t.Parallel()
	tokens, _ := newTokenAuth(t)
	user := auth.Then(tokens, loadUser)
	either := auth.AnyOf(user, auth.Then(tokens.Requires("reports:write"), loadUser))
	// gateway stores a service principal of the same types, as an outer
	// guard for a service account would.
	gateway := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := auth.NewContext(r.Context(), auth.Claims{"sub": "gateway"})
			ctx = auth.NewContext(ctx, User{ID: "gateway", Name: "Gateway"})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	report := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, okc := auth.From[auth.Claims](r.Context())
		u, oku := auth.From[User](r.Context())
		fmt.Fprintf(w, "claims=%v:%v user=%v:%v", okc, c["sub"], oku, u.Name)
	})
	tests := []struct {
		name string
		h    http.Handler
		req  *http.Request
		want string
	}{
		{name: "scoped auth, anonymous", h: gateway(tokens.Optional(report)), req: newRequest(t, "/"),
			want: "claims=false:<nil> user=true:Gateway"},
		{name: "then, anonymous", h: gateway(user.Optional(report)), req: newRequest(t, "/"),
			want: "claims=false:<nil> user=false:"},
		{name: "any of, anonymous", h: gateway(either.Optional(report)), req: newRequest(t, "/"),
			want: "claims=false:<nil> user=false:"},
		{name: "then, signed in", h: gateway(user.Optional(report)), req: newRequest(t, "/", bearer("bob-token")),
			want: "claims=true:bob user=true:Bob"},
		{name: "without a gateway", h: user.Optional(report), req: newRequest(t, "/"),
			want: "claims=false:<nil> user=false:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, tt.h, tt.req)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.want {
				t.Errorf("got %d %q; want 200 %q", rec.Code, rec.Body, tt.want)
			}
		})
	}
	// From of an interface type does not take the hiding marker for a
	// principal either.
	anyAuth := auth.New(auth.Bearer(), func(context.Context, string) (any, error) { return "p", nil })
	h := anyAuth.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.From[any](r.Context())
		fmt.Fprintf(w, "%v %v", p, ok)
	}))
	if rec := serve(t, h, newRequest(t, "/")); rec.Body.String() != "<nil> false" {
		t.Errorf("From[any] in an anonymous Optional handler: %q; want <nil> false", rec.Body)
	}
}
