package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/authtest"
	"github.com/typedauth/auth/examples/internal/demotest"
)

// lines is an io.Writer that hands each line written to a channel.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(strings.NewReader(string(p)))
	for sc.Scan() {
		l <- sc.Text()
	}
	return len(p), nil
}

// start runs the program with env (ADDR defaults to 127.0.0.1:0) and
// returns its base URL and the rest of its standard output. The program is
// stopped, and its error checked, at cleanup.
func start(tb testing.TB, env map[string]string) (string, lines) {
	tb.Helper()
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["ADDR"]; !ok {
		env["ADDR"] = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(lines, 64)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, func(k string) string { return env[k] }, out, io.Discard) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			tb.Errorf("run returned %v after shutdown; want nil", err)
		}
	})
	select {
	case line := <-out:
		base, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			tb.Fatalf("first line %q; want listening on …", line)
		}
		return base, out
	case err := <-errc:
		tb.Fatalf("run: %v", err)
	case <-time.After(30 * time.Second):
		tb.Fatal("run printed nothing in 30s")
	}
	return "", nil
}

// request is one HTTP exchange of a test.
type request struct {
	method, path, token string
	contentType, body   string
}

// do sends rq to the server at base.
func do(tb testing.TB, base string, rq request) demotest.Response {
	tb.Helper()
	return demotest.Do(tb, demotest.Request{Method: rq.method, URL: base + rq.path, Token: rq.token, ContentType: rq.contentType, Body: rq.body})
}

// mint asks the embedded issuer of base for a token.
func mint(tb testing.TB, base, sub, scope string) string {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"sub": sub, "scope": scope})
	res := do(tb, base, request{method: http.MethodPost, path: "/token", contentType: "application/json", body: string(body)})
	if res.Status != http.StatusOK {
		tb.Fatalf("POST /token: %d %s", res.Status, res.Body)
	}
	var tok struct {
		TokenType   string `json:"token_type"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(res.Body), &tok); err != nil {
		tb.Fatal(err)
	}
	if tok.TokenType != "bearer" || tok.ExpiresIn != int64(tokenLifetime/time.Second) || tok.AccessToken == "" {
		tb.Fatalf("POST /token = %s; want a bearer token for %v", res.Body, tokenLifetime)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("POST /token Cache-Control = %q; want no-store", got)
	}
	return tok.AccessToken
}

// check compares res with the expectations of a table row.
type want struct {
	status    int
	body      string // a substring of the body
	challenge string // the exact WWW-Authenticate header
	problem   bool   // the body must be problem+json
}

func (w want) check(tb testing.TB, res demotest.Response) {
	tb.Helper()
	if res.Status != w.status {
		tb.Errorf("status = %d; want %d (body %s)", res.Status, w.status, res.Body)
	}
	if !strings.Contains(res.Body, w.body) {
		tb.Errorf("body = %s; want it to contain %s", res.Body, w.body)
	}
	if res.Challenge() != w.challenge {
		tb.Errorf("WWW-Authenticate = %q; want %q", res.Challenge(), w.challenge)
	}
	ct := res.Header.Get("Content-Type")
	if w.problem && ct != "application/problem+json" {
		tb.Errorf("Content-Type = %q; want application/problem+json", ct)
	}
	if !w.problem && res.Status < 300 && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/jwk-set+json") {
		tb.Errorf("Content-Type = %q; want JSON", ct)
	}
}

func TestEmbedded(t *testing.T) {
	t.Parallel()
	base, _ := start(t, nil)
	other, _ := start(t, nil) // another instance, with another key
	readWrite := mint(t, base, "alice", "reports:read reports:write")
	readOnly := mint(t, base, "bob", "reports:read")
	noScope := mint(t, base, "carol", "")
	foreign := mint(t, other, "alice", "reports:read reports:write")

	tests := []struct {
		name string
		req  request
		want want
	}{
		{name: "healthz", req: request{path: "/healthz"}, want: want{status: 200, body: `{"status":"ok"}`}},
		{name: "me", req: request{path: "/me", token: readWrite},
			want: want{status: 200, body: `{"scopes":["reports:read","reports:write"],"sub":"alice"}`}},
		{name: "me without scopes", req: request{path: "/me", token: noScope},
			want: want{status: 200, body: `{"scopes":[],"sub":"carol"}`}},
		{name: "me without token", req: request{path: "/me"},
			want: want{status: 401, body: `"detail":"Missing credentials"`, challenge: "Bearer", problem: true}},
		{name: "me with a malformed token", req: request{path: "/me", token: "not-a-jwt"},
			want: want{status: 401, body: `"status":401`, challenge: `Bearer error="invalid_token", error_description="Token is malformed"`, problem: true}},
		{name: "me with another server's token", req: request{path: "/me", token: foreign},
			want: want{status: 401, body: `"status":401`, challenge: `Bearer error="invalid_token", error_description="Token signing key is unknown"`, problem: true}},
		{name: "reports", req: request{path: "/reports", token: readOnly},
			want: want{status: 200, body: `"title":"Q1 revenue"`}},
		{name: "reports without reports:read", req: request{path: "/reports", token: noScope},
			want: want{status: 403, body: `"detail":"Token is missing required scope: reports:read"`, challenge: `Bearer error="insufficient_scope", scope="reports:read"`, problem: true}},
		{name: "reports without token", req: request{path: "/reports"},
			want: want{status: 401, body: `"status":401`, challenge: "Bearer", problem: true}},
		{name: "create report", req: request{method: "POST", path: "/reports", token: readWrite, contentType: "application/json", body: `{"title":"Q3 revenue"}`},
			want: want{status: 201, body: `"title":"Q3 revenue","author":"alice"`}},
		{name: "create report without reports:write", req: request{method: "POST", path: "/reports", token: readOnly, contentType: "application/json", body: `{"title":"Q3"}`},
			want: want{status: 403, body: `"status":403`, challenge: `Bearer error="insufficient_scope", scope="reports:read reports:write"`, problem: true}},
		{name: "create report without title", req: request{method: "POST", path: "/reports", token: readWrite, contentType: "application/json", body: `{}`},
			want: want{status: 400, body: `"detail":"title is required"`, problem: true}},
		{name: "create report with a bad body", req: request{method: "POST", path: "/reports", token: readWrite, body: `{"title":`},
			want: want{status: 400, body: `"status":400`, problem: true}},
		{name: "jwks", req: request{path: "/.well-known/jwks.json"},
			want: want{status: 200, body: `"alg":"EdDSA"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.check(t, do(t, base, tt.req))
		})
	}

	// The report created above is listed, with a Location to match.
	res := do(t, base, request{path: "/reports", token: readOnly})
	if !strings.Contains(res.Body, `"title":"Q3 revenue","author":"alice"`) {
		t.Errorf("GET /reports after POST = %s; want the new report", res.Body)
	}
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	base, _ := start(t, nil)
	tests := []struct {
		name        string
		contentType string
		body        string
		want        want
	}{
		{name: "valid", body: `{"sub":"alice","scope":"reports:read"}`, want: want{status: 200, body: `"token_type":"bearer"`}},
		{name: "valid without content type", contentType: "-", body: `{"sub":"alice"}`, want: want{status: 200, body: `"expires_in":900`}},
		{name: "valid with charset", contentType: "application/json; charset=utf-8", body: `{"sub":"alice"}`, want: want{status: 200, body: `"access_token":"`}},
		{name: "empty body", body: ``, want: want{status: 400, body: `"status":400`, problem: true}},
		{name: "null", body: `null`, want: want{status: 400, body: `"detail":"sub is required"`, problem: true}},
		{name: "not JSON", body: `sub=alice`, want: want{status: 400, body: `"status":400`, problem: true}},
		{name: "array", body: `[{"sub":"alice"}]`, want: want{status: 400, body: `"status":400`, problem: true}},
		{name: "missing sub", body: `{"scope":"reports:read"}`, want: want{status: 400, body: `"detail":"sub is required"`, problem: true}},
		{name: "empty sub", body: `{"sub":""}`, want: want{status: 400, body: `"detail":"sub is required"`, problem: true}},
		{name: "sub not a string", body: `{"sub":42}`, want: want{status: 400, body: `"status":400`, problem: true}},
		{name: "sub too long", body: `{"sub":"` + strings.Repeat("a", 256) + `"}`, want: want{status: 400, body: `"detail":"sub is longer than 255 bytes"`, problem: true}},
		{name: "sub with control character", body: `{"sub":"al\u0000ice"}`, want: want{status: 400, body: `"detail":"sub contains control characters"`, problem: true}},
		{name: "scope with a quote", body: `{"sub":"alice","scope":"reports:read \"x"}`, want: want{status: 400, body: `"detail":"scope must be scope tokens`, problem: true}},
		{name: "scope with a tab", body: `{"sub":"alice","scope":"reports:read\treports:write"}`, want: want{status: 400, body: `"detail":"scope must be scope tokens`, problem: true}},
		{name: "scope with non-ASCII", body: `{"sub":"alice","scope":"réports:read"}`, want: want{status: 400, body: `"detail":"scope must be scope tokens`, problem: true}},
		{name: "unknown field", body: `{"sub":"alice","admin":true}`, want: want{status: 400, body: `"status":400`, problem: true}},
		{name: "trailing data", body: `{"sub":"alice"} {"sub":"bob"}`, want: want{status: 400, body: `"status":400`, problem: true}},
		{name: "too large", body: `{"sub":"alice","scope":"` + strings.Repeat("a ", maxBodyBytes) + `"}`, want: want{status: 413, body: `"status":413`, problem: true}},
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: `sub=alice`, want: want{status: 415, body: `"status":415`, problem: true}},
		{name: "bad content type", contentType: "application/json; =", body: `{"sub":"alice"}`, want: want{status: 415, body: `"status":415`, problem: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ct := tt.contentType
			switch ct {
			case "":
				ct = "application/json"
			case "-":
				ct = ""
			}
			res := do(t, base, request{method: http.MethodPost, path: "/token", contentType: ct, body: tt.body})
			tt.want.check(t, res)
			if strings.Contains(res.Body, "al\x00ice") || strings.Contains(res.Body, "admin") {
				t.Errorf("body %s echoes the request", res.Body)
			}
		})
	}

	// Scopes are normalised: runs of spaces become one.
	token := mint(t, base, "alice", "  reports:read   reports:write ")
	res := do(t, base, request{path: "/me", token: token})
	if want := `"scopes":["reports:read","reports:write"]`; !strings.Contains(res.Body, want) {
		t.Errorf("GET /me = %s; want %s", res.Body, want)
	}
}

// TestDemoCommands runs the curl commands that embedded mode prints, as a
// newcomer would paste them.
func TestDemoCommands(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	base, out := start(t, nil)
	var script []string
	for len(script) < 4 {
		select {
		case line := <-out:
			if cmd, ok := strings.CutPrefix(line, "  "); ok {
				script = append(script, cmd)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d commands; want 4", len(script))
		}
	}
	for _, cmd := range script {
		if !strings.Contains(cmd, base+"/") {
			t.Errorf("command %q does not use the address %s", cmd, base)
		}
	}
	got, err := exec.Command("sh", "-ec", strings.Join(script, "\n")).CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, got)
	}
	for _, want := range []string{
		`{"scopes":["reports:read","reports:write"],"sub":"alice"}`,
		`"title":"Q2 revenue"`,
		"HTTP/1.1 201 Created",
		`"title":"Q3 revenue","author":"alice"`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("output of the printed commands lacks %s:\n%s", want, got)
		}
	}
}

const audience = "https://reports.example.com"

func TestIssuerMode(t *testing.T) {
	t.Parallel()
	rs := authtest.NewIssuer(t, authtest.WithAudience(audience))
	es := authtest.NewIssuer(t, authtest.WithAudience(audience), authtest.WithAlgorithm("ES256"))
	tests := []struct {
		name string
		iss  *authtest.Issuer
		env  map[string]string
	}{
		{name: "discovery", iss: rs, env: map[string]string{"ISSUER": rs.URL(), "AUDIENCE": audience}},
		{name: "JWKS_URL", iss: rs, env: map[string]string{"ISSUER": rs.URL(), "AUDIENCE": audience, "JWKS_URL": rs.JWKSURL()}},
		{name: "ALGORITHMS", iss: es, env: map[string]string{"ISSUER": es.URL(), "AUDIENCE": audience, "ALGORITHMS": "EdDSA, ES256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base, out := start(t, tt.env)
			if line := <-out; !strings.HasPrefix(line, "accepting tokens of "+tt.iss.URL()) {
				t.Errorf("second line %q; want accepting tokens of …", line)
			}
			iss := tt.iss
			readWrite := iss.Token(auth.Claims{"sub": "alice", "scope": "reports:read reports:write"})
			readOnly := iss.Token(auth.Claims{"sub": "bob", "scope": "reports:read"})
			rows := []struct {
				name string
				req  request
				want want
			}{
				{name: "healthz", req: request{path: "/healthz"}, want: want{status: 200, body: `"ok"`}},
				{name: "me", req: request{path: "/me", token: readWrite},
					want: want{status: 200, body: `{"scopes":["reports:read","reports:write"],"sub":"alice"}`}},
				{name: "reports", req: request{path: "/reports", token: readOnly}, want: want{status: 200, body: `"reports":[`}},
				{name: "create report", req: request{method: "POST", path: "/reports", token: readWrite, contentType: "application/json", body: `{"title":"Q4"}`},
					want: want{status: 201, body: `"author":"alice"`}},
				{name: "create report without reports:write", req: request{method: "POST", path: "/reports", token: readOnly, contentType: "application/json", body: `{"title":"Q4"}`},
					want: want{status: 403, body: `"status":403`, challenge: `Bearer error="insufficient_scope", scope="reports:read reports:write"`, problem: true}},
				{name: "no token", req: request{path: "/me"},
					want: want{status: 401, body: `"detail":"Missing credentials"`, challenge: "Bearer", problem: true}},
				{name: "other audience", req: request{path: "/me", token: iss.Token(auth.Claims{"aud": "https://other.example.com"})},
					want: want{status: 401, body: `"status":401`, challenge: `Bearer error="invalid_token", error_description="Token audience is not accepted"`, problem: true}},
				{name: "no audience", req: request{path: "/me", token: iss.Token(auth.Claims{"aud": nil})},
					want: want{status: 401, body: `"status":401`, challenge: `Bearer error="invalid_token", error_description="Token audience is not accepted"`, problem: true}},
				{name: "other issuer", req: request{path: "/me", token: iss.Token(auth.Claims{"iss": "https://evil.example.com"})},
					want: want{status: 401, body: `"status":401`, challenge: `Bearer error="invalid_token", error_description="Token issuer is not accepted"`, problem: true}},
				{name: "expired", req: request{path: "/me", token: iss.Token(auth.Claims{"exp": time.Now().Add(-time.Hour)})},
					want: want{status: 401, body: `"status":401`, challenge: `Bearer error="invalid_token", error_description="Token has expired"`, problem: true}},
				{name: "token endpoint", req: request{method: "POST", path: "/token", contentType: "application/json", body: `{"sub":"alice"}`},
					want: want{status: 404, body: `"detail":"This server does not issue tokens; get one from its issuer"`, problem: true}},
				{name: "no jwks", req: request{path: "/.well-known/jwks.json"}, want: want{status: 404, body: "404"}},
			}
			for _, row := range rows {
				t.Run(row.name, func(t *testing.T) {
					row.want.check(t, do(t, base, row.req))
				})
			}
		})
	}
}

// TestIssuerModeAlgorithms: without ALGORITHMS the issuer's declared
// algorithms are accepted (an EdDSA provider works out of the box); an
// explicit ALGORITHMS wins, and a token of another algorithm is refused.
func TestIssuerModeAlgorithms(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t, authtest.WithAlgorithm("EdDSA"))
	base, out := start(t, map[string]string{"ISSUER": iss.URL()})
	if line := <-out; !strings.HasSuffix(line, " with EdDSA") {
		t.Errorf("start-up line %q does not name the declared algorithm", line)
	}
	if res := do(t, base, request{path: "/me", token: iss.Token(nil)}); res.Status != 200 {
		t.Errorf("declared EdDSA: status %d %s; want 200", res.Status, res.Body)
	}
	base, _ = start(t, map[string]string{"ISSUER": iss.URL(), "ALGORITHMS": "RS256"})
	res := do(t, base, request{path: "/me", token: iss.Token(nil)})
	want{status: 401, body: `"status":401`, challenge: `Bearer error="invalid_token", error_description="Token algorithm is not allowed"`, problem: true}.check(t, res)
}

func TestIssuerModeRotation(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t, authtest.WithAudience(audience), authtest.WithAlgorithm("ES256"))
	base, _ := start(t, map[string]string{"ISSUER": iss.URL(), "AUDIENCE": audience, "ALGORITHMS": "ES256"})
	before := iss.Token(auth.Claims{"sub": "alice"})
	iss.Rotate()
	after := iss.Token(auth.Claims{"sub": "alice"})
	for name, token := range map[string]string{"old key": before, "new key": after} {
		if res := do(t, base, request{path: "/me", token: token}); res.Status != 200 {
			t.Errorf("%s: status %d %s; want 200", name, res.Status, res.Body)
		}
	}
}

func TestIssuerModeWithoutAudience(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	base, out := start(t, map[string]string{"ISSUER": iss.URL()})
	<-out // accepting tokens of …
	if line := <-out; !strings.HasPrefix(line, "warning: AUDIENCE is not set") {
		t.Errorf("third line %q; want a warning about AUDIENCE", line)
	}
	if res := do(t, base, request{path: "/me", token: iss.Token(auth.Claims{"aud": "anything"})}); res.Status != 200 {
		t.Errorf("status %d %s; want 200", res.Status, res.Body)
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t, authtest.WithAlgorithm("EdDSA"))
	down := authtest.StartIssuer(authtest.WithAlgorithm("EdDSA"))
	down.Close()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "bad ADDR", env: map[string]string{"ADDR": "127.0.0.1:notaport"}, wantErr: `listening on ADDR "127.0.0.1:notaport"`},
		{name: "bad ADDR in issuer mode", env: map[string]string{"ADDR": "nowhere:-1", "ISSUER": iss.URL(), "ALGORITHMS": "EdDSA"}, wantErr: "listening on ADDR"},
		{name: "ISSUER not a URL", env: map[string]string{"ISSUER": "reports issuer"}, wantErr: `ISSUER "reports issuer" is not an absolute http(s) URL`},
		{name: "ISSUER relative", env: map[string]string{"ISSUER": "/issuer"}, wantErr: "ISSUER"},
		{name: "ISSUER of another scheme", env: map[string]string{"ISSUER": "ftp://127.0.0.1/"}, wantErr: "ISSUER"},
		{name: "ISSUER with a query", env: map[string]string{"ISSUER": iss.URL() + "?x=1"}, wantErr: "ISSUER"},
		{name: "ISSUER down", env: map[string]string{"ISSUER": down.URL(), "ALGORITHMS": "EdDSA"}, wantErr: "discovering the keys of ISSUER"},
		{name: "ISSUER mismatch", env: map[string]string{"ISSUER": iss.URL() + "/", "ALGORITHMS": "EdDSA"}, wantErr: "does not match the issuer URL"},
		{name: "ISSUER over plain http", env: map[string]string{"ISSUER": "http://issuer.example.com", "ALGORITHMS": "EdDSA"}, wantErr: "not https"},
		{name: "JWKS_URL not a URL", env: map[string]string{"ISSUER": iss.URL(), "JWKS_URL": "keys.json"}, wantErr: "JWKS_URL"},
		{name: "JWKS_URL down", env: map[string]string{"ISSUER": iss.URL(), "JWKS_URL": down.JWKSURL(), "ALGORITHMS": "EdDSA"}, wantErr: "loading the keys at JWKS_URL"},
		{name: "unknown algorithm", env: map[string]string{"ISSUER": iss.URL(), "ALGORITHMS": "XS256"}, wantErr: `ALGORITHMS: "XS256" is not a signature algorithm`},
		{name: "HMAC algorithm", env: map[string]string{"ISSUER": iss.URL(), "ALGORITHMS": "HS256"}, wantErr: `ALGORITHMS: "HS256"`},
		{name: "none", env: map[string]string{"ISSUER": iss.URL(), "ALGORITHMS": "none"}, wantErr: `ALGORITHMS: "none"`},
		{name: "empty algorithm", env: map[string]string{"ISSUER": iss.URL(), "ALGORITHMS": "EdDSA,,ES256"}, wantErr: `ALGORITHMS: ""`},
		{name: "AUDIENCE without ISSUER", env: map[string]string{"AUDIENCE": audience}, wantErr: "AUDIENCE is set but ISSUER is not"},
		{name: "JWKS_URL without ISSUER", env: map[string]string{"JWKS_URL": iss.JWKSURL()}, wantErr: "JWKS_URL is set but ISSUER is not"},
		{name: "ALGORITHMS without ISSUER", env: map[string]string{"ALGORITHMS": "RS256"}, wantErr: "ALGORITHMS is set but ISSUER is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stdout strings.Builder
			err := run(ctx, func(k string) string { return tt.env[k] }, &stdout, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v; want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
			if strings.Contains(stdout.String(), "listening on") {
				t.Errorf("stdout = %q; want nothing announced for a bad configuration", stdout.String())
			}
		})
	}
}

// TestMainExit runs the program itself with a bad configuration: it must
// exit with status 1 and one line on stderr.
func TestMainExit(t *testing.T) {
	t.Parallel()
	demotest.MainExit(t, main, []string{"ISSUER=not a url", "ADDR=127.0.0.1:0"}, `quickstart: ISSUER "not a url" is not an absolute`)
}

// TestShutdown checks that SIGINT and SIGTERM, which cancel the context of
// run, stop the server and make run return nil.
func TestShutdown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(lines, 64)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, func(k string) string { return map[string]string{"ADDR": "127.0.0.1:0"}[k] }, out, io.Discard)
	}()
	var base string
	select {
	case line := <-out:
		base = strings.TrimPrefix(line, "listening on ")
	case err := <-errc:
		t.Fatalf("run: %v", err)
	}
	if res := do(t, base, request{path: "/healthz"}); res.Status != 200 {
		t.Fatalf("healthz: %d", res.Status)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run = %v after cancel; want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}
