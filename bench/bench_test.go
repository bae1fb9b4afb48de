package bench

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

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

// BenchmarkRequest serves one valid request through every subject in
// every cell of every group: BenchmarkRequest/<group>/<cell>/<subject>,
// one standard row per subject for go test -bench and benchstat. n/a cells
// are not run. Every iteration checks that the request reached the
// handler. BENCHMARKS.md comes from [BenchmarkInterleaved] instead, whose
// ratios hold on a loaded machine.
func BenchmarkRequest(b *testing.B) {
	eachCell(b, func(b *testing.B, e *Env, g Group, c Cell, tok string, subs []Subject) {
		for _, sub := range subs {
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

// eachCell runs f as the sub-benchmark <group>/<cell> of every cell, with
// the cell's valid token and the subjects the group measures in it, and
// the collector paused in the groups that ask for it.
func eachCell(b *testing.B, f func(b *testing.B, e *Env, g Group, c Cell, tok string, subs []Subject)) {
	e := newEnv(b)
	for _, g := range Groups() {
		b.Run(g.Name, func(b *testing.B) {
			if g.PauseGC {
				defer pauseGC()()
			}
			for _, c := range g.Cells {
				b.Run(c.Name, func(b *testing.B) {
					tok, err := e.Token(c.Scenario, Valid)
					if err != nil {
						b.Fatal(err)
					}
					var subs []Subject
					for _, sub := range Subjects() {
						if sub.Reason(c.Scenario) == "" && g.Measures(sub.Name) {
							subs = append(subs, sub)
						}
					}
					f(b, e, g, c, tok, subs)
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

// handler is a built subject, the number of requests in its blocks and
// the number in each timed group of a block.
type handler struct {
	name  string
	h     http.Handler
	block int
	group int
}

// groupTime is the least duration of a timed group of requests: reading
// the clock twice costs tens of nanoseconds, which would weigh on the
// fastest subjects if every request were timed alone, and a group still
// lasts far less than a stall (see [stall]), so stalled groups stay
// distinguishable.
const groupTime = 20 * time.Microsecond

// newHandler returns the handler of a subject whose requests take
// perRequest each.
func newHandler(name string, h http.Handler, perRequest time.Duration) handler {
	perRequest = max(perRequest, 1)
	group := max(1, int((groupTime+perRequest-1)/perRequest))
	blocks := max(1, int(blockTime/(perRequest*time.Duration(group))))
	return handler{name: name, h: h, block: blocks * group, group: group}
}

// blockTime is the target duration of one block of requests through one
// subject in BenchmarkInterleaved: long enough that a garbage collection
// started by a subject's allocations mostly ends within its own block,
// short enough that every subject sees the same machine load.
const blockTime = 3 * time.Millisecond

// BenchmarkInterleaved measures every subject of a cell in one loop:
// BenchmarkInterleaved/<group>/<cell>. Each iteration serves one block of
// requests (about [blockTime]) through each subject in turn, in an order
// that rotates every iteration, so a change of machine load falls on every
// subject alike. Requests are timed in groups of at least [groupTime]
// (one request when it takes longer); groups that stalled (see
// [settledMean]) are left out. In the parallel groups, each block runs on GOMAXPROCS
// goroutines at once, all through the same subject, so that contention
// within a subject shows. It reports, per subject, <name>-ns/op (wall time
// per request: mean request time over GOMAXPROCS in the parallel groups), <name>-B/op and <name>-allocs/op (over 100 requests served
// before the loop); ns/op is one block through every subject and means
// little. The report command runs it and writes BENCHMARKS.md.
func BenchmarkInterleaved(b *testing.B) {
	eachCell(b, func(b *testing.B, e *Env, g Group, c Cell, tok string, subs []Subject) {
		var hs []handler
		var allocs [][2]float64
		for _, sub := range subs {
			h, err := sub.Build(b.Context(), e, c.Scenario)
			if err != nil {
				b.Fatal(err)
			}
			a, perRequest := calibrate(b, h, tok)
			hs = append(hs, newHandler(sub.Name, h, perRequest))
			allocs = append(allocs, a)
		}
		procs := 1
		if g.Parallel {
			procs = runtime.GOMAXPROCS(0)
		}
		ns := interleave(b, hs, tok, procs)
		for i, h := range hs {
			b.ReportMetric(ns[i], h.name+"-ns/op")
			b.ReportMetric(allocs[i][0], h.name+"-B/op")
			b.ReportMetric(allocs[i][1], h.name+"-allocs/op")
		}
	})
}

// pauseGC pauses the garbage collector, with a memory limit as a
// backstop, and returns the function that restores it.
func pauseGC() (restore func()) {
	runtime.GC()
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(2 << 30)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
		runtime.GC()
	}
}

// calibrate serves 100 requests through h after a first one and returns
// the bytes and allocations per request, and the time per request.
func calibrate(b *testing.B, h http.Handler, tok string) ([2]float64, time.Duration) {
	const n = 100
	r, w := newRequest(tok), newDiscardWriter()
	h.ServeHTTP(w, r)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range n {
		w.reset()
		h.ServeHTTP(w, r)
		if !w.served() {
			b.Fatalf("request rejected: status %d", w.status)
		}
	}
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return [2]float64{float64(after.TotalAlloc-before.TotalAlloc) / n, float64(after.Mallocs-before.Mallocs) / n}, took / n
}

// interleave runs blocks of hs in rotating order on procs goroutines until
// b.Loop ends, and returns each subject's wall time per request: the
// [settledMean] of the durations of its timed groups, over the group size
// and procs.
func interleave(b *testing.B, hs []handler, tok string, procs int) []float64 {
	reqs, ws := make([]*http.Request, procs), make([]*discardWriter, procs)
	times := make([][]time.Duration, procs) // the group durations of the current block, per goroutine
	for i := range procs {
		reqs[i], ws[i] = newRequest(tok), newDiscardWriter()
	}
	all := make([][]time.Duration, len(hs)) // per subject, every request time
	var rejected atomic.Int64
	serve := func(g int, h handler) {
		r, w, ts := reqs[g], ws[g], times[g][:0]
		start := time.Now()
		t := time.Since(start)
	block:
		for range h.block / h.group {
			for range h.group {
				w.reset()
				h.h.ServeHTTP(w, r)
				if !w.served() {
					rejected.Store(int64(w.status))
					break block
				}
			}
			now := time.Since(start)
			ts = append(ts, now-t)
			t = now
		}
		times[g] = ts
	}
	round := 0
	for b.Loop() {
		for k := range hs {
			j := (round + k) % len(hs)
			if procs == 1 {
				serve(0, hs[j])
			} else {
				var wg sync.WaitGroup
				for g := range procs {
					wg.Go(func() { serve(g, hs[j]) })
				}
				wg.Wait()
			}
			if status := rejected.Load(); status != 0 {
				b.Fatalf("%s: request rejected: status %d", hs[j].name, status)
			}
			for _, ts := range times {
				all[j] = append(all[j], ts...)
			}
		}
		round++
	}
	ns := make([]float64, len(hs))
	for i, ts := range all {
		ns[i] = float64(settledMean(ts)) / float64(hs[i].group*procs)
	}
	return ns
}

// stall is how much longer than the median a timed group must take to count as
// stalled: the process was descheduled during it, on a shared machine,
// for a scheduler time slice (milliseconds). A garbage collection
// lengthens a request far less, so the collections a subject causes stay
// in its mean.
const stall = time.Millisecond

// settledMean returns the mean of ts without the stalled values, those
// above their median plus [stall].
func settledMean(ts []time.Duration) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	sorted := slices.Clone(ts)
	slices.Sort(sorted)
	limit := sorted[len(sorted)/2] + stall
	var sum time.Duration
	n := 0
	for _, d := range sorted {
		if d > limit {
			break
		}
		sum += d
		n++
	}
	return sum / time.Duration(n)
}
