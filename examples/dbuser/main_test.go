package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// secret is the JWT_SECRET the tests run the program with, so that they can
// mint tokens the program accepts, such as one for a user it does not have.
const secret = "0123456789abcdef0123456789abcdef"

// output collects what the program writes to stdout.
type output struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{}
}

func newOutput() *output { return &output{wrote: make(chan struct{}, 1)} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.b.Write(p)
	o.mu.Unlock()
	select {
	case o.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// line returns the rest of the first output line that starts with prefix.
func (o *output) line(tb testing.TB, prefix string) string {
	tb.Helper()
	for l := range strings.Lines(o.String()) {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			return strings.TrimSpace(rest)
		}
	}
	tb.Fatalf("no output line starts with %q in:\n%s", prefix, o)
	return ""
}

// start runs the program with env (ADDR defaults to a random loopback port)
// and returns its base URL and its output. The program is stopped, and its
// error checked, at cleanup.
func start(tb testing.TB, env map[string]string) (string, *output) {
	tb.Helper()
	if _, ok := env["ADDR"]; !ok {
		env["ADDR"] = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := newOutput()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, func(k string) string { return env[k] }, out) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			tb.Errorf("run returned %v after shutdown; want nil", err)
		}
	})
	timeout := time.After(10 * time.Second)
	for {
		select {
		case <-out.wrote:
			for l := range strings.Lines(out.String()) {
				if base, ok := strings.CutPrefix(l, "listening on "); ok {
					return strings.TrimSpace(base), out
				}
			}
		case err := <-errc:
			errc <- err // for the cleanup
			tb.Fatalf("run: %v", err)
		case <-timeout:
			tb.Fatalf("the program printed no address in 10s; output:\n%s", out)
		}
	}
}

// response is what a test looks at in an answer.
type response struct {
	status    int
	header    http.Header
	body      string
	challenge string
}

// do sends a request with an optional bearer token and returns the answer.
func do(tb testing.TB, method, url, token, contentType, body string) response {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b), challenge: resp.Header.Get("WWW-Authenticate")}
}

// problem decodes an RFC 9457 body, checking its content type.
func problem(tb testing.TB, r response) map[string]any {
	tb.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type = %q; want application/problem+json (body %s)", ct, r.body)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		tb.Fatalf("problem body %q: %v", r.body, err)
	}
	if p["status"] != float64(r.status) {
		tb.Errorf("problem status = %v; want %d", p["status"], r.status)
	}
	return p
}

// mint signs a token with the tests' secret, as the program would.
func mint(tb testing.TB, secret string, claims auth.Claims) string {
	tb.Helper()
	a, err := jwt.New(jwt.Config{Secret: []byte(secret), Algorithms: []string{"HS256"}, IssuerURL: "urn:example:dbuser", Expiration: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := a.Encode(claims, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "users.db")
	base, out := start(t, map[string]string{"JWT_SECRET": secret, "DB": dbPath})
	alice := out.line(t, "token for alice (editor): ")
	bob := out.line(t, "token for bob (viewer): ")

	// A token for alice from /token itself.
	r := do(t, "POST", base+"/token", "", "application/x-www-form-urlencoded", url.Values{"user": {"alice"}}.Encode())
	if r.status != http.StatusOK {
		t.Fatalf("POST /token: status %d, body %s; want 200", r.status, r.body)
	}
	var issued jwt.BearerAccessToken
	if err := json.Unmarshal([]byte(r.body), &issued); err != nil {
		t.Fatalf("POST /token body %q: %v", r.body, err)
	}
	if issued.TokenType != "bearer" || issued.AccessToken == "" || issued.ExpiresIn != 3600 {
		t.Errorf("POST /token = %+v; want a bearer token expiring in 3600 s", issued)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("POST /token Cache-Control = %q; want no-store", got)
	}

	unknown := mint(t, secret, auth.Claims{"sub": "99", "scope": "documents:edit"})
	notAnID := mint(t, secret, auth.Claims{"sub": "alice", "scope": "documents:edit"})
	noSub := mint(t, secret, auth.Claims{"scope": "documents:edit"})
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

		{name: "edit as alice", method: "PUT", path: "/documents/7", token: alice, body: "first draft",
			wantStatus: http.StatusOK, wantBody: `{"content":"first draft","id":7,"updated_by":1}`},
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
				if r.status != tt.wantStatus {
					t.Fatalf("status = %d; want %d (body %s)", r.status, tt.wantStatus, r.body)
				}
				if r.challenge != tt.wantChallenge {
					t.Errorf("WWW-Authenticate = %q; want %q", r.challenge, tt.wantChallenge)
				}
				if tt.wantStatus >= 400 {
					if p := problem(t, r); p["detail"] != tt.wantDetail {
						t.Errorf("detail = %v; want %q", p["detail"], tt.wantDetail)
					}
					return
				}
				if tt.wantBody != "" && strings.TrimSpace(r.body) != tt.wantBody {
					t.Errorf("body = %s; want %s", r.body, tt.wantBody)
				}
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

// TestDatabaseFailure breaks the database under a running program: the
// failure is a 500 whose body says nothing of the cause, which is logged.
func TestDatabaseFailure(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "users.db")
	base, out := start(t, map[string]string{"JWT_SECRET": secret, "DB": dbPath})
	alice := out.line(t, "token for alice (editor): ")

	if r := do(t, "GET", base+"/me", alice, "", ""); r.status != http.StatusOK {
		t.Fatalf("GET /me before the failure: status %d; want 200", r.status)
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
			requests:  []struct{ method, path, body string }{{method: "PUT", path: "/documents/7", body: "text"}},
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
				if r.status != http.StatusInternalServerError {
					t.Fatalf("status = %d; want 500 (body %s)", r.status, r.body)
				}
				p := problem(t, r)
				if p["title"] != "Internal Server Error" {
					t.Errorf("title = %v; want Internal Server Error", p["title"])
				}
				for _, leak := range []string{"no such table", "users", "documents", "sqlite", "SQL"} {
					if strings.Contains(r.body, leak) {
						t.Errorf("body %s reveals %q", r.body, leak)
					}
				}
				if r.challenge != "" {
					t.Errorf("WWW-Authenticate = %q on a 500; want none", r.challenge)
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
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "short secret", env: map[string]string{"JWT_SECRET": "too short"}, wantErr: "JWT_SECRET: "},
		{name: "database in a missing directory", env: map[string]string{"DB": filepath.Join(t.TempDir(), "missing", "users.db")},
			wantErr: "creating the tables of DB"},
		{name: "bad address", env: map[string]string{"ADDR": "127.0.0.1:notaport"}, wantErr: "listening on ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), func(k string) string { return tt.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v; want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
}

// TestMainExit runs the program itself with a bad configuration: it must
// exit with status 1 and one line on stderr.
func TestMainExit(t *testing.T) {
	if os.Getenv("DBUSER_EXAMPLE_RUN_MAIN") == "1" {
		main()
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainExit$")
	cmd.Env = append(os.Environ(), "DBUSER_EXAMPLE_RUN_MAIN=1", "JWT_SECRET=short", "ADDR=127.0.0.1:0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v; want status 1", err)
	}
	got := stderr.String()
	if want := "dbuser: JWT_SECRET: "; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q; want one line starting %q", got, want)
	}
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	if os.Getenv("DBUSER_EXAMPLE_RUN_MAIN") == "1" {
		main()
		return
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMainSignal$")
	cmd.Env = append(os.Environ(), "DBUSER_EXAMPLE_RUN_MAIN=1", "ADDR=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read the address, then drain the rest until the program exits.
	addr := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if base, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addr <- base
			}
		}
	}()
	var base string
	select {
	case base = <-addr:
	case <-drained:
		_ = cmd.Wait()
		t.Fatal("the program exited without printing its address")
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatalf("the program does not answer before the signal: %v", err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-drained
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v; want exit status 0", err)
	}
}
