package main

import (
	"testing"

	"github.com/typedauth/auth/examples/internal/demotest"
	"github.com/typedauth/auth/examples/internal/itemstest"
)

func TestRoutes(t *testing.T) {
	t.Parallel()
	itemstest.Routes(t, run, itemstest.Guarded)
}

// TestBounds fills the store through the API: it is bounded, and a full
// store or a long name gets a problem, not an ever larger process.
func TestBounds(t *testing.T) {
	t.Parallel()
	itemstest.Bounds(t, run)
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	itemstest.BadConfig(t, run)
}

// TestMainExit runs the program itself with a bad configuration: it must
// exit with status 1 and one line on stderr.
func TestMainExit(t *testing.T) {
	t.Parallel()
	demotest.MainExit(t, main, []string{"JWT_SECRET=short", "ADDR=127.0.0.1:0"}, "chi: JWT_SECRET: ")
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	t.Parallel()
	demotest.MainSignal(t, main, []string{"ADDR=127.0.0.1:0"})
}
