package serve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		addr    string
		wantErr string // "" for success
	}{
		{name: "any free port", addr: "127.0.0.1:0"},
		{name: "bad port", addr: "127.0.0.1:notaport", wantErr: `listening on ADDR "127.0.0.1:notaport": `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ln, err := Listen(tt.addr)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("Listen(%q) error = %v; want one line starting %q", tt.addr, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Listen(%q): %v", tt.addr, err)
			}
			defer ln.Close()
			if got, want := URL(ln), "http://"+ln.Addr().String(); got != want {
				t.Errorf("URL = %q; want %q", got, want)
			}
		})
	}
}

func TestServer(t *testing.T) {
	t.Parallel()
	srv := Server(http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("Server timeouts = %v, %v, %v, %v; want all set", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
}

// lineWriter hands each Write to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

// TestServeShutdown serves until the context ends: requests are answered
// before, the listener is closed after, and Serve returns nil.
func TestServeShutdown(t *testing.T) {
	t.Parallel()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(lineWriter, 1)
	errc := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello") })
	go func() { errc <- Serve(ctx, out, ln, Server(h)) }()
	if got, want := <-out, "listening on "+URL(ln)+"\n"; got != want {
		t.Errorf("Serve printed %q; want %q", got, want)
	}
	resp, err := http.Get(URL(ln))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Errorf("body = %q; want hello", body)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve = %v after cancel; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the listener still accepts connections after shutdown")
	}
}

// TestServeFails returns the error of a server that cannot serve.
func TestServeFails(t *testing.T) {
	t.Parallel()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = Serve(context.Background(), io.Discard, ln, Server(http.NotFoundHandler()))
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve on a closed listener = %v; want its error", err)
	}
}
