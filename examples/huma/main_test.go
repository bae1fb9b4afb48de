package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/demotest"
)

const (
	secret = "0123456789abcdef0123456789abcdef"
	apiKey = "reporting-key-0123456789"
)

// start runs the program with a known secret and key and returns its base
// URL and output.
func start(t *testing.T) (string, *demotest.Output) {
	t.Helper()
	return demotest.Start(t, run, map[string]string{"JWT_SECRET": secret, "API_KEY": apiKey})
}

// Every operation, over real HTTP, with every kind of caller.
func TestOperations(t *testing.T) {
	t.Parallel()
	base, out := start(t)
	rita := out.Line(t, "token for rita (items:read): ")
	ed := out.Line(t, "token for ed (items:edit): ")
	sam := out.Line(t, "token for sam (profile): ")
	rex := out.Line(t, "token for rex (reports:read): ")
	if got := out.Line(t, "api key for reporting: "); got != apiKey {
		t.Errorf("printed API key %q; want %q", got, apiKey)
	}
	if got := out.Line(t, "docs: "); got != base+"/docs" {
		t.Errorf("printed docs URL %q; want %q", got, base+"/docs")
	}
	forged := demotest.MintHS256(t, "another secret, not the program's 0123", "urn:example:items", auth.Claims{"sub": "ed", "scope": "items:edit reports:read"})

	const (
		noToken     = "Bearer"
		badSig      = `Bearer error="invalid_token", error_description="Token signature is invalid"`
		needRead    = `Bearer error="insufficient_scope", scope="items:read"`
		needEdit    = `Bearer error="insufficient_scope", scope="items:edit"`
		needReports = `Bearer error="insufficient_scope", scope="reports:read"`
	)
	key := [][2]string{{"X-Api-Key", apiKey}}
	tests := []struct {
		name, method, path, token, body string
		header                          [][2]string
		want                            demotest.Want
		wantJSON                        string // a part of the body of a success
	}{
		{name: "healthz", path: "/healthz", want: demotest.Want{Status: 200}, wantJSON: `"status":"ok"`},
		{name: "healthz ignores a forged token", path: "/healthz", token: forged, want: demotest.Want{Status: 200}, wantJSON: `"status":"ok"`},

		{name: "me without a token", path: "/me", want: demotest.Want{Status: 401, Detail: "Missing credentials", Challenge: noToken}},
		{name: "me with a forged token", path: "/me", token: forged, want: demotest.Want{Status: 401, Detail: "Token signature is invalid", Challenge: badSig}},
		{name: "me with the API key", path: "/me", header: key, want: demotest.Want{Status: 401, Detail: "Missing credentials", Challenge: noToken}},
		{name: "me", path: "/me", token: sam, want: demotest.Want{Status: 200}, wantJSON: `"name":"sam","scopes":["profile"]`},

		{name: "list without a token", path: "/items", want: demotest.Want{Status: 401, Detail: "Missing credentials", Challenge: noToken}},
		{name: "list without the scope", path: "/items", token: sam, want: demotest.Want{Status: 403, Detail: "Token is missing required scope: items:read", Challenge: needRead}},
		{name: "list as a reader", path: "/items", token: rita, want: demotest.Want{Status: 200}, wantJSON: `"for":"rita","items":[{"id":1,"name":"notebook","created_by":"system"},{"id":2,"name":"stapler","created_by":"system"}]`},
		{name: "list as an editor", path: "/items", token: ed, want: demotest.Want{Status: 200}, wantJSON: `"for":"ed"`},

		{name: "get without a token", path: "/items/1", want: demotest.Want{Status: 401, Detail: "Missing credentials", Challenge: noToken}},
		{name: "get without the scope", path: "/items/1", token: rex, want: demotest.Want{Status: 403, Detail: "Token is missing required scope: items:read", Challenge: needRead}},
		{name: "get as a reader", path: "/items/2", token: rita, want: demotest.Want{Status: 200}, wantJSON: `"id":2,"name":"stapler"`},
		{name: "get a missing item", path: "/items/99", token: rita, want: demotest.Want{Status: 404, Detail: "No such item"}},

		{name: "create without a token", method: "POST", path: "/items", body: `{"name":"pen"}`, want: demotest.Want{Status: 401, Detail: "Missing credentials", Challenge: noToken}},
		{name: "create as a reader", method: "POST", path: "/items", token: rita, body: `{"name":"pen"}`, want: demotest.Want{Status: 403, Detail: "Token is missing required scope: items:edit", Challenge: needEdit}},
		{name: "create with a name too long in bytes", method: "POST", path: "/items", token: ed, body: `{"name":"` + strings.Repeat("日", 100) + `"}`,
			want: demotest.Want{Status: 413, Detail: "Item names are limited to 200 bytes"}},
		{name: "create with an empty name", method: "POST", path: "/items", token: ed, body: `{"name":""}`, want: demotest.Want{Status: 422}},

		{name: "reports without a credential", path: "/reports", want: demotest.Want{Status: 401, Detail: "Missing credentials", Challenge: noToken}},
		{name: "reports without the scope", path: "/reports", token: rita, want: demotest.Want{Status: 403, Detail: "Token is missing required scope: reports:read", Challenge: needReports}},
		{name: "reports with the scope", path: "/reports", token: rex, want: demotest.Want{Status: 200}, wantJSON: `"for":{"name":"rex","via":"token"}`},
		{name: "reports with the API key", path: "/reports", header: key, want: demotest.Want{Status: 200}, wantJSON: `"for":{"name":"reporting","via":"api key"}`},
		{name: "reports with a wrong API key", path: "/reports", header: [][2]string{{"X-Api-Key", "not-the-key-0123456789"}},
			want: demotest.Want{Status: 401, Detail: "Invalid API Key", Challenge: "APIKey"}},

		{name: "unknown path", path: "/nowhere", want: demotest.Want{Status: 404, Detail: "No such route"}},
	}
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				req := demotest.Request{Method: tt.method, URL: base + tt.path, Token: tt.token, Body: tt.body, Header: tt.header}
				if tt.body != "" {
					req.ContentType = "application/json"
				}
				r := demotest.Do(t, req)
				demotest.Check(t, r, tt.want)
				if tt.wantJSON != "" && !strings.Contains(r.Body, tt.wantJSON) {
					t.Errorf("body = %s; want it to contain %s", r.Body, tt.wantJSON)
				}
			})
		}
	})
	// The one success that changes state runs last, alone.
	t.Run("create as an editor", func(t *testing.T) {
		r := demotest.Do(t, demotest.Request{Method: "POST", URL: base + "/items", Token: ed, ContentType: "application/json", Body: `{"name":"pen"}`})
		demotest.Check(t, r, demotest.Want{Status: http.StatusCreated})
		if !strings.Contains(r.Body, `"id":3,"name":"pen","created_by":"ed"`) {
			t.Errorf("body = %s", r.Body)
		}
		r = demotest.Do(t, demotest.Request{URL: base + "/items/3", Token: rita})
		if !strings.Contains(r.Body, `"name":"pen"`) {
			t.Errorf("GET /items/3 = %d %s", r.Status, r.Body)
		}
	})
}

// fetchDocument returns the OpenAPI document the program serves.
func fetchDocument(t *testing.T, base string) []byte {
	t.Helper()
	r := demotest.Do(t, demotest.Request{URL: base + "/openapi.json"})
	if r.Status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", r.Status, r.Body)
	}
	return []byte(r.Body)
}

// The document passes libopenapi-validator's OpenAPI 3.1 schema validation,
// lists both security schemes, and gives each protected operation exactly
// the scopes its auth requires and the public one none.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	base, _ := start(t)
	spec := fetchDocument(t, base)

	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("libopenapi.NewDocument: %v", err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1") {
		t.Errorf("OpenAPI version %q; want 3.1", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator.NewValidator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("invalid document: %s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("\t%s at %s", se.Reason, se.FieldPath)
			}
		}
	}

	var d struct {
		Security   any `json:"security"`
		Components struct {
			SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			Security  *[]map[string][]string `json:"security"`
			Responses map[string]any         `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(spec, &d); err != nil {
		t.Fatal(err)
	}
	if d.Security != nil {
		t.Errorf("document-wide security %v; want none (each operation says its own)", d.Security)
	}
	schemes, err := json.Marshal(d.Components.SecuritySchemes)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"bearer":{"bearerFormat":"JWT","scheme":"bearer","type":"http"},` +
		`"header.X-Api-Key":{"description":"The key of a service client","in":"header","name":"X-Api-Key","type":"apiKey"}}`; string(schemes) != want {
		t.Errorf("securitySchemes = %s; want %s", schemes, want)
	}
	tests := []struct {
		method, path string
		security     string // "" for none
	}{
		{method: "get", path: "/healthz", security: ""},
		{method: "get", path: "/me", security: `[{"bearer":[]}]`},
		{method: "get", path: "/items", security: `[{"bearer":["items:read"]}]`},
		{method: "get", path: "/items/{id}", security: `[{"bearer":["items:read"]}]`},
		{method: "post", path: "/items", security: `[{"bearer":["items:edit"]}]`},
		{method: "get", path: "/reports", security: `[{"bearer":["reports:read"]},{"header.X-Api-Key":[]}]`},
	}
	operations := 0
	for _, ops := range d.Paths {
		operations += len(ops)
	}
	if operations != len(tests) {
		t.Errorf("the document has %d operations; want %d", operations, len(tests))
	}
	for _, tt := range tests {
		op, ok := d.Paths[tt.path][tt.method]
		if !ok {
			t.Errorf("%s %s: not in the document", tt.method, tt.path)
			continue
		}
		if tt.security == "" {
			if op.Security != nil {
				t.Errorf("%s %s: security %v; want none", tt.method, tt.path, *op.Security)
			}
			if op.Responses["401"] != nil {
				t.Errorf("%s %s: documents a 401", tt.method, tt.path)
			}
			continue
		}
		if op.Security == nil {
			t.Errorf("%s %s: no security; want %s", tt.method, tt.path, tt.security)
			continue
		}
		got, err := json.Marshal(*op.Security)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.security {
			t.Errorf("%s %s: security %s; want %s", tt.method, tt.path, got, tt.security)
		}
		if op.Responses["401"] == nil {
			t.Errorf("%s %s: no 401 response documented", tt.method, tt.path)
		}
		if scoped := strings.Contains(tt.security, `["`); (op.Responses["403"] != nil) != scoped {
			t.Errorf("%s %s: 403 documented: %v; want %v", tt.method, tt.path, op.Responses["403"] != nil, scoped)
		}
	}
}

// The validator is not a rubber stamp: the same document with a security
// scheme of an unknown type, or an operation naming an undefined scheme, is
// refused.
func TestValidatorRefusesBrokenDocuments(t *testing.T) {
	t.Parallel()
	base, _ := start(t)
	spec := string(fetchDocument(t, base))
	for _, tt := range []struct{ name, old, new string }{
		{name: "unknown scheme type", old: `"type":"apiKey"`, new: `"type":"magicKey"`},
		{name: "apiKey without a location", old: `"in":"header",`, new: ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(spec, tt.old) {
				t.Fatalf("the document has no %s", tt.old)
			}
			doc, err := libopenapi.NewDocument([]byte(strings.Replace(spec, tt.old, tt.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			v, errs := validator.NewValidator(doc)
			if len(errs) > 0 {
				t.Fatalf("validator.NewValidator: %v", errs)
			}
			if ok, _ := v.ValidateDocument(); ok {
				t.Errorf("the validator accepts the document with %s", tt.new)
			}
		})
	}
}

// What the program answers, rejections included, is what its document
// says: libopenapi-validator checks each request and response against it.
func TestResponsesMatchDocument(t *testing.T) {
	t.Parallel()
	base, out := start(t)
	rita := out.Line(t, "token for rita (items:read): ")
	sam := out.Line(t, "token for sam (profile): ")
	doc, err := libopenapi.NewDocument(fetchDocument(t, base))
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator.NewValidator: %v", errs)
	}
	for _, tt := range []struct {
		name, path, token string
		header            [][2]string
		status            int
	}{
		{name: "healthz", path: "/healthz", status: 200},
		{name: "me", path: "/me", token: sam, status: 200},
		{name: "me without a token", path: "/me", status: 401},
		{name: "list", path: "/items", token: rita, status: 200},
		{name: "list without the scope", path: "/items", token: sam, status: 403},
		{name: "get", path: "/items/1", token: rita, status: 200},
		{name: "get missing", path: "/items/77", token: rita, status: 404},
		{name: "reports by key", path: "/reports", header: [][2]string{{"X-Api-Key", apiKey}}, status: 200},
		{name: "reports with a wrong key", path: "/reports", header: [][2]string{{"X-Api-Key", "wrong-key-0123456789"}}, status: 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			for _, kv := range tt.header {
				req.Header.Add(kv[0], kv[1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d; want %d (%s)", resp.StatusCode, tt.status, body)
			}
			resp.Body = io.NopCloser(strings.NewReader(string(body)))
			// A request the document allows is checked too; one sent
			// without the credential the document asks for is not.
			if resp.StatusCode < 400 {
				if ok, verrs := v.ValidateHttpRequest(req); !ok {
					for _, e := range verrs {
						t.Errorf("request: %s: %s", e.Message, e.Reason)
					}
				}
			}
			if ok, verrs := v.ValidateHttpResponse(req, resp); !ok {
				for _, e := range verrs {
					t.Errorf("response: %s: %s", e.Message, e.Reason)
				}
			}
		})
	}
}

// The docs page is served and points at the document.
func TestDocsPage(t *testing.T) {
	t.Parallel()
	base, _ := start(t)
	r := demotest.Do(t, demotest.Request{URL: base + "/docs"})
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	if !strings.Contains(r.Body, "/openapi") || !strings.Contains(r.Body, "Items API") {
		t.Errorf("the docs page names neither the document nor the API:\n%s", r.Body)
	}
	y := demotest.Do(t, demotest.Request{URL: base + "/openapi.yaml"})
	if y.Status != http.StatusOK || !strings.Contains(y.Body, "header.X-Api-Key") {
		t.Errorf("GET /openapi.yaml: %d %.200s", y.Status, y.Body)
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	demotest.RunBadConfig(t, run, []demotest.BadConfig{
		{Name: "short secret", Env: map[string]string{"JWT_SECRET": "too short"}, WantErr: "JWT_SECRET: "},
		{Name: "short API key", Env: map[string]string{"API_KEY": "short-key"}, WantErr: "API_KEY: shorter than 16 bytes"},
		{Name: "bad address", Env: map[string]string{"ADDR": "127.0.0.1:notaport"}, WantErr: "listening on ADDR"},
	}, "short-key")
}

// TestMainExit runs the program itself with a bad configuration: it must
// exit with status 1 and one line on stderr.
func TestMainExit(t *testing.T) {
	t.Parallel()
	demotest.MainExit(t, main, []string{"JWT_SECRET=short", "ADDR=127.0.0.1:0"}, "huma: JWT_SECRET: ")
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	t.Parallel()
	demotest.MainSignal(t, main, []string{"ADDR=127.0.0.1:0"})
}
