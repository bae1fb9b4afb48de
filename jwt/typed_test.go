package jwt_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/scopes"
)

type userClaims struct {
	jwt.RegisteredClaims
	Email string   `json:"email" validate:"required,email"`
	Roles []string `json:"roles"`
	Age   int      `json:"age,omitempty" validate:"omitempty,gte=18"`
}

func newTyped[P auth.Scoper](tb testing.TB, cfg jwt.Config, opts ...jwt.Option) *jwt.TypedAuth[P] {
	tb.Helper()
	a, err := jwt.NewTyped[P](cfg, opts...)
	if err != nil {
		tb.Fatalf("NewTyped: %v", err)
	}
	return a
}

func TestTypedClaims(t *testing.T) {
	t.Parallel()
	issuer := newAuth(t, hsConfig())
	a := newTyped[userClaims](t, hsConfig())

	var got userClaims
	var fromCtx userClaims
	h := a.Requires("items:read").Handler(func(w http.ResponseWriter, r *http.Request, c userClaims) {
		got = c
		fromCtx, _ = auth.From[userClaims](r.Context())
		_, _ = w.Write([]byte(c.Email))
	})

	tests := []struct {
		name       string
		claims     auth.Claims
		wantStatus int
		wantDetail string
	}{
		{name: "valid", claims: auth.Claims{"sub": "user-1", "email": "a@example.com", "roles": []string{"admin"}, "scope": "items:edit"},
			wantStatus: 200},
		{name: "missing email", claims: auth.Claims{"sub": "user-1", "scope": "items:read"},
			wantStatus: 401, wantDetail: "Invalid claims: email is required"},
		{name: "invalid email", claims: auth.Claims{"sub": "user-1", "email": "<script>alert(1)</script>", "scope": "items:read"},
			wantStatus: 401, wantDetail: "Invalid claims: email fails email"},
		{name: "too young", claims: auth.Claims{"email": "a@example.com", "age": 12, "scope": "items:read"},
			wantStatus: 401, wantDetail: "Invalid claims: age fails gte"},
		{name: "wrong JSON type", claims: auth.Claims{"email": "a@example.com", "roles": "admin", "scope": "items:read"},
			wantStatus: 401, wantDetail: "Token claims are malformed"},
		{name: "missing scope", claims: auth.Claims{"email": "a@example.com", "scope": "other:read"},
			wantStatus: 403, wantDetail: "Token is missing required scope: items:read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, h, encode(t, issuer, tt.claims))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d; want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == 200 {
				want := userClaims{Email: "a@example.com", Roles: []string{"admin"}}
				if got.Email != want.Email || len(got.Roles) != 1 || got.Subject != "user-1" || got.Scope != "items:edit" ||
					got.ExpiresAt == nil || !got.ExpiresAt.Equal(epoch.Add(3600e9)) {
					t.Errorf("handler got %+v", got)
				}
				if fromCtx.Email != got.Email {
					t.Errorf("auth.From = %+v; want %+v", fromCtx, got)
				}
				return
			}
			p := decodeProblem(t, rec)
			if p.Detail != tt.wantDetail {
				t.Errorf("detail = %q; want %q", p.Detail, tt.wantDetail)
			}
			if strings.Contains(rec.Body.String(), "alert") || strings.Contains(rec.Header().Get("WWW-Authenticate"), "alert") {
				t.Errorf("response echoes the claim value: %s", rec.Body)
			}
		})
	}

	t.Run("Verify", func(t *testing.T) {
		_, err := a.Verify(context.Background(), encode(t, issuer, auth.Claims{"sub": "x"}))
		if !errors.Is(err, jwt.ErrTokenClaims) || !errors.Is(err, auth.ErrInvalidCredential) {
			t.Errorf("err = %v; want ErrTokenClaims and ErrInvalidCredential", err)
		}
	})
}

// TestTypedRegisteredClaimsExact: a typed principal cannot be fooled by a
// case variant of a registered claim, which encoding/json would fold.
func TestTypedRegisteredClaimsExact(t *testing.T) {
	t.Parallel()
	a := newTyped[userClaims](t, hsConfig())
	tok := hs256(`{"alg":"HS256"}`, `{"email":"a@example.com","exp":1800000000,"SUB":"admin"}`, secret64[:32])
	if _, err := a.Verify(context.Background(), tok); !errors.Is(err, jwt.ErrTokenClaims) {
		t.Errorf("err = %v; want ErrTokenClaims", err)
	}
	// encoding/json folds with Unicode simple folding: "ſ" (U+017F) is
	// "s" to it, and the last of two matching members wins. A second,
	// folded member must not replace the verified one in the struct.
	tests := []struct {
		name    string
		payload string
	}{
		{name: "sub and long-s sub", payload: `{"email":"a@example.com","exp":1800000000,"sub":"alice","ſub":"admin"}`},
		{name: "long-s iss", payload: `{"email":"a@example.com","exp":1800000000,"iſs":"https://evil.example"}`},
		{name: "scope and SCOPE", payload: `{"email":"a@example.com","exp":1800000000,"scope":"reports:read","SCOPE":"admin:*"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := a.Handler(func(w http.ResponseWriter, r *http.Request, c userClaims) {
				_, _ = w.Write([]byte(c.Subject + " " + c.Issuer + " " + c.Scope))
			})
			rec := do(t, h, hs256(`{"alg":"HS256"}`, tt.payload, secret64[:32]))
			wantReject(t, rec, "Token claims are malformed")
		})
	}
}

type plainClaims struct {
	Sub   string   `json:"sub"`
	Perms []string `json:"perms"`
}

func TestTypedScopes(t *testing.T) {
	t.Parallel()
	// NewTyped[plainClaims] does not compile (plainClaims carries no
	// scopes), nor does a scopesOf of another type: NewTypedFunc says how.
	if _, err := jwt.NewTypedFunc[plainClaims](hsConfig(), nil); err == nil {
		t.Error("NewTypedFunc accepted a nil scopesOf")
	}
	a, err := jwt.NewTypedFunc(hsConfig(), func(c plainClaims) scopes.Set { return scopes.Of(c.Perms...) },
		jwt.WithScopeValidator(scopes.Simple{}))
	if err != nil {
		t.Fatal(err)
	}
	issuer := newAuth(t, hsConfig())
	h := a.Requires("reports:read").Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := auth.MustFrom[plainClaims](r.Context())
		_, _ = w.Write([]byte(c.Sub))
	}))
	if rec := do(t, h, encode(t, issuer, auth.Claims{"sub": "u", "perms": []string{"reports:read"}})); rec.Code != 200 || rec.Body.String() != "u" {
		t.Errorf("with perm: %d %s; want 200 u", rec.Code, rec.Body)
	}
	if rec := do(t, h, encode(t, issuer, auth.Claims{"sub": "u", "perms": []string{"reports:write"}})); rec.Code != 403 {
		t.Errorf("without perm: %d; want 403", rec.Code)
	}
}

type badTagClaims struct {
	jwt.RegisteredClaims
	Email string `json:"email" validate:"required,no_such_rule"`
}

// TestTypedBadValidateTag: a validate tag the validator does not know
// fails NewTyped, instead of panicking on every request.
func TestTypedBadValidateTag(t *testing.T) {
	t.Parallel()
	_, err := jwt.NewTyped[badTagClaims](hsConfig())
	if err == nil || !strings.Contains(err.Error(), "no_such_rule") {
		t.Fatalf("NewTyped err = %v; want an error naming the tag", err)
	}
	if _, err := jwt.NewTyped[*badTagClaims](hsConfig()); err == nil {
		t.Error("NewTyped[*badTagClaims] accepted the tag")
	}
}

// TestTypedScopesMatchClaimsMap: a struct embedding RegisteredClaims grants
// the scopes jwt.New grants for the same token, whether they come in scope,
// in scp as a string, or in scp as an array (Okta, Azure AD).
func TestTypedScopesMatchClaimsMap(t *testing.T) {
	t.Parallel()
	issuer := newAuth(t, hsConfig())
	plain := newAuth(t, hsConfig())
	typed := newTyped[userClaims](t, hsConfig())
	tests := []struct {
		name   string
		claims auth.Claims
		want   map[string]int // required scope → status
	}{
		{name: "scp string", claims: auth.Claims{"scp": "reports:read items:edit"},
			want: map[string]int{"reports:read": 200, "items:read": 200, "reports:write": 403}},
		{name: "scp array", claims: auth.Claims{"scp": []string{"reports:read", "items:edit"}},
			want: map[string]int{"reports:read": 200, "items:read": 200, "reports:write": 403}},
		{name: "scope and scp", claims: auth.Claims{"scope": "reports:edit", "scp": []string{"items:read"}},
			want: map[string]int{"reports:read": 200, "items:read": 200, "items:edit": 403}},
		{name: "scp of another type", claims: auth.Claims{"scp": 7},
			want: map[string]int{"reports:read": 403}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := auth.Claims{"sub": "u", "email": "u@example.com"}
			for k, v := range tt.claims {
				claims[k] = v
			}
			tok := encode(t, issuer, claims)
			ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
			for scope, want := range tt.want {
				gotPlain := do(t, plain.Requires(scope).Guard(ok), tok).Code
				gotTyped := do(t, typed.Requires(scope).Guard(ok), tok).Code
				if gotPlain != want || gotTyped != want {
					t.Errorf("Requires(%q): jwt.New %d, jwt.NewTyped %d; want both %d", scope, gotPlain, gotTyped, want)
				}
			}
		})
	}
}
