// Package demotest holds helpers for the example programs' tests: capturing
// a program's output, starting it on a free loopback port and stopping it,
// sending requests, checking responses and RFC 9457 problems, checking that
// a bad configuration is rejected on one line, and running the program's
// real main function in a subprocess to check its exit status and its
// graceful stop on SIGTERM.
//
// The programs share one shape, which the helpers rely on:
//
//	func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error
//
// reads its configuration with getenv (ADDR is the address to listen on),
// prints "listening on <base URL>" as the last line before it serves, and
// returns nil once ctx is done and the server has stopped.
//
// Helpers that fail a test take a testing.TB and call its Helper method.
package demotest

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Run is the run function of an example program.
type Run func(ctx context.Context, getenv func(string) string, stdout io.Writer) error

// listening starts the line with which a program announces its base URL.
const listening = "listening on "

// startTimeout bounds the wait for a program's address.
const startTimeout = 10 * time.Second

// Output collects what a program writes to its standard output. It is safe
// for concurrent use; its zero value is not usable: call NewOutput.
type Output struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{} // signalled after each Write
}

// NewOutput returns an empty Output.
func NewOutput() *Output { return &Output{wrote: make(chan struct{}, 1)} }

// Write appends p. It never fails.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.b.Write(p)
	o.mu.Unlock()
	select {
	case o.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

// String returns all that was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// Line returns the rest, without surrounding space, of the first line
// written that starts with prefix. It fails tb if there is none.
func (o *Output) Line(tb testing.TB, prefix string) string {
	tb.Helper()
	if rest, ok := o.line(prefix); ok {
		return rest
	}
	tb.Fatalf("no output line starts with %q in:\n%s", prefix, o)
	return ""
}

func (o *Output) line(prefix string) (string, bool) {
	for l := range strings.Lines(o.String()) {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// Start runs the program's run with env, ADDR defaulting to 127.0.0.1:0 (a
// free loopback port), and returns its base URL, once it has printed it,
// and its output. env is not modified. At cleanup the program is stopped,
// and tb fails unless run then returns nil. Start fails tb if run returns
// before printing its address, or does not print it within 10 seconds.
func Start(tb testing.TB, run Run, env map[string]string) (string, *Output) {
	tb.Helper()
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["ADDR"]; !ok {
		env["ADDR"] = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := NewOutput()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, func(k string) string { return env[k] }, out) }()
	tb.Cleanup(func() {
		// A connection the client dialled but never used is "new" to the
		// server, which waits up to 5 s for such connections when it shuts
		// down; close them first so that the shutdown is prompt.
		http.DefaultClient.CloseIdleConnections()
		cancel()
		if err := <-errc; err != nil {
			tb.Errorf("run returned %v after shutdown; want nil", err)
		}
	})
	timeout := time.After(startTimeout)
	for {
		select {
		case <-out.wrote:
			if base, ok := out.line(listening); ok {
				return base, out
			}
		case err := <-errc:
			errc <- err // for the cleanup
			tb.Fatalf("run: %v", err)
		case <-timeout:
			tb.Fatalf("the program printed no address in %v; output:\n%s", startTimeout, out)
		}
	}
}

// Request is a request a test sends.
type Request struct {
	// Method is the HTTP method; "" is GET.
	Method string
	// URL is the absolute URL.
	URL string
	// Token, when not "", is sent as "Authorization: Bearer <Token>".
	Token string
	// ContentType, when not "", is the Content-Type header.
	ContentType string
	// Body is the request body; "" sends none.
	Body string
	// Header lists more header lines, added in order; a name may repeat.
	Header [][2]string
	// Client sends the request; nil is http.DefaultClient.
	Client *http.Client
}

// Response is what a test looks at in an answer.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Challenge returns the WWW-Authenticate header of r ("" when absent).
func (r Response) Challenge() string { return r.Header.Get("WWW-Authenticate") }

// Do sends req and reads the whole answer. It fails tb if the request
// cannot be built or sent, or the body cannot be read.
func Do(tb testing.TB, req Request) Response {
	tb.Helper()
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequest(method, req.URL, strings.NewReader(req.Body))
	if err != nil {
		tb.Fatal(err)
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	if req.ContentType != "" {
		hr.Header.Set("Content-Type", req.ContentType)
	}
	for _, kv := range req.Header {
		hr.Header.Add(kv[0], kv[1])
	}
	client := req.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Problem is the RFC 9457 problem details of an error response.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// DecodeProblem decodes the problem details of r. It fails tb at once
// unless r's Content-Type is application/problem+json and its body a JSON
// object, and marks tb failed if the problem's status is not r's.
func DecodeProblem(tb testing.TB, r Response) Problem {
	tb.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type = %q; want application/problem+json (body %s)", ct, r.Body)
	}
	var p Problem
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
		tb.Fatalf("problem %q: %v", r.Body, err)
	}
	if p.Status != r.Status {
		tb.Errorf("problem status = %d; want %d, the response's", p.Status, r.Status)
	}
	return p
}

// Want is the expected answer to a request.
type Want struct {
	// Status is the status code.
	Status int
	// Body, for a Status below 400, is the whole body, surrounding space
	// aside; "" leaves the body of a success unchecked.
	Body string
	// Detail, for a Status of 400 or more, is the detail of the problem
	// the body must be; "" leaves the detail unchecked (the problem's
	// content type and status are checked all the same).
	Detail string
	// Challenge is the WWW-Authenticate header; "" means none.
	Challenge string
}

// Check checks r against want: its status (failing tb at once on a
// mismatch), its challenge, and the body of a success or the problem
// details of an error.
func Check(tb testing.TB, r Response, want Want) {
	tb.Helper()
	if r.Status != want.Status {
		tb.Fatalf("status = %d; want %d (body %s)", r.Status, want.Status, r.Body)
	}
	if got := r.Challenge(); got != want.Challenge {
		tb.Errorf("WWW-Authenticate = %q; want %q", got, want.Challenge)
	}
	if want.Status < 400 {
		if want.Body != "" && strings.TrimSpace(r.Body) != want.Body {
			tb.Errorf("body = %s; want %s", r.Body, want.Body)
		}
		return
	}
	if p := DecodeProblem(tb, r); want.Detail != "" && p.Detail != want.Detail {
		tb.Errorf("problem detail = %q; want %q", p.Detail, want.Detail)
	}
}

// BadConfig is a configuration a program must refuse.
type BadConfig struct {
	Name string
	// Env is the whole environment of the program.
	Env map[string]string
	// WantErr is a part of the error run must return.
	WantErr string
}

// RunBadConfig runs run with each configuration of tests, in parallel
// subtests of t. run must return, without serving, an error on one line
// that contains WantErr and none of secrets (keys, passwords: what a
// configuration error must never echo).
func RunBadConfig(t *testing.T, run Run, tests []BadConfig, secrets ...string) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, func(k string) string { return tt.Env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.WantErr) {
				t.Fatalf("run error = %v; want one containing %q", err, tt.WantErr)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q reveals the secret %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
}
