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

	"github.com/typedauth/auth/apikey"
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

// get sends GET url with the given headers (each name may repeat).
func get(tb testing.TB, url string, headers [][2]string) (status int, h http.Header, body string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for _, kv := range headers {
		req.Header.Add(kv[0], kv[1])
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
	return resp.StatusCode, resp.Header, string(b)
}

func TestPing(t *testing.T) {
	t.Parallel()
	base, out := start(t, map[string]string{})
	billing := out.line(t, "key for billing: ")
	reports := out.line(t, "key for reports: ")
	if billing == reports || !strings.HasPrefix(billing, "sk_") {
		t.Fatalf("generated keys %q and %q; want two distinct sk_ keys", billing, reports)
	}
	if got, want := out.line(t, "security scheme: "), `apiKey in header "Authorization-Key" (Service key, issued per client)`; got != want {
		t.Errorf("security scheme = %q; want %q", got, want)
	}
	runPingTests(t, base, billing, reports)
}

// TestKeysFromEnvironment configures the keys with API_KEYS: they work and
// are never printed.
func TestKeysFromEnvironment(t *testing.T) {
	t.Parallel()
	const billing, reports = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1", "r2r2r2r2r2r2r2r2r2r2r2r2r2r2r2r2"
	base, out := start(t, map[string]string{"API_KEYS": "billing=" + billing + ", reports=" + reports})
	if s := out.String(); strings.Contains(s, billing) || strings.Contains(s, reports) || strings.Contains(s, "key for") {
		t.Errorf("the program printed keys it was given:\n%s", s)
	}
	runPingTests(t, base, billing, reports)
}

func runPingTests(t *testing.T, base, billing, reports string) {
	t.Helper()
	tests := []struct {
		name          string
		headers       [][2]string
		wantStatus    int
		wantBody      string // the JSON body of a 200
		wantDetail    string // the problem's detail otherwise
		wantChallenge string
	}{
		{name: "billing", headers: [][2]string{{"Authorization-Key", billing}},
			wantStatus: http.StatusOK, wantBody: `{"client":"billing","pong":true}`},
		{name: "reports", headers: [][2]string{{"Authorization-Key", reports}},
			wantStatus: http.StatusOK, wantBody: `{"client":"reports","pong":true}`},
		{name: "no key", wantStatus: http.StatusUnauthorized, wantDetail: "Invalid API Key", wantChallenge: "APIKey"},
		{name: "wrong key", headers: [][2]string{{"Authorization-Key", "sk_WRONGWRONGWRONGWRONGWRONG"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid API Key", wantChallenge: "APIKey"},
		{name: "a key with a character more", headers: [][2]string{{"Authorization-Key", billing + "x"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid API Key", wantChallenge: "APIKey"},
		{name: "key in the default header", headers: [][2]string{{"X-Api-Key", billing}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid API Key", wantChallenge: "APIKey"},
		{name: "key as a bearer token", headers: [][2]string{{"Authorization", "Bearer " + billing}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid API Key", wantChallenge: "APIKey"},
		{name: "two keys", headers: [][2]string{{"Authorization-Key", billing}, {"Authorization-Key", reports}},
			wantStatus: http.StatusBadRequest, wantDetail: "More than one Authorization-Key header", wantChallenge: "APIKey"},
	}
	// The group returns when its parallel subtests have all finished.
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				status, h, body := get(t, base+"/ping", tt.headers)
				if status != tt.wantStatus {
					t.Fatalf("status = %d; want %d (body %s)", status, tt.wantStatus, body)
				}
				if got := h.Get("WWW-Authenticate"); got != tt.wantChallenge {
					t.Errorf("WWW-Authenticate = %q; want %q", got, tt.wantChallenge)
				}
				if tt.wantStatus == http.StatusOK {
					if strings.TrimSpace(body) != tt.wantBody {
						t.Errorf("body = %s; want %s", body, tt.wantBody)
					}
					return
				}
				if ct := h.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type = %q; want application/problem+json", ct)
				}
				var p struct {
					Status int    `json:"status"`
					Detail string `json:"detail"`
				}
				if err := json.Unmarshal([]byte(body), &p); err != nil {
					t.Fatalf("problem %q: %v", body, err)
				}
				if p.Status != tt.wantStatus || p.Detail != tt.wantDetail {
					t.Errorf("problem = %d %q; want %d %q", p.Status, p.Detail, tt.wantStatus, tt.wantDetail)
				}
				if strings.Contains(body, billing) || strings.Contains(body, reports) {
					t.Errorf("body %s echoes a key", body)
				}
			})
		}
	})
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	const long = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "no equals sign", env: map[string]string{"API_KEYS": long}, wantErr: "API_KEYS: want comma-separated name=key pairs"},
		{name: "no name", env: map[string]string{"API_KEYS": "=" + long}, wantErr: "API_KEYS: want comma-separated name=key pairs"},
		{name: "trailing comma", env: map[string]string{"API_KEYS": "a=" + long + ","}, wantErr: "API_KEYS: want comma-separated name=key pairs"},
		{name: "short key", env: map[string]string{"API_KEYS": "a=" + long + ",b=hunter2"}, wantErr: `API_KEYS: the key of "b" is shorter than 24 characters`},
		{name: "shared key", env: map[string]string{"API_KEYS": "a=" + long + ",b=" + long}, wantErr: `API_KEYS: "a" and "b" share a key`},
		{name: "bad address", env: map[string]string{"ADDR": "127.0.0.1:notaport"}, wantErr: "listening on ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), func(k string) string { return tt.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v; want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), long) {
				t.Errorf("error %q reveals a key", err)
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
	if os.Getenv("APIKEY_EXAMPLE_RUN_MAIN") == "1" {
		main()
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainExit$")
	cmd.Env = append(os.Environ(), "APIKEY_EXAMPLE_RUN_MAIN=1", "API_KEYS=nokey", "ADDR=127.0.0.1:0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v; want status 1", err)
	}
	got := stderr.String()
	if want := "apikey: API_KEYS: "; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q; want one line starting %q", got, want)
	}
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	if os.Getenv("APIKEY_EXAMPLE_RUN_MAIN") == "1" {
		main()
		return
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMainSignal$")
	cmd.Env = append(os.Environ(), "APIKEY_EXAMPLE_RUN_MAIN=1", "ADDR=127.0.0.1:0")
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

// FuzzParseKeys checks that parseKeys never panics and that whatever it
// accepts is a name=key pair per entry, each key long enough and distinct.
func FuzzParseKeys(f *testing.F) {
	f.Add("billing=0123456789abcdef0123456789abcdef")
	f.Add("a=0123456789abcdef01234567, b=76543210fedcba9876543210")
	f.Add("a=short")
	f.Add("=0123456789abcdef0123456789abcdef")
	f.Add("a=0123456789abcdef0123456789abcdef,")
	f.Add("a=0123456789abcdef0123456789abcdef,b=0123456789abcdef0123456789abcdef")
	f.Add("a==0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, spec string) {
		d := apikey.Digests{}
		if err := parseKeys(spec, d); err != nil {
			return
		}
		entries := strings.Split(spec, ",")
		if len(d) != len(entries) {
			t.Fatalf("parseKeys(%q) kept %d keys; want one per entry, %d", spec, len(d), len(entries))
		}
		for _, e := range entries {
			name, key, ok := strings.Cut(strings.TrimSpace(e), "=")
			if !ok || name == "" || len(key) < minKeyLength {
				t.Fatalf("parseKeys(%q) accepted the entry %q", spec, e)
			}
			if got := d[apikey.Digest(key)]; got != name {
				t.Fatalf("parseKeys(%q): owner of %q's key = %q; want %q", spec, name, got, name)
			}
		}
	})
}
