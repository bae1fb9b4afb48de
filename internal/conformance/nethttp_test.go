package conformance

import "testing"

// TestNetHTTP runs the table against the library's own net/http middleware,
// the reference every adapter is held to.
func TestNetHTTP(t *testing.T) {
	Run(t, NetHTTP)
}

// FuzzNetHTTP checks the fuzz harness against itself: the reference must
// agree with a second instance of itself and never answer 5xx to untrusted
// input.
func FuzzNetHTTP(f *testing.F) {
	Fuzz(f, NetHTTP)
}
