package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

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

// start runs the program with env on a random loopback port and returns its
// base URL and its output. The program is stopped, and its error checked, at
// cleanup.
func start(tb testing.TB, env map[string]string) (string, *output) {
	tb.Helper()
	env["ADDR"] = "127.0.0.1:0"
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

// TestMain puts Gin in release mode, as main does, before any test runs.
func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	base, out := start(t, map[string]string{})
	rita := out.line(t, "token for rita (items:read): ")
	ed := out.line(t, "token for ed (items:edit): ")
	sam := out.line(t, "token for sam (profile): ")
	forger, err := jwt.New(jwt.Config{Secret: []byte("a secret the program does not know"), Algorithms: []string{"HS256"},
		IssuerURL: "urn:example:items", Expiration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := forger.Encode(auth.Claims{"sub": "ed", "scope": "items:edit"}, 0)
	if err != nil {
		t.Fatal(err)
	}

	const (
		noToken     = "Bearer"
		needRead    = `Bearer error="insufficient_scope", scope="items:read"`
		needEdit    = `Bearer error="insufficient_scope", scope="items:edit"`
		badSig      = `Bearer error="invalid_token", error_description="Token signature is invalid"`
		missingRead = "Token is missing required scope: items:read"
		missingEdit = "Token is missing required scope: items:edit"
	)
	tests := []struct {
		name, method, path, token, body string
		wantStatus                      int
		wantBody                        string // the whole JSON body of a success
		wantDetail                      string // the problem's detail of an error
		wantChallenge                   string
	}{
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: http.StatusOK, wantBody: `{"status":"ok"}`},
		{name: "healthz ignores a bad token", method: "GET", path: "/healthz", token: forged, wantStatus: http.StatusOK, wantBody: `{"status":"ok"}`},

		{name: "list without a token", method: "GET", path: "/items",
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: noToken},
		{name: "list with a forged token", method: "GET", path: "/items", token: forged,
			wantStatus: http.StatusUnauthorized, wantDetail: "Token signature is invalid", wantChallenge: badSig},
		{name: "list without the scope", method: "GET", path: "/items", token: sam,
			wantStatus: http.StatusForbidden, wantDetail: missingRead, wantChallenge: needRead},
		{name: "list as a reader", method: "GET", path: "/items", token: rita, wantStatus: http.StatusOK,
			wantBody: `{"for":"rita","items":[{"id":1,"name":"notebook","created_by":"system"},{"id":2,"name":"stapler","created_by":"system"}]}`},
		{name: "list as an editor", method: "GET", path: "/items", token: ed, wantStatus: http.StatusOK,
			wantBody: `{"for":"ed","items":[{"id":1,"name":"notebook","created_by":"system"},{"id":2,"name":"stapler","created_by":"system"}]}`},

		{name: "get without a token", method: "GET", path: "/items/1",
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: noToken},
		{name: "get without the scope", method: "GET", path: "/items/1", token: sam,
			wantStatus: http.StatusForbidden, wantDetail: missingRead, wantChallenge: needRead},
		{name: "get as a reader", method: "GET", path: "/items/1", token: rita,
			wantStatus: http.StatusOK, wantBody: `{"id":1,"name":"notebook","created_by":"system"}`},
		{name: "get a missing item", method: "GET", path: "/items/99", token: rita,
			wantStatus: http.StatusNotFound, wantDetail: "No such item"},
		{name: "get an item that cannot exist", method: "GET", path: "/items/one", token: rita,
			wantStatus: http.StatusNotFound, wantDetail: "No such item"},
		// Gin runs group middleware for the group's routes only.
		{name: "unknown path under the group without a token", method: "GET", path: "/items/1/secret",
			wantStatus: http.StatusNotFound, wantDetail: "No such route"},

		{name: "create without a token", method: "POST", path: "/items", body: `{"name":"pen"}`,
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: noToken},
		{name: "create without any item scope", method: "POST", path: "/items", token: sam, body: `{"name":"pen"}`,
			wantStatus: http.StatusForbidden, wantDetail: missingRead, wantChallenge: needRead},
		{name: "create as a reader", method: "POST", path: "/items", token: rita, body: `{"name":"pen"}`,
			wantStatus: http.StatusForbidden, wantDetail: missingEdit, wantChallenge: needEdit},
		{name: "create as an editor with a bad body", method: "POST", path: "/items", token: ed, body: `{"name":`,
			wantStatus: http.StatusBadRequest, wantDetail: `Want a JSON body {"name":"…"}`},
	}
	// The group returns when its parallel subtests have all finished.
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				checkResponse(t, do(t, tt.method, base+tt.path, tt.token, tt.body), tt.wantStatus, tt.wantBody, tt.wantDetail, tt.wantChallenge)
			})
		}
	})

	// The one success that changes state runs last, alone, so that the
	// listings above are deterministic.
	t.Run("create as an editor", func(t *testing.T) {
		r := do(t, "POST", base+"/items", ed, `{"name":"pen"}`)
		checkResponse(t, r, http.StatusCreated, `{"id":3,"name":"pen","created_by":"ed"}`, "", "")
		r = do(t, "GET", base+"/items/3", rita, "")
		checkResponse(t, r, http.StatusOK, `{"id":3,"name":"pen","created_by":"ed"}`, "", "")
	})
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with an optional bearer token and JSON body.
func do(tb testing.TB, method, url, token, body string) response {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
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
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// checkResponse checks r's status and challenge, and its JSON body for a
// success or its problem detail for an error.
func checkResponse(tb testing.TB, r response, wantStatus int, wantBody, wantDetail, wantChallenge string) {
	tb.Helper()
	if r.status != wantStatus {
		tb.Fatalf("status = %d; want %d (body %s)", r.status, wantStatus, r.body)
	}
	if got := r.header.Get("WWW-Authenticate"); got != wantChallenge {
		tb.Errorf("WWW-Authenticate = %q; want %q", got, wantChallenge)
	}
	if wantStatus < 400 {
		if strings.TrimSpace(r.body) != wantBody {
			tb.Errorf("body = %s; want %s", r.body, wantBody)
		}
		return
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Errorf("Content-Type = %q; want application/problem+json", ct)
	}
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		tb.Fatalf("problem %q: %v", r.body, err)
	}
	if p.Status != wantStatus || p.Detail != wantDetail {
		tb.Errorf("problem = %d %q; want %d %q", p.Status, p.Detail, wantStatus, wantDetail)
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
	if os.Getenv("GIN_EXAMPLE_RUN_MAIN") == "1" {
		main()
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainExit$")
	cmd.Env = append(os.Environ(), "GIN_EXAMPLE_RUN_MAIN=1", "JWT_SECRET=short", "ADDR=127.0.0.1:0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v; want status 1", err)
	}
	got := stderr.String()
	if want := "gin: JWT_SECRET: "; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q; want one line starting %q", got, want)
	}
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	if os.Getenv("GIN_EXAMPLE_RUN_MAIN") == "1" {
		main()
		return
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMainSignal$")
	cmd.Env = append(os.Environ(), "GIN_EXAMPLE_RUN_MAIN=1", "ADDR=127.0.0.1:0")
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
