package compose_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/labstack/echo/v4"

	"github.com/typedauth/auth"
	authecho "github.com/typedauth/auth/adapters/echo"
	authgin "github.com/typedauth/auth/adapters/gin"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/jwt"
)

type User struct {
	ID    string
	Admin bool
}

type Admin struct{ User User }

type MyClaims struct {
	jwt.RegisteredClaims
	Email string `json:"email"`
}

var errDB = errors.New("users: connection refused to 10.0.0.7:5432")

// loadUser is claims -> User: "down" fails like a database, "nobody" is
// unknown, "root" is an administrator.
func loadUser(_ context.Context, c auth.Claims) (User, error) {
	switch sub, _ := c["sub"].(string); sub {
	case "down":
		return User{}, errDB
	case "nobody":
		return User{}, auth.Unauthorized("Unknown user")
	case "":
		return User{}, auth.Unauthorized("No subject")
	default:
		return User{ID: sub, Admin: sub == "root"}, nil
	}
}

// requireAdmin is User -> Admin; it reads the claims of the first stage
// from its context to show they are there.
func requireAdmin(ctx context.Context, u User) (Admin, error) {
	if _, ok := auth.From[auth.Claims](ctx); !ok {
		return Admin{}, errors.New("no claims in the loader's context")
	}
	if !u.Admin {
		return Admin{}, auth.Forbidden("Administrators only")
	}
	return Admin{User: u}, nil
}

func loadFromClaims(_ context.Context, c MyClaims) (User, error) {
	return User{ID: c.Subject + " <" + c.Email + ">"}, nil
}

func keyToUser(_ context.Context, k apikey.Principal) (User, error) {
	return User{ID: "service:" + k.Owner}, nil
}

// stages writes every principal the context holds, by type.
func stages(ctx context.Context) string {
	var parts []string
	if c, ok := auth.From[auth.Claims](ctx); ok {
		parts = append(parts, fmt.Sprint("claims:", c["sub"]))
	}
	if k, ok := auth.From[apikey.Principal](ctx); ok {
		parts = append(parts, "key:"+k.Owner)
	}
	if c, ok := auth.From[MyClaims](ctx); ok {
		parts = append(parts, "typed:"+c.Subject)
	}
	if u, ok := auth.From[User](ctx); ok {
		parts = append(parts, "user:"+u.ID)
	}
	if a, ok := auth.From[Admin](ctx); ok {
		parts = append(parts, "admin:"+a.User.ID)
	}
	return strings.Join(parts, " ")
}

func TestComposition(t *testing.T) {
	const key = "ci-key-6f1c2a0e9b7d4c3e8a5f"
	cfg := jwt.Config{Secret: []byte(strings.Repeat("k", 32)), Algorithms: []string{"HS256"}, Expiration: time.Hour}
	ctx := context.Background()

	// The composition of the README, verbatim but for MustStatic.
	tokens := jwt.MustNew(cfg)          // *jwt.Auth
	user := auth.Then(tokens, loadUser) // claims -> User
	editor := auth.Then(tokens.Requires("documents:edit"), loadUser)
	admin := auth.Then(user, requireAdmin) // User -> Admin
	typed := auth.Then(jwt.MustNewTyped[MyClaims](cfg), loadFromClaims)
	keys := apikey.New(apikey.MustStatic(map[string]string{"ci": key}))
	either := auth.AnyOf(user, auth.Then(keys, keyToUser)) // JWT or API key -> one User

	mint := func(claims auth.Claims) string {
		t.Helper()
		tok, err := tokens.Encode(claims, 0)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	var (
		alice  = mint(auth.Claims{"sub": "alice", "scope": "documents:read"})
		writer = mint(auth.Claims{"sub": "bob", "scope": "documents:edit", "email": "bob@example.com"})
		root   = mint(auth.Claims{"sub": "root"})
		down   = mint(auth.Claims{"sub": "down", "scope": "documents:edit"})
		nobody = mint(auth.Claims{"sub": "nobody"})
	)

	// Verify, with no *http.Request.
	for raw, want := range map[string]string{alice: "alice", key: "service:ci"} {
		u, err := either.Verify(ctx, raw)
		if err != nil || u.ID != want {
			t.Errorf("either.Verify = %+v, %v; want %s", u, err, want)
		}
	}
	if _, err := either.Verify(ctx, "forged"); auth.StatusOf(err) != http.StatusUnauthorized {
		t.Errorf("either.Verify(forged) = %v; want 401", err)
	}
	if a, err := admin.Verify(ctx, root); err != nil || a.User.ID != "root" {
		t.Errorf("admin.Verify(root) = %+v, %v", a, err)
	}
	if _, err := admin.Verify(ctx, alice); auth.StatusOf(err) != http.StatusForbidden {
		t.Errorf("admin.Verify(alice) = %v; want 403", err)
	}
	if _, err := editor.Verify(ctx, alice); auth.StatusOf(err) != http.StatusForbidden {
		t.Errorf("editor.Verify(alice) = %v; want 403 for the missing scope", err)
	}
	if u, err := typed.Verify(ctx, writer); err != nil || u.ID != "bob <bob@example.com>" {
		t.Errorf("typed.Verify = %+v, %v", u, err)
	}

	// Each stage's principal is readable by its own type, behind net/http,
	// Echo and Gin alike.
	show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, stages(r.Context())) })
	e := echo.New()
	e.GET("/me", func(c echo.Context) error { return c.String(http.StatusOK, stages(c.Request().Context())) }, authecho.Middleware(editor))
	e.GET("/admin", authecho.Handler(admin, func(c echo.Context, a Admin) error {
		return c.String(http.StatusOK, stages(c.Request().Context()))
	}))
	gin.SetMode(gin.TestMode)
	g := gin.New()
	g.GET("/me", authgin.Middleware(editor), func(c *gin.Context) { c.String(http.StatusOK, stages(c.Request.Context())) })

	type want struct {
		status int
		body   string // the stages for 200, the problem detail otherwise
	}
	tests := []struct {
		name string
		h    http.Handler
		cred [2]string // header name and value
		want want
	}{
		{name: "user", h: user.Guard(show), cred: [2]string{"Authorization", "Bearer " + alice}, want: want{200, "claims:alice user:alice"}},
		{name: "editor", h: editor.Guard(show), cred: [2]string{"Authorization", "Bearer " + writer}, want: want{200, "claims:bob user:bob"}},
		{name: "editor without the scope", h: editor.Guard(show), cred: [2]string{"Authorization", "Bearer " + alice},
			want: want{403, "Token is missing required scope: documents:edit"}},
		{name: "admin", h: admin.Guard(show), cred: [2]string{"Authorization", "Bearer " + root}, want: want{200, "claims:root user:root admin:root"}},
		{name: "admin stage says Forbidden", h: admin.Guard(show), cred: [2]string{"Authorization", "Bearer " + alice},
			want: want{403, "Administrators only"}},
		{name: "loader failure", h: editor.Guard(show), cred: [2]string{"Authorization", "Bearer " + down}, want: want{500, "Internal Server Error"}},
		{name: "unknown user", h: user.Guard(show), cred: [2]string{"Authorization", "Bearer " + nobody}, want: want{401, "Unknown user"}},
		{name: "typed", h: typed.Guard(show), cred: [2]string{"Authorization", "Bearer " + writer}, want: want{200, "typed:bob user:bob <bob@example.com>"}},
		{name: "either by token", h: either.Guard(show), cred: [2]string{"Authorization", "Bearer " + alice}, want: want{200, "claims:alice user:alice"}},
		{name: "either by key", h: either.Guard(show), cred: [2]string{"X-Api-Key", key}, want: want{200, "key:ci user:service:ci"}},
		{name: "echo middleware", h: e, cred: [2]string{"Authorization", "Bearer " + writer}, want: want{200, "claims:bob user:bob"}},
		{name: "echo middleware without the scope", h: e, cred: [2]string{"Authorization", "Bearer " + alice},
			want: want{403, "Token is missing required scope: documents:edit"}},
		{name: "echo middleware loader failure", h: e, cred: [2]string{"Authorization", "Bearer " + down}, want: want{500, "Internal Server Error"}},
		{name: "gin middleware", h: g, cred: [2]string{"Authorization", "Bearer " + writer}, want: want{200, "claims:bob user:bob"}},
		{name: "gin middleware loader failure", h: g, cred: [2]string{"Authorization", "Bearer " + down}, want: want{500, "Internal Server Error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/me", nil)
			r.Header.Set(tt.cred[0], tt.cred[1])
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, r)
			if rec.Code != tt.want.status {
				t.Fatalf("status %d (%s); want %d", rec.Code, rec.Body, tt.want.status)
			}
			if tt.want.status == http.StatusOK {
				if rec.Body.String() != tt.want.body {
					t.Errorf("stages %q; want %q", rec.Body, tt.want.body)
				}
				return
			}
			if !strings.Contains(rec.Body.String(), `"detail":"`+tt.want.body+`"`) || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("body %q; want a problem with detail %q", rec.Body, tt.want.body)
			}
			if strings.Contains(rec.Body.String(), "10.0.0.7") {
				t.Errorf("body leaks the loader's error: %q", rec.Body)
			}
		})
	}

	// authecho.Handler takes the Then chain directly.
	r := httptest.NewRequest(http.MethodGet, "/admin", nil)
	r.Header.Set("Authorization", "Bearer "+root)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK || rec.Body.String() != "claims:root user:root admin:root" {
		t.Errorf("authecho.Handler(admin): %d %q", rec.Code, rec.Body)
	}
}
