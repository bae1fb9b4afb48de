package demotest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/serve"
	"github.com/typedauth/auth/jwt"
)

// fakeRun is a program of the shape the helpers expect: it fails when FAIL
// is set, and otherwise prints a token line and serves fakeRoutes.
func fakeRun(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	if v := getenv("FAIL"); v != "" {
		return errors.New("FAIL is " + v)
	}
	ln, err := serve.Listen(getenv("ADDR"))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "token for demo:  t0k3n ")
	return serve.Serve(ctx, stdout, ln, serve.Server(fakeRoutes()))
}

func fakeMain() { serve.Main("fake", fakeRun) }

func fakeRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "authorization": r.Header.Get("Authorization"),
			"content_type": r.Header.Get("Content-Type"), "multi": r.Header.Values("X-Multi"), "body": string(body),
		})
	})
	mux.HandleFunc("GET /problem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"title":"Unauthorized","status":401,"detail":"Missing credentials"}`)
	})
	mux.HandleFunc("GET /liar", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"status":401,"detail":"Missing credentials"}`)
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Missing credentials", http.StatusUnauthorized)
	})
	return mux
}

// recorder is a testing.TB that records failures instead of failing. Its
// Fatal methods end the goroutine, as the real ones do: call the function
// under test through record.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.mu.Lock()
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// record runs f with a recorder wrapping tb and returns it.
func record(tb testing.TB, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: tb}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestOutputLine(t *testing.T) {
	t.Parallel()
	out := NewOutput()
	fmt.Fprint(out, "first: one\nsecond:  two  \nfirst: again\n")
	if got := out.Line(t, "first: "); got != "one" {
		t.Errorf("Line(first) = %q; want one", got)
	}
	if got := out.Line(t, "second:"); got != "two" {
		t.Errorf("Line(second) = %q; want two", got)
	}
	if r := record(t, func(tb testing.TB) { out.Line(tb, "third: ") }); !r.fatal {
		t.Errorf("Line of a missing prefix did not fail the test")
	}
}

func TestStartAndDo(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	base, out := Start(t, fakeRun, env)
	if len(env) != 0 {
		t.Errorf("Start changed env to %v", env)
	}
	if got := out.Line(t, "token for demo:"); got != "t0k3n" {
		t.Errorf("token line = %q; want t0k3n", got)
	}
	r := Do(t, Request{Method: "POST", URL: base + "/echo", Token: "abc", ContentType: "text/plain", Body: "hello",
		Header: [][2]string{{"X-Multi", "1"}, {"X-Multi", "2"}}})
	Check(t, r, Want{Status: http.StatusOK,
		Body: `{"authorization":"Bearer abc","body":"hello","content_type":"text/plain","method":"POST","multi":["1","2"]}`})
	r = Do(t, Request{URL: base + "/echo", Client: &http.Client{}})
	Check(t, r, Want{Status: http.StatusOK, Body: `{"authorization":"","body":"","content_type":"","method":"GET","multi":null}`})

	problem := Do(t, Request{URL: base + "/problem"})
	Check(t, problem, Want{Status: http.StatusUnauthorized, Detail: "Missing credentials", Challenge: "Bearer"})
	if p := DecodeProblem(t, problem); p.Title != "Unauthorized" {
		t.Errorf("problem title = %q; want Unauthorized", p.Title)
	}

	// Each mismatch fails the check.
	ok := Do(t, Request{URL: base + "/echo"})
	tests := []struct {
		name      string
		r         Response
		want      Want
		wantFatal bool
	}{
		{name: "status", r: ok, want: Want{Status: http.StatusCreated}, wantFatal: true},
		{name: "body", r: ok, want: Want{Status: http.StatusOK, Body: `{}`}},
		{name: "unexpected challenge", r: problem, want: Want{Status: http.StatusUnauthorized, Detail: "Missing credentials"}},
		{name: "missing challenge", r: ok, want: Want{Status: http.StatusOK, Challenge: "Bearer"}},
		{name: "detail", r: problem, want: Want{Status: http.StatusUnauthorized, Detail: "Other", Challenge: "Bearer"}},
		{name: "problem status", r: Do(t, Request{URL: base + "/liar"}), want: Want{Status: http.StatusForbidden}},
		{name: "not a problem", r: Do(t, Request{URL: base + "/plain"}), want: Want{Status: http.StatusUnauthorized}, wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := record(t, func(tb testing.TB) { Check(tb, tt.r, tt.want) })
			if len(rec.failed) == 0 || rec.fatal != tt.wantFatal {
				t.Errorf("Check failures %q, fatal %v; want some, fatal %v", rec.failed, rec.fatal, tt.wantFatal)
			}
		})
	}
}

func TestStartFails(t *testing.T) {
	t.Parallel()
	var cleanups []func()
	rec := record(t, func(tb testing.TB) {
		Start(&cleanupRecorder{TB: tb, cleanups: &cleanups}, fakeRun, map[string]string{"FAIL": "yes"})
	})
	if !rec.fatal || !strings.Contains(strings.Join(rec.failed, "\n"), "FAIL is yes") {
		t.Errorf("Start of a failing program: failures %q; want a fatal one naming the error", rec.failed)
	}
	if len(cleanups) != 1 {
		t.Fatalf("Start registered %d cleanups; want 1", len(cleanups))
	}
	// The cleanup reports the error again.
	before := len(rec.failed)
	cleanups[0]()
	if len(rec.failed) == before {
		t.Errorf("the cleanup of a failed program reported nothing")
	}
}

// cleanupRecorder keeps the functions given to Cleanup for the test to run.
type cleanupRecorder struct {
	testing.TB
	cleanups *[]func()
}

func (c *cleanupRecorder) Cleanup(f func()) { *c.cleanups = append(*c.cleanups, f) }

func TestRunBadConfig(t *testing.T) {
	t.Parallel()
	RunBadConfig(t, fakeRun, []BadConfig{
		{Name: "fail", Env: map[string]string{"FAIL": "yes"}, WantErr: "FAIL is yes"},
		{Name: "bad address", Env: map[string]string{"ADDR": "127.0.0.1:notaport"}, WantErr: "listening on ADDR"},
	}, "hunter2")
}

func TestMainExit(t *testing.T) {
	t.Parallel()
	MainExit(t, fakeMain, []string{"FAIL=yes"}, "fake: FAIL is yes")
}

func TestMainSignal(t *testing.T) {
	t.Parallel()
	MainSignal(t, fakeMain, []string{"ADDR=127.0.0.1:0", "FAIL="})
}

func TestMintHS256(t *testing.T) {
	t.Parallel()
	const secret, issuer = "0123456789abcdef0123456789abcdef", "urn:example:test"
	tok := MintHS256(t, secret, issuer, auth.Claims{"sub": "alice", "scope": "a b"})
	verifier, err := jwt.New(jwt.Config{Secret: []byte(secret), Algorithms: []string{"HS256"}, IssuerURL: issuer})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := verifier.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if claims["sub"] != "alice" || claims["scope"] != "a b" || claims["iss"] != issuer {
		t.Errorf("claims = %v; want sub alice, scope \"a b\", iss %s", claims, issuer)
	}
	if rec := record(t, func(tb testing.TB) { MintHS256(tb, "short", issuer, nil) }); !rec.fatal {
		t.Error("MintHS256 with a short secret did not fail the test")
	}
}
