package main

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/demotest"
	"github.com/typedauth/auth/jwt"
)

// secret is the JWT_SECRET the tests run the program with, so that they can
// mint tokens the program accepts, such as one for a user it does not have.
const secret = "0123456789abcdef0123456789abcdef"

// do sends a request with an optional bearer token and returns the answer.
func do(tb testing.TB, method, url, token, contentType, body string) demotest.Response {
	tb.Helper()
	return demotest.Do(tb, demotest.Request{Method: method, URL: url, Token: token, ContentType: contentType, Body: body})
}

// mint signs a token as the program would with JWT_SECRET=secret.
func mint(tb testing.TB, secret string, claims auth.Claims) string {
	tb.Helper()
	return demotest.MintHS256(tb, secret, "urn:example:dbuser", claims)
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "users.db")
	base, out := demotest.Start(t, run, map[string]string{"JWT_SECRET": secret, "DB": dbPath})
	alice := out.Line(t, "token for alice (editor): ")
	bob := out.Line(t, "token for bob (viewer): ")

	// A token for alice from /token itself.
	r := do(t, "POST", base+"/token", "", "application/x-www-form-urlencoded", url.Values{"user": {"alice"}}.Encode())
	if r.Status != http.StatusOK {
		t.Fatalf("POST /token: status %d, body %s; want 200", r.Status, r.Body)
	}
	var issued jwt.BearerAccessToken
	if err := json.Unmarshal([]byte(r.Body), &issued); err != nil {
		t.Fatalf("POST /token body %q: %v", r.Body, err)
	}
	if issued.TokenType != "bearer" || issued.AccessToken == "" || issued.ExpiresIn != 3600 {
		t.Errorf("POST /token = %+v; want a bearer token expiring in 3600 s", issued)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("POST /token Cache-Control = %q; want no-store", got)
	}

	unknown := mint(t, secret, auth.Claims{"sub": "99", "scope": "documents:edit"})
	notAnID := mint(t, secret, auth.Claims{"sub": "alice", "scope": "documents:edit"})
	noSub := mint(t, secret, auth.Claims{"scope": "documents:edit"})
	noScope := mint(t, secret, auth.Claims{"sub": "2"})
	forged := mint(t, "another secret of at least 32 bytes", auth.Claims{"sub": "1", "scope": "documents:edit"})
	const unknownChallenge = `Bearer error="invalid_token", error_description="Unknown user"`

	tests := []struct {
		name, method, path, token, contentType, body string
		wantStatus                                   int
		wantBody                                     string // the whole JSON body for 200s
		wantDetail                                   string // the problem's detail otherwise
		wantChallenge                                string
	}{
		{name: "token for bob", method: "POST", path: "/token", contentType: "application/x-www-form-urlencoded", body: "user=bob",
			wantStatus: http.StatusOK},
		{name: "token for a stranger", method: "POST", path: "/token", contentType: "application/x-www-form-urlencoded", body: "user=mallory",
			wantStatus: http.StatusBadRequest, wantDetail: "Unknown user"},
		{name: "token without a user", method: "POST", path: "/token",
			wantStatus: http.StatusBadRequest, wantDetail: "Unknown user"},

		{name: "me as alice", method: "GET", path: "/me", token: alice,
			wantStatus: http.StatusOK, wantBody: `{"id":1,"name":"alice","role":"editor"}`},
		{name: "me with an issued token", method: "GET", path: "/me", token: issued.AccessToken,
			wantStatus: http.StatusOK, wantBody: `{"id":1,"name":"alice","role":"editor"}`},
		{name: "me as bob", method: "GET", path: "/me", token: bob,
			wantStatus: http.StatusOK, wantBody: `{"id":2,"name":"bob","role":"viewer"}`},
		{name: "me without a token", method: "GET", path: "/me",
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: "Bearer"},
		{name: "me with garbage", method: "GET", path: "/me", token: "not-a-jwt",
			wantStatus: http.StatusUnauthorized, wantDetail: "Token is malformed",
			wantChallenge: `Bearer error="invalid_token", error_description="Token is malformed"`},
		{name: "me with a forged token", method: "GET", path: "/me", token: forged,
			wantStatus: http.StatusUnauthorized, wantDetail: "Token signature is invalid",
			wantChallenge: `Bearer error="invalid_token", error_description="Token signature is invalid"`},
		{name: "me as an unknown user", method: "GET", path: "/me", token: unknown,
			wantStatus: http.StatusUnauthorized, wantDetail: "Unknown user", wantChallenge: unknownChallenge},
		{name: "me with a subject that is no id", method: "GET", path: "/me", token: notAnID,
			wantStatus: http.StatusUnauthorized, wantDetail: "Unknown user", wantChallenge: unknownChallenge},
		{name: "me without a subject", method: "GET", path: "/me", token: noSub,
			wantStatus: http.StatusUnauthorized, wantDetail: "Unknown user", wantChallenge: unknownChallenge},

		{name: "read a missing document as bob", method: "GET", path: "/documents/404", token: bob,
			wantStatus: http.StatusNotFound, wantDetail: "No such document"},
		{name: "read a document that cannot exist", method: "GET", path: "/documents/0", token: bob,
			wantStatus: http.StatusNotFound, wantDetail: "No such document"},
		{name: "read without a token", method: "GET", path: "/documents/7",
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: "Bearer"},
		{name: "read with a token without scope", method: "GET", path: "/documents/7", token: noScope,
			wantStatus: http.StatusForbidden, wantDetail: "Token is missing required scope: documents:read",
			wantChallenge: `Bearer error="insufficient_scope", scope="documents:read"`},

		{name: "edit as alice", method: "PUT", path: "/documents/7", token: alice, body: "first draft",
			wantStatus: http.StatusOK, wantBody: `{"id":7,"content":"first draft","updated_by":1}`},
		{name: "edit as bob", method: "PUT", path: "/documents/8", token: bob, body: "x",
			wantStatus: http.StatusForbidden, wantDetail: "Token is missing required scope: documents:edit",
			wantChallenge: `Bearer error="insufficient_scope", scope="documents:edit"`},
		{name: "edit without a token", method: "PUT", path: "/documents/8", body: "x",
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: "Bearer"},
		{name: "edit as an unknown user", method: "PUT", path: "/documents/8", token: unknown, body: "x",
			wantStatus: http.StatusUnauthorized, wantDetail: "Unknown user", wantChallenge: unknownChallenge},
		{name: "edit a document that cannot exist", method: "PUT", path: "/documents/seven", token: alice, body: "x",
			wantStatus: http.StatusNotFound, wantDetail: "No such document"},
		{name: "edit with a body too large", method: "PUT", path: "/documents/9", token: alice, body: strings.Repeat("x", 64<<10+1),
			wantStatus: http.StatusRequestEntityTooLarge, wantDetail: "Documents are limited to 64 KiB"},
	}
	// The group returns when its parallel subtests have all finished.
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := do(t, tt.method, base+tt.path, tt.token, tt.contentType, tt.body)
				demotest.Check(t, r, demotest.Want{Status: tt.wantStatus, Body: tt.wantBody, Detail: tt.wantDetail, Challenge: tt.wantChallenge})
			})
		}
	})

	// The document alice saved is in the database file.
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var content string
	var by int64
	if err := db.QueryRow(`SELECT content, updated_by FROM documents WHERE id = 7`).Scan(&content, &by); err != nil {
		t.Fatalf("reading document 7: %v", err)
	}
	if content != "first draft" || by != 1 {
		t.Errorf("document 7 = %q by %d; want %q by 1", content, by, "first draft")
	}
}

// TestDemotionTakesEffect demotes an editor in the database while their
// token, which says documents:edit for another hour, is still valid: the
// next write is refused with 403, reads keep working, and promoting them
// back restores writes, all without a new token.
func TestDemotionTakesEffect(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "users.db")
	base, _ := demotest.Start(t, run, map[string]string{"JWT_SECRET": secret, "DB": dbPath})
	r := do(t, "POST", base+"/token", "", "application/x-www-form-urlencoded", url.Values{"user": {"alice"}}.Encode())
	if r.Status != http.StatusOK {
		t.Fatalf("POST /token: status %d, body %s; want 200", r.Status, r.Body)
	}
	var issued jwt.BearerAccessToken
	if err := json.Unmarshal([]byte(r.Body), &issued); err != nil {
		t.Fatalf("POST /token body %q: %v", r.Body, err)
	}
	token := issued.AccessToken
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	setRole := func(role string) {
		t.Helper()
		if _, err := db.Exec(`UPDATE users SET role = ? WHERE name = 'alice'`, role); err != nil {
			t.Fatal(err)
		}
	}
	write := func(content string) demotest.Response {
		t.Helper()
		return do(t, "PUT", base+"/documents/7", token, "text/plain", content)
	}
	read := func(path, wantBody string) {
		t.Helper()
		demotest.Check(t, do(t, "GET", base+path, token, "", ""), demotest.Want{Status: http.StatusOK, Body: wantBody})
	}

	demotest.Check(t, write("by an editor"), demotest.Want{Status: http.StatusOK,
		Body: `{"id":7,"content":"by an editor","updated_by":1}`})

	setRole("viewer")
	// A 403 from the role stage: the token is valid, so there is no
	// invalid_token challenge, and no scope is missing from it.
	demotest.Check(t, write("by a former editor"), demotest.Want{Status: http.StatusForbidden, Detail: "Only editors may change documents"})
	read("/me", `{"id":1,"name":"alice","role":"viewer"}`)
	read("/documents/7", `{"id":7,"content":"by an editor","updated_by":1}`)

	setRole("editor")
	demotest.Check(t, write("by an editor again"), demotest.Want{Status: http.StatusOK,
		Body: `{"id":7,"content":"by an editor again","updated_by":1}`})
	read("/documents/7", `{"id":7,"content":"by an editor again","updated_by":1}`)
}

// TestDatabaseFailure breaks the database under a running program: the
// failure is a 500 whose body says nothing of the cause, which is logged.
func TestDatabaseFailure(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "users.db")
	base, out := demotest.Start(t, run, map[string]string{"JWT_SECRET": secret, "DB": dbPath})
	alice := out.Line(t, "token for alice (editor): ")

	if r := do(t, "GET", base+"/me", alice, "", ""); r.Status != http.StatusOK {
		t.Fatalf("GET /me before the failure: status %d; want 200", r.Status)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Each step breaks one more table, then sends requests that need it.
	steps := []struct {
		name      string
		drop      string
		requests  []struct{ method, path, body string }
		wantInLog string
	}{
		{name: "documents", drop: "documents",
			requests: []struct{ method, path, body string }{
				{method: "PUT", path: "/documents/7", body: "text"},
				{method: "GET", path: "/documents/7"},
			},
			wantInLog: "no such table: documents"},
		{name: "users", drop: "users",
			requests: []struct{ method, path, body string }{
				{method: "GET", path: "/me"},
				{method: "PUT", path: "/documents/7", body: "text"},
				{method: "POST", path: "/token", body: "user=alice"},
			},
			wantInLog: "no such table: users"},
	}
	for _, step := range steps {
		if _, err := db.Exec("DROP TABLE " + step.drop); err != nil {
			t.Fatal(err)
		}
		for _, req := range step.requests {
			t.Run(step.name+" "+req.method+" "+req.path, func(t *testing.T) {
				ct := ""
				if req.method == "POST" {
					ct = "application/x-www-form-urlencoded"
				}
				r := do(t, req.method, base+req.path, alice, ct, req.body)
				if r.Status != http.StatusInternalServerError {
					t.Fatalf("status = %d; want 500 (body %s)", r.Status, r.Body)
				}
				if p := demotest.DecodeProblem(t, r); p.Title != "Internal Server Error" {
					t.Errorf("title = %q; want Internal Server Error", p.Title)
				}
				for _, leak := range []string{"no such table", "users", "documents", "sqlite", "SQL"} {
					if strings.Contains(r.Body, leak) {
						t.Errorf("body %s reveals %q", r.Body, leak)
					}
				}
				if c := r.Challenge(); c != "" {
					t.Errorf("WWW-Authenticate = %q on a 500; want none", c)
				}
			})
		}
		if log := out.String(); !strings.Contains(log, step.wantInLog) {
			t.Errorf("the log does not name the cause %q; output:\n%s", step.wantInLog, log)
		}
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	demotest.RunBadConfig(t, run, []demotest.BadConfig{
		{Name: "short secret", Env: map[string]string{"JWT_SECRET": "too short"}, WantErr: "JWT_SECRET: "},
		{Name: "database in a missing directory", Env: map[string]string{"DB": filepath.Join(t.TempDir(), "missing", "users.db")},
			WantErr: "creating the tables of DB"},
		{Name: "bad address", Env: map[string]string{"ADDR": "127.0.0.1:notaport"}, WantErr: "listening on ADDR"},
	})
}

// TestMainExit runs the program itself with a bad configuration: it must
// exit with status 1 and one line on stderr.
func TestMainExit(t *testing.T) {
	t.Parallel()
	demotest.MainExit(t, main, []string{"JWT_SECRET=short", "ADDR=127.0.0.1:0"}, "dbuser: JWT_SECRET: ")
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	t.Parallel()
	demotest.MainSignal(t, main, []string{"ADDR=127.0.0.1:0"})
}
