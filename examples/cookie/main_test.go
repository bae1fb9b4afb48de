package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

const (
	secret   = "0123456789abcdef0123456789abcdef"
	password = "correct horse battery staple"
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

type response struct {
	status int
	header http.Header
	body   string
}

// send sends a request with the given headers (each name may repeat); a
// non-empty form is sent as the urlencoded body.
func send(tb testing.TB, client *http.Client, method, url string, headers [][2]string, form url.Values) response {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, kv := range headers {
		req.Header.Add(kv[0], kv[1])
	}
	resp, err := client.Do(req)
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

// sessionCookie returns the session cookie r sets, failing if there is none.
func sessionCookie(tb testing.TB, r response) *http.Cookie {
	tb.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	tb.Fatalf("no %s cookie set; headers %v", cookieName, r.header)
	return nil
}

// login logs alice in and returns the session cookie.
func login(tb testing.TB, client *http.Client, base string) *http.Cookie {
	tb.Helper()
	r := send(tb, client, "POST", base+"/login", nil, url.Values{"username": {"alice"}, "password": {password}})
	if r.status != http.StatusOK {
		tb.Fatalf("POST /login: status %d, body %s; want 200", r.status, r.body)
	}
	return sessionCookie(tb, r)
}

// mint signs a token with the tests' secret, as the program would.
func mint(tb testing.TB, secret string, claims auth.Claims) string {
	tb.Helper()
	a, err := jwt.New(jwt.Config{Secret: []byte(secret), Algorithms: []string{"HS256"}, IssuerURL: "urn:example:cookie", Expiration: time.Hour})
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
	base, _ := start(t, map[string]string{"JWT_SECRET": secret, "DEMO_PASSWORD": password})
	client := http.DefaultClient

	c := login(t, client, base)
	if !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 3600 {
		t.Errorf("cookie = %+v; want HttpOnly, not Secure over plain HTTP, SameSite=Lax, Path=/, Max-Age=3600", c)
	}
	token := c.Value
	session := "session=" + token
	expired := mint(t, secret, auth.Claims{"sub": "alice", "iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()})
	forged := mint(t, "another secret of at least 32 bytes", auth.Claims{"sub": "alice"})
	const scriptChallenge = `Session realm="cookie example"`

	tests := []struct {
		name, method, path string
		headers            [][2]string
		form               url.Values
		wantStatus         int
		wantUser           string // the user of a 200 from /me or /whoami
		wantDetail         string // the problem's detail of an error
		wantChallenge      string
	}{
		{name: "me", method: "GET", path: "/me", headers: [][2]string{{"Cookie", session}},
			wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "me without a cookie", method: "GET", path: "/me",
			wantStatus: http.StatusUnauthorized, wantDetail: "Not logged in"},
		{name: "me with an empty cookie", method: "GET", path: "/me", headers: [][2]string{{"Cookie", "session="}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Not logged in"},
		{name: "me with a garbage cookie", method: "GET", path: "/me", headers: [][2]string{{"Cookie", "session=garbage"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token is malformed"},
		{name: "me with a forged cookie", method: "GET", path: "/me", headers: [][2]string{{"Cookie", "session=" + forged}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token signature is invalid"},
		{name: "me with an expired cookie", method: "GET", path: "/me", headers: [][2]string{{"Cookie", "session=" + expired}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token has expired"},
		{name: "me with two cookies", method: "GET", path: "/me", headers: [][2]string{{"Cookie", session + "; session=other"}},
			wantStatus: http.StatusBadRequest, wantDetail: "More than one session cookie"},
		{name: "me with the token in a header", method: "GET", path: "/me", headers: [][2]string{{"Authorization", "Session " + token}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Not logged in"},

		{name: "whoami by cookie", method: "GET", path: "/whoami", headers: [][2]string{{"Cookie", session}},
			wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "whoami by header", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "Session " + token}},
			wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "whoami by header, scheme in lower case", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "session " + token}},
			wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "whoami without a token", method: "GET", path: "/whoami",
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: scriptChallenge},
		{name: "whoami with a bearer token", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "Bearer " + token}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: scriptChallenge},
		{name: "whoami with a forged header", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "Session " + forged}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token signature is invalid", wantChallenge: scriptChallenge},
		{name: "whoami with a bad cookie", method: "GET", path: "/whoami", headers: [][2]string{{"Cookie", "session=garbage"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token is malformed", wantChallenge: scriptChallenge},
		{name: "whoami with a malformed header", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "Session a b"}},
			wantStatus: http.StatusBadRequest, wantChallenge: scriptChallenge},

		{name: "login with a wrong password", method: "POST", path: "/login", form: url.Values{"username": {"alice"}, "password": {"guess"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid username or password"},
		{name: "login as nobody", method: "POST", path: "/login", form: url.Values{"username": {"mallory"}, "password": {password}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid username or password"},
		{name: "login without a form", method: "POST", path: "/login",
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid username or password"},
		{name: "login from another site", method: "POST", path: "/login", headers: [][2]string{{"Sec-Fetch-Site", "cross-site"}},
			form:       url.Values{"username": {"alice"}, "password": {password}},
			wantStatus: http.StatusForbidden, wantDetail: "Cross-origin request"},
		{name: "logout from another origin", method: "POST", path: "/logout", headers: [][2]string{{"Origin", "https://evil.example"}},
			wantStatus: http.StatusForbidden, wantDetail: "Cross-origin request"},
	}
	// The group returns when its parallel subtests have all finished.
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := send(t, client, tt.method, base+tt.path, tt.headers, tt.form)
				if r.status != tt.wantStatus {
					t.Fatalf("status = %d; want %d (body %s)", r.status, tt.wantStatus, r.body)
				}
				if got := r.header.Get("WWW-Authenticate"); got != tt.wantChallenge {
					t.Errorf("WWW-Authenticate = %q; want %q", got, tt.wantChallenge)
				}
				if len(r.header.Values("Set-Cookie")) != 0 {
					t.Errorf("Set-Cookie = %q; want none", r.header.Values("Set-Cookie"))
				}
				if tt.wantStatus == http.StatusOK {
					var got struct {
						User      string  `json:"user"`
						ExpiresAt float64 `json:"expires_at"`
					}
					if err := json.Unmarshal([]byte(r.body), &got); err != nil {
						t.Fatalf("body %q: %v", r.body, err)
					}
					if d := time.Until(time.Unix(int64(got.ExpiresAt), 0)); got.User != tt.wantUser || d < 50*time.Minute || d > time.Hour {
						t.Errorf("body = %s; want user %q expiring in about an hour", r.body, tt.wantUser)
					}
					return
				}
				if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type = %q; want application/problem+json", ct)
				}
				var p struct {
					Status int    `json:"status"`
					Detail string `json:"detail"`
				}
				if err := json.Unmarshal([]byte(r.body), &p); err != nil {
					t.Fatalf("problem %q: %v", r.body, err)
				}
				if p.Status != tt.wantStatus || (tt.wantDetail != "" && p.Detail != tt.wantDetail) {
					t.Errorf("problem = %d %q; want %d %q", p.Status, p.Detail, tt.wantStatus, tt.wantDetail)
				}
			})
		}
	})

	t.Run("logout", func(t *testing.T) {
		r := send(t, client, "POST", base+"/logout", [][2]string{{"Cookie", session}}, nil)
		if r.status != http.StatusNoContent {
			t.Fatalf("status = %d; want 204", r.status)
		}
		if c := sessionCookie(t, r); c.MaxAge >= 0 || c.Value != "" || !c.HttpOnly {
			t.Errorf("cookie = %+v; want an empty HttpOnly cookie that expires now", c)
		}
	})
}

// TestBrowserFlow logs in and out with a cookie jar, as a browser does.
func TestBrowserFlow(t *testing.T) {
	t.Parallel()
	base, out := start(t, map[string]string{})
	var pw string
	for l := range strings.Lines(out.String()) {
		if rest, ok := strings.CutPrefix(l, "password for alice: "); ok {
			pw = strings.TrimSpace(rest)
		}
	}
	if len(pw) < minPasswordLength {
		t.Fatalf("printed password %q; want a random one of at least %d characters", pw, minPasswordLength)
	}
	client := newJarClient(t)
	me := func() int {
		t.Helper()
		return send(t, client, "GET", base+"/me", nil, nil).status
	}
	if got := me(); got != http.StatusUnauthorized {
		t.Fatalf("GET /me before login: %d; want 401", got)
	}
	if r := send(t, client, "POST", base+"/login", nil, url.Values{"username": {"alice"}, "password": {pw}}); r.status != http.StatusOK {
		t.Fatalf("POST /login with the printed password: %d %s; want 200", r.status, r.body)
	}
	if got := me(); got != http.StatusOK {
		t.Fatalf("GET /me after login: %d; want 200", got)
	}
	if r := send(t, client, "POST", base+"/logout", nil, nil); r.status != http.StatusNoContent {
		t.Fatalf("POST /logout: %d; want 204", r.status)
	}
	if got := me(); got != http.StatusUnauthorized {
		t.Fatalf("GET /me after logout: %d; want 401", got)
	}
}

// TestSecureOverTLS serves the routes over HTTPS: the cookie is Secure.
func TestSecureOverTLS(t *testing.T) {
	t.Parallel()
	a, err := newAuths([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(routes(a, map[string][sha256.Size]byte{"alice": sha256.Sum256([]byte(password))}))
	t.Cleanup(srv.Close)
	c := login(t, srv.Client(), srv.URL)
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie over TLS = %+v; want Secure, HttpOnly, SameSite=Lax", c)
	}
	r := send(t, srv.Client(), "GET", srv.URL+"/me", [][2]string{{"Cookie", "session=" + c.Value}}, nil)
	if r.status != http.StatusOK {
		t.Errorf("GET /me over TLS: %d %s; want 200", r.status, r.body)
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
		{name: "short password", env: map[string]string{"DEMO_PASSWORD": "hunter2"}, wantErr: "DEMO_PASSWORD is shorter than 12 characters"},
		{name: "bad address", env: map[string]string{"ADDR": "127.0.0.1:notaport"}, wantErr: "listening on ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), func(k string) string { return tt.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v; want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q reveals the password", err)
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
	if os.Getenv("COOKIE_EXAMPLE_RUN_MAIN") == "1" {
		main()
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainExit$")
	cmd.Env = append(os.Environ(), "COOKIE_EXAMPLE_RUN_MAIN=1", "JWT_SECRET=short", "ADDR=127.0.0.1:0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v; want status 1", err)
	}
	got := stderr.String()
	if want := "cookie: JWT_SECRET: "; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q; want one line starting %q", got, want)
	}
}

// newJarClient returns a client that keeps cookies, as a browser does.
func newJarClient(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	if os.Getenv("COOKIE_EXAMPLE_RUN_MAIN") == "1" {
		main()
		return
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMainSignal$")
	cmd.Env = append(os.Environ(), "COOKIE_EXAMPLE_RUN_MAIN=1", "ADDR=127.0.0.1:0")
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
