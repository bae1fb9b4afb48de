package bench

import (
	"flag"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
)

var order = flag.Uint64("order", 0, "when not zero, the seed of a shuffle of the subjects within each cell; "+
	"the report command changes it every round, so that no subject always runs first or last")

// discardWriter is a reusable ResponseWriter that keeps whether the
// response was 200 with sub as its body, and nothing else.
type discardWriter struct {
	h      http.Header
	status int
	ok     bool // the body was Sub
}

func newDiscardWriter() *discardWriter { return &discardWriter{h: http.Header{}} }

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.ok = string(p) == Sub
	return len(p), nil
}

func (w *discardWriter) WriteString(s string) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.ok = s == Sub
	return len(s), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.ok = 0, false
}

// served reports whether the last request reached the handler.
func (w *discardWriter) served() bool { return w.status == http.StatusOK && w.ok }

// subjectsFor returns the subjects of cell ci of group gi, shuffled when
// -order is set.
func subjectsFor(gi, ci int) []Subject {
	subs := Subjects()
	if *order != 0 {
		rnd := rand.New(rand.NewPCG(*order, uint64(gi<<16|ci)))
		rnd.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
	}
	return subs
}

// BenchmarkRequest serves one valid request through every subject in
// every cell of every group: BenchmarkRequest/<group>/<cell>/<subject>.
// n/a cells are not run. Every iteration checks that the request reached
// the handler. The report command runs it in rounds and writes
// BENCHMARKS.md.
func BenchmarkRequest(b *testing.B) {
	e := newEnv(b)
	for gi, g := range Groups() {
		b.Run(g.Name, func(b *testing.B) {
			for ci, c := range g.Cells {
				b.Run(c.Name, func(b *testing.B) {
					tok, err := e.Token(c.Scenario, Valid)
					if err != nil {
						b.Fatal(err)
					}
					for _, sub := range subjectsFor(gi, ci) {
						if sub.Reason(c.Scenario) != "" {
							continue
						}
						b.Run(sub.Name, func(b *testing.B) {
							h, err := sub.Build(b.Context(), e, c.Scenario)
							if err != nil {
								b.Fatal(err)
							}
							if g.Parallel {
								runParallel(b, h, tok)
							} else {
								runSerial(b, h, tok)
							}
						})
					}
				})
			}
		})
	}
}

func newRequest(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func runSerial(b *testing.B, h http.Handler, tok string) {
	r, w := newRequest(tok), newDiscardWriter()
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
		if !w.served() {
			b.Fatalf("request rejected: status %d", w.status)
		}
	}
}

func runParallel(b *testing.B, h http.Handler, tok string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r, w := newRequest(tok), newDiscardWriter()
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
			if !w.served() {
				b.Errorf("request rejected: status %d", w.status)
				return
			}
		}
	})
}
