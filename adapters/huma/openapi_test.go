package authhuma_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/huma"
	"github.com/typedauth/auth/internal/conformance"
)

// document fetches the OpenAPI document that h serves and decodes it.
func document(t *testing.T, h http.Handler) map[string]any {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", resp.StatusCode, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decoding the document: %v", err)
	}
	return doc
}

// lookup follows keys through nested JSON objects.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The conformance API documents each operation with exactly the security
// its auth enforces.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	_, h := newAPI(conformance.NewStack(), false)
	doc := document(t, h)
	if got, want := jsonOf(t, lookup(doc, "components", "securitySchemes")),
		`{"bearer":{"scheme":"bearer","type":"http"},"header.X-Api-Key":{"in":"header","name":"X-Api-Key","type":"apiKey"}}`; got != want {
		t.Errorf("securitySchemes = %s; want %s", got, want)
	}
	tests := []struct {
		path, method string
		security     string // "" for none
		responses    string // the auth responses 401 and 403 it documents
	}{
		{path: "/public", method: "get", security: "", responses: ""},
		{path: "/me", method: "get", security: `[{"bearer":[]}]`, responses: "401"},
		{path: "/typed", method: "get", security: `[{"bearer":[]}]`, responses: "401"},
		{path: "/stages", method: "get", security: `[{"bearer":[]}]`, responses: "401"},
		{path: "/feed", method: "get", security: `[{"bearer":[]},{}]`, responses: "401"},
		{path: "/reports", method: "get", security: `[{"bearer":["reports:read"]}]`, responses: "401 403"},
		{path: "/service", method: "get", security: `[{"header.X-Api-Key":[]}]`, responses: "401"},
		{path: "/whoami", method: "get", security: `[{"bearer":[]},{"header.X-Api-Key":[]}]`, responses: "401"},
		{path: "/items", method: "get", security: `[{"bearer":["items:read"]}]`, responses: "401 403"},
		{path: "/items", method: "post", security: `[{"bearer":["items:read"]}]`, responses: "401 403"},
		{path: "/items/{id}", method: "get", security: `[{"bearer":["items:read"]}]`, responses: "401 403"},
	}
	for _, tt := range tests {
		op := lookup(doc, "paths", tt.path, tt.method)
		if op == nil {
			t.Errorf("%s %s: not in the document", tt.method, tt.path)
			continue
		}
		sec := lookup(op, "security")
		if tt.security == "" {
			if sec != nil {
				t.Errorf("%s %s: security = %s; want none", tt.method, tt.path, jsonOf(t, sec))
			}
		} else if got := jsonOf(t, sec); got != tt.security {
			t.Errorf("%s %s: security = %s; want %s", tt.method, tt.path, got, tt.security)
		}
		var codes []string
		for _, code := range []string{"401", "403"} {
			if r := lookup(op, "responses", code); r != nil {
				codes = append(codes, code)
				if ref := lookup(r, "content", "application/problem+json", "schema", "$ref"); ref != "#/components/schemas/ErrorModel" {
					t.Errorf("%s %s: %s schema = %v; want the ErrorModel", tt.method, tt.path, code, ref)
				}
			}
		}
		if got := strings.Join(codes, " "); got != tt.responses {
			t.Errorf("%s %s: auth responses %q; want %q", tt.method, tt.path, got, tt.responses)
		}
		if tt.responses != "" && lookup(op, "responses", "401", "headers", "WWW-Authenticate") == nil {
			t.Errorf("%s %s: the 401 response does not document WWW-Authenticate", tt.method, tt.path)
		}
	}
}

// A scheme the user put in the components first is used under its name, and
// an oauth2 scheme's flows list the scopes that operations require.
func TestOpenAPIOverrides(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Overrides", "1.0.0"))
	api.OpenAPI().Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"oauth": {Type: "oauth2", Flows: &huma.OAuthFlows{
			ClientCredentials: &huma.OAuthFlow{TokenURL: "https://id.example.com/token", Scopes: map[string]string{"reports:read": "Read reports"}},
			AuthorizationCode: &huma.OAuthFlow{AuthorizationURL: "https://id.example.com/authorize", TokenURL: "https://id.example.com/token"},
		}},
		"serviceKey": {Type: "apiKey", In: "header", Name: "x-api-key", Description: "Issued per client"},
	}
	s := conformance.NewStack()
	if got, want := authhuma.Security(api, s.Reports), []map[string][]string{{"oauth": {"reports:read"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Security(Reports) = %v; want %v", got, want)
	}
	if got, want := authhuma.Security(api, s.Items), []map[string][]string{{"oauth": {"items:read"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Security(Items) = %v; want %v", got, want)
	}
	if got, want := authhuma.Security(api, s.Either), []map[string][]string{{"oauth": {}}, {"serviceKey": {}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Security(Either) = %v; want %v", got, want)
	}
	schemes := api.OpenAPI().Components.SecuritySchemes
	if len(schemes) != 2 {
		t.Errorf("schemes = %v; want the two given", schemes)
	}
	flows := schemes["oauth"].Flows
	if got, want := flows.ClientCredentials.Scopes, map[string]string{"reports:read": "Read reports", "items:read": ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("clientCredentials scopes = %v; want %v", got, want)
	}
	if got, want := flows.AuthorizationCode.Scopes, map[string]string{"reports:read": "", "items:read": ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("authorizationCode scopes = %v; want %v", got, want)
	}
	if got := schemes["serviceKey"].Description; got != "Issued per client" {
		t.Errorf("serviceKey description = %q", got)
	}
}

func TestOpenAPIOwnResponsesKept(t *testing.T) {
	t.Parallel()
	api := humago.New(http.NewServeMux(), huma.DefaultConfig("Own", "1.0.0"))
	own := &huma.Response{Description: "mine"}
	op := authhuma.Operation(api, conformance.NewStack().Reports, huma.Operation{
		Method: http.MethodGet, Path: "/x", Responses: map[string]*huma.Response{"403": own},
	})
	if op.Responses["403"] != own {
		t.Errorf("403 response replaced: %+v", op.Responses["403"])
	}
	if op.Responses["401"] == nil {
		t.Errorf("no 401 response")
	}
	if len(op.Middlewares) != 1 {
		t.Errorf("%d middlewares; want 1", len(op.Middlewares))
	}
}

func TestPanics(t *testing.T) {
	t.Parallel()
	undescribed := auth.New(auth.SchemeFunc(func(r *http.Request) (string, error) { return r.Header.Get("X-T"), nil }),
		func(context.Context, string) (string, error) { return "p", nil })
	newAPI := func() huma.API { return humago.New(http.NewServeMux(), huma.DefaultConfig("P", "1.0.0")) }
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{name: "Middleware nil", f: func() { authhuma.Middleware(nil) }, want: "authhuma: Middleware: nil auth"},
		{name: "Optional nil", f: func() { authhuma.Optional(nil) }, want: "authhuma: Optional: nil auth"},
		{name: "Security nil", f: func() { authhuma.Security(newAPI(), nil) }, want: "authhuma: Security: nil auth"},
		{name: "Security typed nil", f: func() { authhuma.Security(newAPI(), (*auth.Auth[string])(nil)) }, want: "authhuma: Security: nil auth"},
		{name: "Security undescribed", f: func() { authhuma.Security(newAPI(), undescribed) },
			want: "authhuma: Security: the auth describes no credential; give it auth.WithDescription"},
		{name: "OptionalSecurity undescribed", f: func() { authhuma.OptionalSecurity(newAPI(), undescribed) },
			want: "authhuma: OptionalSecurity: the auth describes no credential; give it auth.WithDescription"},
		{name: "Operation nil", f: func() { authhuma.Operation(newAPI(), nil, huma.Operation{}) }, want: "authhuma: Operation: nil auth"},
		{name: "OptionalOperation nil", f: func() { authhuma.OptionalOperation(newAPI(), nil, huma.Operation{}) }, want: "authhuma: OptionalOperation: nil auth"},
		{name: "Group nil group", f: func() { authhuma.Group(nil, undescribed) }, want: "authhuma: Group: nil group"},
		{name: "Group nil auth", f: func() { authhuma.Group(huma.NewGroup(newAPI()), nil) }, want: "authhuma: Group: nil auth"},
		{name: "Group undescribed", f: func() { authhuma.Group(huma.NewGroup(newAPI()), undescribed) },
			want: "authhuma: Security: the auth describes no credential; give it auth.WithDescription"},
		{name: "Register nil auth", f: func() {
			authhuma.Register(newAPI(), get("x", "/x"), (*auth.Auth[string])(nil), func(context.Context, string, *struct{}) (*struct{}, error) { return nil, nil })
		}, want: "authhuma: Register: nil auth"},
		{name: "Register nil handler", f: func() {
			authhuma.Register[struct{}, struct{}](newAPI(), get("x", "/x"), undescribed, nil)
		}, want: "authhuma: Register: nil handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if got := recover(); got != tt.want {
					t.Errorf("panic = %v; want %q", got, tt.want)
				}
			}()
			tt.f()
		})
	}
}

// An operation of a protected group that is protected again must satisfy
// both, in the document as on the wire.
func TestGroupAndOperation(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Both", "1.0.0"))
	tokens := conformance.Tokens()
	s := conformance.NewStack()

	g := huma.NewGroup(api, "/g")
	authhuma.Group(g, tokens.Requires("items:read"))
	huma.Register(g, authhuma.Operation(g, tokens.Requires("items:edit"), get("edit", "/edit")), func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
	huma.Register(g, authhuma.OptionalOperation(g, tokens, get("optional", "/optional")), func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
	huma.Register(g, get("plain", "/plain"), func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })

	// A group without a prefix: huma modifies the same operation twice.
	bare := huma.NewGroup(api)
	authhuma.Group(bare, s.Either)
	huma.Register(bare, authhuma.Operation(bare, s.Reports, get("bare-reports", "/bare/reports")), func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
	huma.Register(bare, get("bare-plain", "/bare/plain"), func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })

	either := huma.NewGroup(api, "/either")
	authhuma.Group(either, s.Either)
	huma.Register(either, authhuma.Operation(either, s.Reports, get("reports", "/reports")), func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })

	paths := api.OpenAPI().Paths
	for _, tt := range []struct {
		path string
		want string
	}{
		{path: "/g/edit", want: `[{"bearer":["items:read","items:edit"]}]`},
		{path: "/g/optional", want: `[{"bearer":["items:read"]}]`},
		{path: "/g/plain", want: `[{"bearer":["items:read"]}]`},
		{path: "/either/reports", want: `[{"bearer":["reports:read"]},{"bearer":["reports:read"],"header.X-Api-Key":[]}]`},
		{path: "/bare/reports", want: `[{"bearer":["reports:read"]},{"bearer":["reports:read"],"header.X-Api-Key":[]}]`},
		{path: "/bare/plain", want: `[{"bearer":[]},{"header.X-Api-Key":[]}]`},
	} {
		if got := jsonOf(t, paths[tt.path].Get.Security); got != tt.want {
			t.Errorf("%s: security = %s; want %s", tt.path, got, tt.want)
		}
	}
	for _, tt := range []struct {
		path, authorization string
		want                int
	}{
		{path: "/g/edit", authorization: "Bearer tok-ann.items_read", want: http.StatusForbidden},
		{path: "/g/edit", authorization: "Bearer tok-ann.items_edit", want: http.StatusNoContent}, // edit implies read
		{path: "/g/edit", authorization: "Bearer tok-ann.reports_read", want: http.StatusForbidden},
		{path: "/g/plain", authorization: "Bearer tok-ann.items_read", want: http.StatusNoContent},
		{path: "/g/optional", authorization: "", want: http.StatusUnauthorized},
	} {
		if rec := conformance.Serve(t, mux, "GET", tt.path, tt.authorization); rec.Code != tt.want {
			t.Errorf("%s with %q: %d; want %d", tt.path, tt.authorization, rec.Code, tt.want)
		}
	}
}

// Two Operations on one operation require both auths, in the document as on
// the wire; security the operation had as an empty list is no requirement.
func TestOperationTwice(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Twice", "1.0.0"))
	s := conformance.NewStack()
	op := authhuma.Operation(api, s.Keys, authhuma.Operation(api, s.Reports, get("both", "/both")))
	huma.Register(api, op, func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
	if got, want := jsonOf(t, op.Security), `[{"bearer":["reports:read"],"header.X-Api-Key":[]}]`; got != want {
		t.Errorf("security = %s; want %s", got, want)
	}
	empty := authhuma.Operation(api, s.Reports, huma.Operation{Method: http.MethodGet, Path: "/e", Security: []map[string][]string{}})
	if got, want := jsonOf(t, empty.Security), `[{"bearer":["reports:read"]}]`; got != want {
		t.Errorf("security over an empty list = %s; want %s", got, want)
	}
	for _, tt := range []struct {
		name   string
		header [][2]string
		want   int
	}{
		{name: "token only", header: [][2]string{{"Authorization", "Bearer t-bob"}}, want: http.StatusUnauthorized},
		{name: "key only", header: [][2]string{{"X-Api-Key", conformance.APIKey}}, want: http.StatusUnauthorized},
		{name: "both", header: [][2]string{{"Authorization", "Bearer t-bob"}, {"X-Api-Key", conformance.APIKey}}, want: http.StatusNoContent},
	} {
		req := httptest.NewRequest("GET", "/both", nil)
		for _, kv := range tt.header {
			req.Header.Add(kv[0], kv[1])
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: %d %s; want %d", tt.name, rec.Code, rec.Body, tt.want)
		}
	}
}
