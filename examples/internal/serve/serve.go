// Package serve is the HTTP plumbing the example programs share: their main
// function, listening on ADDR, and serving with timeouts until a graceful
// shutdown. Nothing in it is about authentication; each program builds its
// auths, guards and handlers in its own main.go.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// DefaultAddr is the address Listen uses when ADDR is empty.
const DefaultAddr = "127.0.0.1:8080"

// ShutdownGrace is how long Serve lets requests in flight finish once its
// context is done. It is longer than the 5 s that net/http gives a
// connection on which no request has arrived yet before it counts as idle,
// so that such a connection never makes a shutdown fail.
const ShutdownGrace = 10 * time.Second

// Main runs run with the process's environment and standard output, and a
// context that SIGINT (Ctrl-C) or SIGTERM (from a process manager) cancels,
// which makes run shut its server down gracefully and return. When run
// returns an error, Main prints it on one line to standard error, prefixed
// with name, and exits with status 1; otherwise it returns.
func Main(name string, run func(ctx context.Context, getenv func(string) string, stdout io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		stop()
		os.Exit(1)
	}
}

// Listen opens a TCP listener on addr, the value of ADDR, or on DefaultAddr
// when addr is empty. Programs listen before printing their address, so
// that ADDR=127.0.0.1:0 (any free port) prints the port actually chosen.
// The error names ADDR and addr, on one line.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on ADDR %q: %w", addr, err)
	}
	return ln, nil
}

// URL returns the base URL of the server listening on ln, such as
// http://127.0.0.1:8080.
func URL(ln net.Listener) string {
	return "http://" + ln.Addr().String()
}

// Server returns an http.Server for h whose timeouts keep slow clients from
// holding connections open or trickling bodies. Callers may set more fields,
// such as ErrorLog, before passing it to Serve.
func Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,  // slow clients cannot hold connections open
		ReadTimeout:       10 * time.Second, // … nor trickle a body
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       time.Minute,
	}
}

// Serve prints "listening on <URL>" to stdout, the last line a program
// prints before serving (tests wait for it), then runs srv on ln until ctx
// is done. It then shuts srv down, letting requests in flight finish for up
// to ShutdownGrace, and returns nil once the server has stopped cleanly. It
// returns an error when the server fails on its own or does not stop in
// time. Serve closes ln.
func Serve(ctx context.Context, stdout io.Writer, ln net.Listener, srv *http.Server) error {
	fmt.Fprintf(stdout, "listening on %s\n", URL(ln))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc: // Serve failed on its own
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
