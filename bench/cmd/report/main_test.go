package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/typedauth/auth/bench"
)

// rounds are three rounds of BenchmarkInterleaved output for alg/RS256,
// with the base and typedauth, among lines that are not results.
var rounds = []string{
	`goos: linux
BenchmarkInterleaved/alg/RS256-2   	    1000	    190000 ns/op	      4888 golang-jwt-B/op	        75.00 golang-jwt-allocs/op	    100000 golang-jwt-ns/op	      3712 typedauth-B/op	        36.00 typedauth-allocs/op	     90000 typedauth-ns/op
BenchmarkRequest/alg/HS256/typedauth-2    	    1000	     90000 ns/op
PASS`,
	`BenchmarkInterleaved/alg/RS256-2   	    1000	    500000 ns/op	      3712 typedauth-B/op	        36.00 typedauth-allocs/op	    300000 typedauth-ns/op	      4888 golang-jwt-B/op	        75.00 golang-jwt-allocs/op	    200000 golang-jwt-ns/op`,
	`BenchmarkInterleaved/alg/RS256-2   	    1000	    110000 ns/op	      4888 golang-jwt-B/op	        75.00 golang-jwt-allocs/op	     50000 golang-jwt-ns/op	      3712 typedauth-B/op	        37.00 typedauth-allocs/op	     60000 typedauth-ns/op`,
}

func parsed(t *testing.T) results {
	t.Helper()
	res := results{}
	for i, out := range rounds {
		if err := res.parse(strings.NewReader(out), i); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

func TestSummary(t *testing.T) {
	res := parsed(t)
	if len(res) != 2 {
		t.Fatalf("parsed %d rows, want 2 (a BenchmarkRequest line is not a result)", len(res))
	}
	r, ok := res.summary("alg", "RS256", "typedauth", "golang-jwt")
	if !ok || !r.hasRatio {
		t.Fatalf("summary: %+v, %v", r, ok)
	}
	// Times 90, 300, 60 µs: median 90 µs. Ratios per round 0.9, 1.5, 1.2:
	// median 1.2, not the 90/100 of the medians.
	if r.ns != 90000 || r.ratio != 1.2 || r.bytes != 3712 || r.allocs != 36 {
		t.Errorf("summary = %+v, want 90000 ns, ratio 1.2, 3712 B, 36 allocs", r)
	}
	if _, ok := res.summary("alg", "ES256", "typedauth", "golang-jwt"); ok {
		t.Error("a row that never ran has a summary")
	}
	if got := res.procs(); got != 2 {
		t.Errorf("procs = %d, want 2", got)
	}
}

func TestMedianOfEven(t *testing.T) {
	if m := medianOf([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
}

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	write(&buf, machine{date: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), goVersion: "go version go1.26.0 linux/amd64",
		cpu: "test CPU", numCPU: 2, procs: 2, rounds: 3, benchtime: "400ms", took: time.Minute}, parsed(t))
	doc := buf.String()
	for _, want := range []string{
		"- Date: 2026-01-02 03:04 UTC",
		"2 CPUs (test CPU), GOMAXPROCS 2",
		"| golang-jwt/jwt v5, bare parser (base) | – | 100 µs (1.00×) | – | – |",
		"| typedauth jwt, uncached | – | 90.0 µs (1.20×) | – | – |",
		"| typedauth jwt, uncached | – | 3.6 KiB, 36 | – | – |",
		"| coreos/go-oidc v3 | n/a [1] |",
		"1. go-oidc verifies with public keys only",
		"at most 1.10× the bare parser, for every algorithm: **does not hold** (RS256 1.20×)",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("BENCHMARKS.md lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(doc)
	}
}

func TestParseMalformed(t *testing.T) {
	res := results{}
	if err := res.parse(strings.NewReader("BenchmarkInterleaved/alg/RS256-2  10  5 ns/op  7 typedauth-ns/op  3\n"), 0); err == nil {
		t.Error("a line with an odd number of metric fields parsed")
	}
	if err := res.parse(strings.NewReader("BenchmarkInterleaved/alg/RS256-2  10  x ns/op\n"), 0); err == nil {
		t.Error("a line with a non-numeric value parsed")
	}
}

func TestClaims(t *testing.T) {
	res := results{}
	add := func(group, cell, subject string, ns ...float64) {
		for round, v := range ns {
			res[key{group, cell, subject}] = append(res[key{group, cell, subject}], sample{round: round, ns: v, allocs: 3, procs: 2})
		}
	}
	add("alg", "HS256", "golang-jwt", 10, 20, 10)
	add("alg", "HS256", "typedauth", 5, 10, 6)
	add("alg", "RS256", "golang-jwt", 50, 50, 50)
	add("alg", "RS256", "typedauth", 60, 40, 45)
	add("parallel", "HS256", "typedauth", 3, 5, 3)
	for _, tc := range []struct {
		c    claim
		want string
	}{
		{claim{text: "ratio", group: "alg", subject: "typedauth", max: 1.0}, "ratio: **holds** (HS256 0.50×, RS256 0.90×)"},
		{claim{text: "some cells", group: "alg", cells: []string{"RS256"}, subject: "typedauth", max: 0.8}, "some cells: **does not hold** (RS256 0.90×)"},
		{claim{text: "small bound", group: "alg", cells: []string{"RS256"}, subject: "typedauth", max: 0.02}, "small bound: **does not hold** (RS256 0.900×)"},
		{claim{text: "allocs", group: "alg", subject: "typedauth", allocs: true, max: 4}, "allocs: **holds** (HS256 3 allocs, RS256 3 allocs)"},
		{claim{text: "scaling", group: "parallel", over: "alg", subject: "typedauth", max: 0.6}, "scaling: **holds** (HS256 0.50×)"},
		{claim{text: "absent", group: "alg", subject: "no-such-subject", max: 1}, "absent: not checked (the subject is absent or lacks a check)"},
		{claim{text: "unmeasured", group: "jwks", subject: "typedauth", max: 1}, "unmeasured: not measured in this run ()"},
	} {
		var buf bytes.Buffer
		writeClaim(&buf, tc.c, res, "golang-jwt", bench.Subjects())
		if got := strings.TrimSpace(buf.String()); got != "- "+tc.want {
			t.Errorf("got %q, want %q", got, "- "+tc.want)
		}
	}
}
