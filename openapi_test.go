package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
)

var (
	bearerDesc  = auth.Description{Type: "http", Scheme: "bearer"}
	keyDesc     = auth.Description{Type: "apiKey", In: "header", Name: "X-Api-Key"}
	cookieDesc  = auth.Description{Type: "apiKey", In: "cookie", Name: "session"}
	queryDesc   = auth.Description{Type: "apiKey", In: "query", Name: "access_token"}
	verifyClaim = func(context.Context, string) (auth.Claims, error) { return auth.Claims{}, nil }
)

func TestRequirements(t *testing.T) {
	t.Parallel()
	tokens := auth.NewScoped(auth.Bearer(), verifyClaim, nil)
	keys := apikey.New(apikey.MustStatic(map[string]string{"ci": "ci-key-0123456789"}))
	keyClaims := auth.Then(keys, func(context.Context, apikey.Principal) (auth.Claims, error) { return auth.Claims{}, nil })
	narrowed := auth.Scoped(tokens.Requires("items:read"), nil).Requires("items:edit", "items:read")
	tests := []struct {
		name string
		a    auth.Documented
		want []auth.Requirement
	}{
		{name: "bearer", a: tokens, want: []auth.Requirement{{Description: bearerDesc}}},
		{name: "requires", a: tokens.Requires("items:read", "items:edit"),
			want: []auth.Requirement{{Description: bearerDesc, Scopes: []string{"items:read", "items:edit"}}}},
		{name: "requires nothing", a: tokens.Requires(), want: []auth.Requirement{{Description: bearerDesc}}},
		{name: "requires of requires", a: narrowed,
			want: []auth.Requirement{{Description: bearerDesc, Scopes: []string{"items:read", "items:edit"}}}},
		{name: "then keeps the requirement", a: auth.Then(tokens.Requires("a:b"), func(context.Context, auth.Claims) (string, error) { return "", nil }),
			want: []auth.Requirement{{Description: bearerDesc, Scopes: []string{"a:b"}}}},
		{name: "api key", a: keys, want: []auth.Requirement{{Description: keyDesc}}},
		{name: "any of", a: auth.AnyOf(tokens.Requires("x:read"), keyClaims, tokens.Requires("x:read")),
			want: []auth.Requirement{{Description: bearerDesc, Scopes: []string{"x:read"}}, {Description: keyDesc}}},
		{name: "first of", a: auth.NewScoped(auth.FirstOf(auth.Bearer(), auth.Cookie("session"), auth.Query("access_token")), verifyClaim, nil).Requires("r:w"),
			want: []auth.Requirement{
				{Description: bearerDesc, Scopes: []string{"r:w"}},
				{Description: cookieDesc, Scopes: []string{"r:w"}},
				{Description: queryDesc, Scopes: []string{"r:w"}},
			}},
		{name: "scheme func", a: auth.New(auth.SchemeFunc(func(*http.Request) (string, error) { return "", nil }), verifyClaim), want: nil},
		{name: "scheme func described", a: auth.New(auth.SchemeFunc(func(*http.Request) (string, error) { return "", nil }), verifyClaim,
			auth.WithDescription(auth.Description{Type: "http", Scheme: "Token"})),
			want: []auth.Requirement{{Description: auth.Description{Type: "http", Scheme: "Token"}}}},
		{name: "described as nothing", a: auth.New(auth.Bearer(), verifyClaim, auth.WithDescription(auth.Description{})), want: nil},
		{name: "bearer format", a: auth.New(auth.Bearer(), verifyClaim, auth.WithBearerFormat("JWT")),
			want: []auth.Requirement{{Description: auth.Description{Type: "http", Scheme: "bearer", BearerFormat: "JWT"}}}},
		{name: "nil auth", a: (*auth.Auth[auth.Claims])(nil), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.a.Requirements(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Requirements() = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestRequirementsAreCopies(t *testing.T) {
	t.Parallel()
	a := auth.NewScoped(auth.Bearer(), verifyClaim, nil).Requires("a:read")
	got := a.Requirements()
	got[0].Scopes[0] = "admin"
	got[0].Description.Name = "changed"
	if again := a.Requirements(); again[0].Scopes[0] != "a:read" || again[0].Description != bearerDesc {
		t.Errorf("Requirements() after modifying a copy = %+v; want the original", again)
	}
}

func TestSecuritySchemesRequire(t *testing.T) {
	t.Parallel()
	tokens := auth.NewScoped(auth.Bearer(), verifyClaim, nil, auth.WithBearerFormat("JWT"))
	keys := apikey.New(apikey.MustStatic(map[string]string{"ci": "ci-key-0123456789"}), apikey.WithDescription("Service key"))
	keyClaims := auth.Then(keys, func(context.Context, apikey.Principal) (auth.Claims, error) { return auth.Claims{}, nil })
	s := auth.SecuritySchemes{}

	check := func(name string, a auth.Documented, want []auth.SecurityRequirement) {
		t.Helper()
		if got := s.Require(a); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Require = %v; want %v", name, got, want)
		}
	}
	check("scopes", tokens.Requires("items:read"), []auth.SecurityRequirement{{"bearer": {"items:read"}}})
	check("no scopes", tokens, []auth.SecurityRequirement{{"bearer": {}}})
	check("any of", auth.AnyOf(tokens.Requires("x:read"), keyClaims), []auth.SecurityRequirement{{"bearer": {"x:read"}}, {"header.X-Api-Key": {}}})
	// The same place under another description shares the entry.
	check("other text, same place", auth.New(auth.Header("x-api-key"), verifyClaim), []auth.SecurityRequirement{{"header.X-Api-Key": {}}})
	check("cookie and query", auth.New(auth.FirstOf(auth.Cookie("session"), auth.Query("access_token")), verifyClaim),
		[]auth.SecurityRequirement{{"cookie.session": {}}, {"query.access_token": {}}})
	check("basic", auth.New(auth.SchemeFunc(func(*http.Request) (string, error) { return "", nil }), verifyClaim,
		auth.WithDescription(auth.Description{Type: "http", Scheme: "Basic"})), []auth.SecurityRequirement{{"basic": {}}})
	check("undescribed", auth.New(auth.SchemeFunc(func(*http.Request) (string, error) { return "", nil }), verifyClaim), nil)
	check("nil", nil, nil)

	want := auth.SecuritySchemes{
		"bearer":             {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
		"header.X-Api-Key":   {Type: "apiKey", In: "header", Name: "X-Api-Key", Description: "Service key"},
		"cookie.session":     {Type: "apiKey", In: "cookie", Name: "session"},
		"query.access_token": {Type: "apiKey", In: "query", Name: "access_token"},
		"basic":              {Type: "http", Scheme: "Basic"},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("schemes = %+v; want %+v", s, want)
	}
}

func TestSecuritySchemesNames(t *testing.T) {
	t.Parallel()
	verify := verifyClaim
	s := auth.SecuritySchemes{
		// A user's entry for another place holds the name "bearer".
		"bearer": {Type: "apiKey", In: "header", Name: "Bearer"},
	}
	if got, want := s.Require(auth.New(auth.Bearer(), verify)), []auth.SecurityRequirement{{"bearer-2": {}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require(bearer) = %v; want %v", got, want)
	}
	if got, want := s.Require(auth.New(auth.Header("X-Key!"), verify)), []auth.SecurityRequirement{{"header.X-Key_": {}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require(header X-Key!) = %v; want %v", got, want)
	}
	if got, want := s.Require(auth.New(auth.Query("a b"), verify)), []auth.SecurityRequirement{{"query.a_b": {}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require(query \"a b\") = %v; want %v", got, want)
	}
	oidc := auth.Description{Type: "openIdConnect", OpenIDConnectURL: "https://id.example.com/.well-known/openid-configuration"}
	s2 := auth.SecuritySchemes{}
	if got, want := s2.Require(auth.New(auth.Bearer(), verify, auth.WithDescription(oidc))), []auth.SecurityRequirement{{"openIdConnect": {}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require(oidc) = %v; want %v", got, want)
	}
	// A plain bearer auth later documents the same header: it shares the
	// OpenID Connect entry.
	if got, want := s2.Require(auth.New(auth.Bearer(), verify)), []auth.SecurityRequirement{{"openIdConnect": {}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require(bearer after oidc) = %v; want %v", got, want)
	}
	if got := s2["openIdConnect"]; got != (auth.SecurityScheme{Type: "openIdConnect", OpenIDConnectURL: oidc.OpenIDConnectURL}) {
		t.Errorf(`s2["openIdConnect"] = %+v`, got)
	}
	for _, tt := range []struct {
		sc   auth.SecurityScheme
		want string
	}{
		{sc: auth.SecurityScheme{Type: "http", Scheme: "Bearer"}, want: "bearer"},
		{sc: auth.SecurityScheme{Type: "http", Scheme: "DPoP"}, want: "dpop"},
		{sc: auth.SecurityScheme{Type: "oauth2"}, want: "oauth2"},
		{sc: auth.SecurityScheme{Type: "mutualTLS"}, want: "mutualTLS"},
		{sc: auth.SecurityScheme{Type: "apiKey", In: "cookie", Name: "sid"}, want: "cookie.sid"},
		{sc: auth.SecurityScheme{Type: "http"}, want: "auth"},
		{sc: auth.SecurityScheme{}, want: "auth"},
		{sc: auth.SecurityScheme{Type: "apiKey", In: "query", Name: "ключ"}, want: "query.____"},
	} {
		if got := auth.SchemeName(tt.sc); got != tt.want {
			t.Errorf("SchemeName(%+v) = %q; want %q", tt.sc, got, tt.want)
		}
	}
}

func TestSecuritySchemesOverrides(t *testing.T) {
	t.Parallel()
	tokens := auth.NewScoped(auth.Bearer(), verifyClaim, nil, auth.WithBearerFormat("JWT"))
	keys := apikey.New(apikey.MustStatic(map[string]string{"ci": "ci-key-0123456789"}))
	flows := &auth.OAuthFlows{
		ClientCredentials: &auth.OAuthFlow{TokenURL: "https://id.example.com/oauth/token", Scopes: map[string]string{"items:read": "Read items"}},
		AuthorizationCode: &auth.OAuthFlow{AuthorizationURL: "https://id.example.com/authorize", TokenURL: "https://id.example.com/oauth/token"},
	}
	s := auth.SecuritySchemes{
		"oauth":      {Type: "oauth2", Flows: flows},
		"serviceKey": {Type: "apiKey", In: "header", Name: "x-api-key", Description: "Issued per client"},
		// Of two entries for one place, the one of the same type wins.
		"aaBearer": {Type: "http", Scheme: "bearer"},
	}
	if got, want := s.Require(keys), []auth.SecurityRequirement{{"serviceKey": {}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require(keys) = %v; want %v", got, want)
	}
	if got, want := s.Require(tokens.Requires("items:read", "items:edit")), []auth.SecurityRequirement{{"aaBearer": {"items:read", "items:edit"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require(tokens) = %v; want %v", got, want)
	}
	delete(s, "aaBearer")
	if got, want := s.Require(tokens.Requires("items:read", "items:edit")), []auth.SecurityRequirement{{"oauth": {"items:read", "items:edit"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require(tokens) = %v; want %v", got, want)
	}
	wantCC := map[string]string{"items:read": "Read items", "items:edit": ""}
	wantAC := map[string]string{"items:read": "", "items:edit": ""}
	if !reflect.DeepEqual(flows.ClientCredentials.Scopes, wantCC) || !reflect.DeepEqual(flows.AuthorizationCode.Scopes, wantAC) {
		t.Errorf("flow scopes = %v, %v; want %v, %v", flows.ClientCredentials.Scopes, flows.AuthorizationCode.Scopes, wantCC, wantAC)
	}
	if len(s) != 2 {
		t.Errorf("Require added entries: %+v", s)
	}
}

func TestSecuritySchemesOptional(t *testing.T) {
	t.Parallel()
	s := auth.SecuritySchemes{}
	tokens := auth.NewScoped(auth.Bearer(), verifyClaim, nil)
	got, err := json.Marshal(s.Optional(tokens.Requires("feed:read")))
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"bearer":["feed:read"]},{}]`; string(got) != want {
		t.Errorf("Optional = %s; want %s", got, want)
	}
	if got := s.Optional(auth.New(auth.SchemeFunc(func(*http.Request) (string, error) { return "", nil }), verifyClaim)); got != nil {
		t.Errorf("Optional(undescribed) = %v; want nil", got)
	}
}

func TestSecuritySchemeJSON(t *testing.T) {
	t.Parallel()
	s := auth.SecuritySchemes{"oauth": {Type: "oauth2", Flows: &auth.OAuthFlows{
		ClientCredentials: &auth.OAuthFlow{TokenURL: "https://id.example.com/token"},
	}}}
	sec := s.Require(auth.NewScoped(auth.Bearer(), verifyClaim, nil).Requires("a:read"))
	sec = append(sec, s.Require(apikey.New(apikey.MustStatic(map[string]string{"ci": "ci-key-0123456789"})))...)
	got, err := json.Marshal(map[string]any{"schemes": s, "security": sec})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemes":{"header.X-Api-Key":{"type":"apiKey","name":"X-Api-Key","in":"header"},` +
		`"oauth":{"type":"oauth2","flows":{"clientCredentials":{"tokenUrl":"https://id.example.com/token","scopes":{"a:read":""}}}}},` +
		`"security":[{"oauth":["a:read"]},{"header.X-Api-Key":[]}]}`
	if string(got) != want {
		t.Errorf("JSON =\n%s; want\n%s", got, want)
	}
	empty, err := json.Marshal(auth.OAuthFlow{})
	if err != nil {
		t.Fatal(err)
	}
	if string(empty) != `{"scopes":{}}` {
		t.Errorf("empty flow = %s", empty)
	}
}

func TestWithOpenIDConnect(t *testing.T) {
	t.Parallel()
	const url = "https://id.example.com/.well-known/openid-configuration"
	oidc := auth.Description{Type: "openIdConnect", OpenIDConnectURL: url}
	tests := []struct {
		name string
		a    auth.Documented
		want []auth.Requirement
	}{
		{name: "bearer", a: auth.NewScoped(auth.Bearer(), verifyClaim, nil, auth.WithBearerFormat("JWT"), auth.WithOpenIDConnect(url)).Requires("a:read"),
			want: []auth.Requirement{{Description: oidc, Scopes: []string{"a:read"}}}},
		{name: "bearer or cookie", a: auth.New(auth.FirstOf(auth.Bearer(), auth.Cookie("session")), verifyClaim, auth.WithOpenIDConnect(url)),
			want: []auth.Requirement{{Description: oidc}, {Description: cookieDesc}}},
		{name: "query token unchanged", a: auth.New(auth.Query("access_token"), verifyClaim, auth.WithOpenIDConnect(url)),
			want: []auth.Requirement{{Description: queryDesc}}},
		{name: "empty URL", a: auth.New(auth.Bearer(), verifyClaim, auth.WithOpenIDConnect("")),
			want: []auth.Requirement{{Description: bearerDesc}}},
		{name: "text kept", a: auth.New(auth.Bearer(), verifyClaim, auth.WithDescription(auth.Description{Type: "http", Scheme: "Bearer", Description: "staff"}), auth.WithOpenIDConnect(url)),
			want: []auth.Requirement{{Description: auth.Description{Type: "openIdConnect", OpenIDConnectURL: url, Description: "staff"}}}},
	}
	for _, tt := range tests {
		if got := tt.a.Requirements(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Requirements() = %+v; want %+v", tt.name, got, tt.want)
		}
	}
	s := auth.SecuritySchemes{}
	if got, want := s.Require(tests[0].a), []auth.SecurityRequirement{{"openIdConnect": {"a:read"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require = %v; want %v", got, want)
	}
	if got, want := s["openIdConnect"], (auth.SecurityScheme{Type: "openIdConnect", OpenIDConnectURL: url}); got != want {
		t.Errorf("scheme = %+v; want %+v", got, want)
	}
}
