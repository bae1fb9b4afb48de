package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/jwt"
)

// describedAuth is the view of an Auth that the scheme table checks.
type describedAuth interface {
	auth.Guarder
	Challenges() []auth.Challenge
	Description() auth.Description
	Descriptions() []auth.Description
}

// A scheme decides what a 401 says and how the Auth is documented; swapping
// the scheme of any auth changes both.
func TestSchemeChallengesAndDescriptions(t *testing.T) {
	t.Parallel()
	verify := func(_ context.Context, raw string) (string, error) {
		if raw != "good" {
			return "", auth.Unauthorized("Unknown credential")
		}
		return "someone", nil
	}
	key := apikey.MustStatic(map[string]string{"ci": "ci-key-0123456789"})
	cfg := jwt.Config{Secret: []byte(strings.Repeat("s", 32)), Algorithms: []string{"HS256"}}
	var (
		httpBearer    = auth.Description{Type: "http", Scheme: "bearer"}
		jwtBearer     = auth.Description{Type: "http", Scheme: "bearer", BearerFormat: "JWT"}
		apiKeyHeader  = auth.Description{Type: "apiKey", In: "header", Name: "X-Api-Key"}
		customHeader  = auth.Description{Type: "apiKey", In: "header", Name: "X-Custom-Token"}
		sessionCookie = auth.Description{Type: "apiKey", In: "cookie", Name: "session"}
		accessToken   = auth.Description{Type: "apiKey", In: "query", Name: "access_token"}
	)
	tests := []struct {
		name string
		a    describedAuth
		// present builds a request carrying the credential cred.
		present func(cred string) *http.Request
		// wantMissing are the WWW-Authenticate lines of a 401 without a
		// credential; wantInvalid the challenge schemes of a 401 for a bad one.
		wantMissing  []string
		wantInvalid  []string
		wantDescs    []auth.Description
		wantBadToken string // a credential of the right place but wrong value
	}{
		{
			name: "bearer", a: auth.New(auth.Bearer(), verify),
			present:     func(c string) *http.Request { return newRequest(t, "/", bearer(c)) },
			wantMissing: []string{"Bearer"}, wantInvalid: []string{`Bearer error="invalid_token", error_description="Unknown credential"`},
			wantDescs: []auth.Description{httpBearer},
		},
		{
			name: "API key header", a: apikey.New(key),
			present:     func(c string) *http.Request { return newRequest(t, "/", header{name: "X-Api-Key", value: c}) },
			wantMissing: []string{"APIKey"}, wantInvalid: []string{"APIKey"},
			wantDescs: []auth.Description{apiKeyHeader},
		},
		{
			name: "API key in another header", a: apikey.New(key, apikey.WithHeader("x-custom-token")),
			present:     func(c string) *http.Request { return newRequest(t, "/", header{name: "X-Custom-Token", value: c}) },
			wantMissing: []string{"APIKey"}, wantInvalid: []string{"APIKey"},
			wantDescs: []auth.Description{customHeader},
		},
		{
			name: "custom header", a: auth.New(auth.Header("x-custom-token"), verify),
			present:     func(c string) *http.Request { return newRequest(t, "/", header{name: "X-Custom-Token", value: c}) },
			wantMissing: nil, wantInvalid: nil,
			wantDescs: []auth.Description{customHeader},
		},
		{
			name: "cookie", a: auth.New(auth.Cookie("session"), verify),
			present:     func(c string) *http.Request { return newRequest(t, "/", header{name: "Cookie", value: "session=" + c}) },
			wantMissing: nil, wantInvalid: nil,
			wantDescs: []auth.Description{sessionCookie},
		},
		{
			name: "query", a: auth.New(auth.Query("access_token"), verify),
			present:     func(c string) *http.Request { return newRequest(t, "/?access_token="+c) },
			wantMissing: []string{"Bearer"}, wantInvalid: []string{`Bearer error="invalid_token", error_description="Unknown credential"`},
			wantDescs: []auth.Description{accessToken},
		},
		{
			name: "first of bearer and cookie", a: auth.New(auth.FirstOf(auth.Bearer(), auth.Cookie("session")), verify),
			present:     func(c string) *http.Request { return newRequest(t, "/", header{name: "Cookie", value: "session=" + c}) },
			wantMissing: []string{"Bearer"}, wantInvalid: []string{`Bearer error="invalid_token", error_description="Unknown credential"`},
			wantDescs: []auth.Description{httpBearer, sessionCookie},
		},
		{
			name: "scheme func", a: auth.New(auth.SchemeFunc(func(r *http.Request) (string, error) { return r.Header.Get("X-Token"), nil }), verify),
			present:     func(c string) *http.Request { return newRequest(t, "/", header{name: "X-Token", value: c}) },
			wantMissing: nil, wantInvalid: nil, wantDescs: nil,
		},
		{
			name: "scheme func with explicit challenge and description",
			a: auth.New(auth.SchemeFunc(func(r *http.Request) (string, error) { return auth.ParseAuthorization(r.Header, "Session") }), verify,
				auth.WithChallenge("Session", "api"), auth.WithDescription(auth.Description{Type: "http", Scheme: "session"})),
			present: func(c string) *http.Request {
				return newRequest(t, "/", header{name: "Authorization", value: "Session " + c})
			},
			wantMissing: []string{`Session realm="api"`}, wantInvalid: []string{`Session realm="api"`},
			wantDescs: []auth.Description{{Type: "http", Scheme: "session"}},
		},
		{
			name: "jwt", a: jwt.MustNew(cfg),
			present:     func(c string) *http.Request { return newRequest(t, "/", bearer(c)) },
			wantMissing: []string{"Bearer"}, wantInvalid: []string{`Bearer error="invalid_token", error_description=`},
			wantDescs: []auth.Description{jwtBearer},
		},
		{
			name: "jwt in a cookie", a: jwt.MustNew(cfg, jwt.WithScheme(auth.Cookie("session"))),
			present:     func(c string) *http.Request { return newRequest(t, "/", header{name: "Cookie", value: "session=" + c}) },
			wantMissing: nil, wantInvalid: nil,
			wantDescs: []auth.Description{sessionCookie},
		},
		{
			name: "jwt in the query", a: jwt.MustNew(cfg, jwt.WithScheme(auth.Query("access_token"))),
			present:     func(c string) *http.Request { return newRequest(t, "/?access_token="+c) },
			wantMissing: []string{"Bearer"}, wantInvalid: []string{`Bearer error="invalid_token", error_description=`},
			wantDescs: []auth.Description{accessToken},
		},
		{
			name: "jwt in a bearer header or a cookie", a: jwt.MustNew(cfg, jwt.WithScheme(auth.FirstOf(auth.Bearer(), auth.Cookie("session")))),
			present:     func(c string) *http.Request { return newRequest(t, "/", header{name: "Cookie", value: "session=" + c}) },
			wantMissing: []string{"Bearer"}, wantInvalid: []string{`Bearer error="invalid_token", error_description=`},
			wantDescs: []auth.Description{jwtBearer, sessionCookie},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, tt.a.Guard(subHandler), newRequest(t, "/"))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("without a credential: status %d; want 401", rec.Code)
			}
			checkChallenges(t, rec, tt.wantMissing...)

			rec = serve(t, tt.a.Guard(subHandler), tt.present("wrong"))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("with a bad credential: status %d; want 401", rec.Code)
			}
			got := rec.Header().Values("WWW-Authenticate")
			if len(got) != len(tt.wantInvalid) {
				t.Errorf("with a bad credential: WWW-Authenticate = %q; want %q", got, tt.wantInvalid)
			}
			for i := range min(len(got), len(tt.wantInvalid)) {
				if !strings.HasPrefix(got[i], tt.wantInvalid[i]) {
					t.Errorf("with a bad credential: WWW-Authenticate[%d] = %q; want %q…", i, got[i], tt.wantInvalid[i])
				}
			}
			var wantChallenges []string
			for _, c := range tt.a.Challenges() {
				wantChallenges = append(wantChallenges, c.Scheme)
			}
			for i, line := range tt.wantMissing {
				if i >= len(wantChallenges) || !strings.HasPrefix(line, wantChallenges[i]) {
					t.Errorf("Challenges() = %v; does not match the header %q", tt.a.Challenges(), tt.wantMissing)
				}
			}

			if got := tt.a.Descriptions(); fmt.Sprint(got) != fmt.Sprint(tt.wantDescs) {
				t.Errorf("Descriptions() = %+v; want %+v", got, tt.wantDescs)
			}
			var first auth.Description
			if len(tt.wantDescs) > 0 {
				first = tt.wantDescs[0]
			}
			if got := tt.a.Description(); got != first {
				t.Errorf("Description() = %+v; want %+v", got, first)
			}
		})
	}
}

// Derived auths keep the descriptions of their source; AnyOf lists its
// members' as alternatives, without repeats.
func TestDescriptionsOfDerivedAuths(t *testing.T) {
	t.Parallel()
	tokens, _ := newTokenAuth(t)
	keys := apikey.New(apikey.MustStatic(map[string]string{"bob": "bob-key-0123456789"}))
	cookie := auth.New(auth.Cookie("session"), func(context.Context, string) (auth.Claims, error) { return auth.Claims{}, nil })
	user := auth.Then(tokens.Requires("reports:read"), loadUser)
	either := auth.AnyOf(user, auth.Then(keys, func(context.Context, apikey.Principal) (User, error) { return User{}, nil }), auth.Then(tokens, loadUser))
	claims := auth.AnyOf(tokens, cookie)

	bearerD := auth.Description{Type: "http", Scheme: "bearer"}
	keyD := auth.Description{Type: "apiKey", In: "header", Name: "X-Api-Key"}
	cookieD := auth.Description{Type: "apiKey", In: "cookie", Name: "session"}
	for name, tt := range map[string]struct {
		got, want []auth.Description
	}{
		"Requires then Then": {got: user.Descriptions(), want: []auth.Description{bearerD}},
		"AnyOf":              {got: either.Descriptions(), want: []auth.Description{bearerD, keyD}},
		"AnyOf with cookie":  {got: claims.Descriptions(), want: []auth.Description{bearerD, cookieD}},
	} {
		if fmt.Sprint(tt.got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: Descriptions() = %+v; want %+v", name, tt.got, tt.want)
		}
	}
	// The returned slice is a copy.
	d := either.Descriptions()
	d[0].Name = "mutated"
	if either.Descriptions()[0].Name != "" {
		t.Error("Descriptions() returned the Auth's own slice")
	}
	// WithBearerFormat changes only bearer descriptions.
	a := auth.New(auth.FirstOf(auth.Bearer(), auth.Cookie("session")), func(context.Context, string) (string, error) { return "", nil },
		auth.WithBearerFormat("JWT"))
	want := []auth.Description{{Type: "http", Scheme: "bearer", BearerFormat: "JWT"}, cookieD}
	if got := a.Descriptions(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("WithBearerFormat: Descriptions() = %+v; want %+v", got, want)
	}
}
