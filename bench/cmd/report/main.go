// Command report runs BenchmarkInterleaved of package bench in rounds and
// writes BENCHMARKS.md: per cell, the median time of every subject, the
// median of its per-round ratios to the bare golang-jwt parser, and its
// allocations.
//
// Run it from the repository (the workspace resolves the bench module):
//
//	go run ./bench/cmd/report                        # one to three minutes on two cores
//	go run ./bench/cmd/report -rounds 3 -benchtime 100ms -out /tmp/b.md
//
// Every round is one run of the compiled benchmark binary over every
// cell. Within a cell, the benchmark serves blocks of requests through
// each subject in turn, so a change of machine load falls on every subject
// alike, and a subject's ratio in a round compares blocks served side by
// side.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/typedauth/auth/bench"
)

func main() {
	rounds := flag.Int("rounds", 10, "number of rounds; medians are taken over them")
	benchtime := flag.String("benchtime", "400ms", "go test -benchtime of each cell (shared by its subjects) in each round")
	out := flag.String("out", "", "file to write (default BENCHMARKS.md at the root of the workspace)")
	filter := flag.String("bench", "", "only cells matching this regexp, as group/cell (such as 'alg/RS256'); for trials")
	flag.Parse()
	if err := run(*rounds, *benchtime, *out, *filter); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(rounds int, benchtime, out, filter string) error {
	if rounds < 1 {
		return errors.New("-rounds must be at least 1")
	}
	if out == "" {
		root, err := workspaceRoot()
		if err != nil {
			return err
		}
		out = filepath.Join(root, "BENCHMARKS.md")
	}
	tmp, err := os.MkdirTemp("", "bench-report")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench.test")
	fmt.Fprintln(os.Stderr, "building the benchmark binary")
	if err := command(io.Discard, "go", "test", "-c", "-o", bin, "github.com/typedauth/auth/bench"); err != nil {
		return err
	}
	goVersion, err := output("go", "version")
	if err != nil {
		return err
	}

	pattern := "^BenchmarkInterleaved$"
	if filter != "" {
		pattern += "/" + filter
	}
	res := results{}
	start := time.Now()
	for round := range rounds {
		fmt.Fprintf(os.Stderr, "round %d of %d\n", round+1, rounds)
		var buf bytes.Buffer
		err := command(&buf, bin, "-test.run=^$", "-test.bench="+pattern, "-test.benchtime="+benchtime)
		if err != nil {
			os.Stderr.Write(buf.Bytes())
			return err
		}
		if err := res.parse(&buf, round); err != nil {
			return err
		}
	}
	if len(res) == 0 {
		return fmt.Errorf("no benchmark matched %q", pattern)
	}
	info := machine{
		date: time.Now().UTC(), goVersion: strings.TrimSpace(goVersion), cpu: cpuModel(),
		numCPU: runtime.NumCPU(), procs: res.procs(), rounds: rounds, benchtime: benchtime,
		took: time.Since(start).Round(time.Second),
	}
	var doc bytes.Buffer
	write(&doc, info, res)
	if err := os.WriteFile(out, doc.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s in %s\n", out, info.took)
	return nil
}

// workspaceRoot returns the directory of the go.work in use.
func workspaceRoot() (string, error) {
	work, err := output("go", "env", "GOWORK")
	if err != nil {
		return "", err
	}
	work = strings.TrimSpace(work)
	if work == "" || work == "off" {
		return "", errors.New("not in the workspace: run from the repository, or give -out")
	}
	return filepath.Dir(work), nil
}

func command(stdout io.Writer, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	return nil
}

func output(name string, args ...string) (string, error) {
	var buf bytes.Buffer
	err := command(&buf, name, args...)
	return buf.String(), err
}

// cpuModel returns the CPU's model name on Linux, or GOARCH elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// sample is one benchmark result of one round.
type sample struct {
	round         int
	ns            float64
	bytes, allocs float64
	procs         int
}

// key names one row of one cell.
type key struct{ group, cell, subject string }

// results holds every sample by row.
type results map[key][]sample

// line matches a result of BenchmarkInterleaved, such as
// "BenchmarkInterleaved/alg/RS256-2  500  250000 ns/op  3712 typedauth-B/op  36.00 typedauth-allocs/op  52000 typedauth-ns/op …".
var line = regexp.MustCompile(`^BenchmarkInterleaved/([^/\s]+)/([^/\s]+?)(?:-(\d+))?\s+\d+\s+(.*)$`)

// parse adds the samples of one round's output.
func (res results) parse(r io.Reader, round int) error {
	s := bufio.NewScanner(r)
	for s.Scan() {
		m := line.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		procs, _ := strconv.Atoi(cmp.Or(m[3], "1"))
		bySubject := map[string]*sample{}
		fields := strings.Fields(m[4])
		if len(fields)%2 != 0 {
			return fmt.Errorf("malformed benchmark line %q", s.Text())
		}
		for i := 0; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return fmt.Errorf("malformed benchmark line %q: %w", s.Text(), err)
			}
			unit := fields[i+1]
			for _, metric := range []string{"-ns/op", "-B/op", "-allocs/op"} {
				subject, ok := strings.CutSuffix(unit, metric)
				if !ok {
					continue
				}
				sm := bySubject[subject]
				if sm == nil {
					sm = &sample{round: round, procs: procs}
					bySubject[subject] = sm
				}
				switch metric {
				case "-ns/op":
					sm.ns = v
				case "-B/op":
					sm.bytes = v
				default:
					sm.allocs = v
				}
			}
		}
		for subject, sm := range bySubject {
			k := key{m[1], m[2], subject}
			res[k] = append(res[k], *sm)
		}
	}
	return s.Err()
}

// procs returns GOMAXPROCS of the runs.
func (res results) procs() int {
	for _, ss := range res {
		return ss[0].procs
	}
	return 0
}

// row is the summary of one subject in one cell.
type row struct {
	ns, ratio, bytes, allocs float64
	hasRatio                 bool
}

// summary returns the medians of the subject's samples in cell (g, c), and
// the median over rounds of its time over the base's time of the same
// round.
func (res results) summary(g, c, subject, base string) (row, bool) {
	ss := res[key{g, c, subject}]
	if len(ss) == 0 {
		return row{}, false
	}
	r := row{
		ns:     median(ss, func(s sample) float64 { return s.ns }),
		bytes:  median(ss, func(s sample) float64 { return s.bytes }),
		allocs: median(ss, func(s sample) float64 { return s.allocs }),
	}
	baseNS := map[int]float64{}
	for _, s := range res[key{g, c, base}] {
		baseNS[s.round] = s.ns
	}
	var ratios []float64
	for _, s := range ss {
		if b, ok := baseNS[s.round]; ok && b > 0 {
			ratios = append(ratios, s.ns/b)
		}
	}
	if len(ratios) > 0 {
		r.ratio, r.hasRatio = medianOf(ratios), true
	}
	return r, true
}

func median(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	return medianOf(v)
}

func medianOf(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// machine describes the run.
type machine struct {
	date          time.Time
	goVersion     string
	cpu           string
	numCPU, procs int
	rounds        int
	benchtime     string
	took          time.Duration
}

// A claim is a performance statement checked against the run: in each
// cell, the subject's value is at most max. The value is, by default, the
// median ratio of its time to the bare parser's; with over set, the median
// over rounds of its time in group over its time in the same cell of group
// over (such as "parallel" over "alg"); with allocs set, its allocations
// per request.
type claim struct {
	text    string
	group   string
	cells   []string // nil means every cell of group
	subject string
	over    string
	allocs  bool
	max     float64
	// compare names a subject whose value, computed alike, is printed
	// beside the verdict for comparison, and not checked.
	compare string
}

// claims are the statements BENCHMARKS.md checks. A subject that lacks a
// check ([bench.Subject.Lacks]) is never checked.
var claims = []claim{
	{text: "typedauth uncached costs at most 1.10× the bare parser, for every algorithm", group: "alg", subject: "typedauth", max: 1.10},
	{text: "typedauth cached costs at most 0.02× the bare parser for a repeated RS256, ES256 or EdDSA token", group: "alg",
		cells: []string{"RS256", "ES256", "EdDSA"}, subject: "typedauth-cached", max: 0.02},
	{text: "typedauth cached costs at most 0.15× the bare parser for a repeated HS256 token", group: "alg",
		cells: []string{"HS256"}, subject: "typedauth-cached", max: 0.15},
	{text: "typedauth cached allocates at most 4 times per hit", group: "alg", subject: "typedauth-cached", allocs: true, max: 4},
	{text: "typedauth cached on GOMAXPROCS goroutines costs at most 0.6× its serial time per request (wall time)", group: "parallel",
		over: "alg", subject: "typedauth-cached", max: 0.6, compare: "floor"},
	{text: "the same, with the garbage collector paused in both runs (hits take no lock: the code itself scales)",
		group: "parallel-paused", over: "alg-paused", subject: "typedauth-cached", max: 0.6, compare: "floor"},
}

// value returns c's value in cell, and whether the run measured it.
func (c claim) value(res results, cell, base string) (float64, bool) {
	r, ok := res.summary(c.group, cell, c.subject, base)
	switch {
	case !ok:
		return 0, false
	case c.allocs:
		return r.allocs, true
	case c.over == "":
		return r.ratio, r.hasRatio
	}
	other := map[int]float64{}
	for _, s := range res[key{c.over, cell, c.subject}] {
		other[s.round] = s.ns
	}
	var ratios []float64
	for _, s := range res[key{c.group, cell, c.subject}] {
		if o, ok := other[s.round]; ok && o > 0 {
			ratios = append(ratios, s.ns/o)
		}
	}
	if len(ratios) == 0 {
		return 0, false
	}
	return medianOf(ratios), true
}

func writeClaim(w io.Writer, c claim, res results, base string, subjects []bench.Subject) {
	idx := slices.IndexFunc(subjects, func(s bench.Subject) bool { return s.Name == c.subject })
	if idx < 0 || len(subjects[idx].Lacks) > 0 {
		fmt.Fprintf(w, "- %s: not checked (the subject is absent or lacks a check)\n", c.text)
		return
	}
	gi := slices.IndexFunc(bench.Groups(), func(g bench.Group) bool { return g.Name == c.group })
	if gi < 0 {
		fmt.Fprintf(w, "- %s: not checked (no group %q)\n", c.text, c.group)
		return
	}
	values := func(c claim) (parts []string, pass, measured bool) {
		pass = true
		for _, cell := range bench.Groups()[gi].Cells {
			if c.cells != nil && !slices.Contains(c.cells, cell.Name) {
				continue
			}
			v, ok := c.value(res, cell.Name, base)
			if !ok {
				continue
			}
			measured = true
			if c.allocs {
				parts = append(parts, fmt.Sprintf("%s %.0f allocs", cell.Name, v))
			} else if c.max < 0.1 {
				// Three decimals, so that a value just above a small bound
				// does not print as the bound itself.
				parts = append(parts, fmt.Sprintf("%s %.3f×", cell.Name, v))
			} else {
				parts = append(parts, fmt.Sprintf("%s %.2f×", cell.Name, v))
			}
			if v > c.max {
				pass = false
			}
		}
		return parts, pass, measured
	}
	parts, pass, measured := values(c)
	verdict := "**holds**"
	switch {
	case !measured:
		verdict = "not measured in this run"
	case !pass:
		verdict = "**does not hold**"
	}
	fmt.Fprintf(w, "- %s: %s (%s)", c.text, verdict, strings.Join(parts, ", "))
	if c.compare != "" {
		other := c
		other.subject = c.compare
		if parts, _, ok := values(other); ok {
			ci := slices.IndexFunc(subjects, func(s bench.Subject) bool { return s.Name == c.compare })
			fmt.Fprintf(w, "; for comparison, %s: %s", subjects[ci].Title, strings.Join(parts, ", "))
		}
	}
	fmt.Fprintln(w)
}

func write(w io.Writer, info machine, res results) {
	subjects := bench.Subjects()
	base := ""
	for _, s := range subjects {
		if s.Base {
			base = s.Name
		}
	}
	fmt.Fprintf(w, "# Benchmarks\n\n")
	fmt.Fprintf(w, "One authenticated request — a bearer token through a middleware to a handler that reads `sub` — "+
		"through typedauth and its peers. Generated by `go run ./bench/cmd/report` (module [`bench/`](bench)); "+
		"do not edit by hand.\n\n")
	fmt.Fprintf(w, "- Date: %s\n", info.date.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- `%s`, %d CPUs (%s), GOMAXPROCS %d\n", info.goVersion, info.numCPU, info.cpu, info.procs)
	fmt.Fprintf(w, "- %d rounds, `-benchtime %s` per cell, %s in all\n\n", info.rounds, info.benchtime, info.took)

	fmt.Fprintf(w, "## Method\n\n")
	fmt.Fprintf(w, "Each round runs the compiled `BenchmarkInterleaved` once over every cell. In a cell, every "+
		"iteration serves a block of requests (about 3 ms) through each subject in turn, in an order that rotates "+
		"every iteration, so a change of machine load falls on every subject alike, while the garbage collections "+
		"a subject's allocations cause mostly fall in its own blocks. Requests are timed in groups "+
		"of at least 20 µs (one request when it takes longer, so the clock's own cost does not weigh on the fastest "+
		"subjects), and groups longer than the subject's median plus 1 ms (the process was descheduled by the "+
		"machine's other work) are left out; a collection lengthens a group far less. In the parallel groups each block runs on "+
		"GOMAXPROCS goroutines at once, all through the same subject. The two groups marked \"garbage collector "+
		"paused\" run the bare parser, cached typedauth and the floor with GOGC=off (a 2 GiB memory limit as a "+
		"backstop): a serial run leaves the collector an idle core while a parallel run does not, so these show how "+
		"the code itself scales apart from the collections its allocations cause. A time is the median over rounds of a "+
		"subject's mean time per request (over GOMAXPROCS in the parallel groups: wall time per request); a ratio is the median over rounds of the subject's time over the bare "+
		"parser's time in the same cell and round (below 1 is faster than the bare parser). Allocations are per "+
		"request, over 100 requests per subject and round. Every request is checked to have reached the handler, "+
		"and `TestSubjectsReject` (run by `go test github.com/typedauth/auth/...`) checks that every subject, in "+
		"every cell, rejects a bad signature, an expired token, a foreign issuer, a foreign audience and a missing "+
		"scope, so no row is fast because it skips a check. Tokens carry iss, sub, aud, iat, exp, jti, scope and a "+
		"kid. The machine may be shared: compare ratios within this run, not absolute times across runs.\n\n")

	fmt.Fprintf(w, "## Checks\n\n")
	for _, c := range claims {
		writeClaim(w, c, res, base, subjects)
	}
	fmt.Fprintln(w)

	notes := map[string]int{} // n/a reason → footnote number
	var order []string
	for _, g := range bench.Groups() {
		fmt.Fprintf(w, "## %s\n\n", g.Title)
		for pass := range 2 {
			fmt.Fprintf(w, "| %s |", map[int]string{0: "time (ratio to base)", 1: "B/op, allocs/op"}[pass])
			for _, c := range g.Cells {
				fmt.Fprintf(w, " %s |", c.Name)
			}
			fmt.Fprintf(w, "\n| --- |%s\n", strings.Repeat(" ---: |", len(g.Cells)))
			for _, s := range subjects {
				if !g.Measures(s.Name) {
					continue
				}
				fmt.Fprintf(w, "| %s |", title(s))
				for _, c := range g.Cells {
					if reason := s.Reason(c.Scenario); reason != "" {
						if _, ok := notes[reason]; !ok {
							order = append(order, reason)
							notes[reason] = len(order)
						}
						fmt.Fprintf(w, " n/a [%d] |", notes[reason])
						continue
					}
					r, ok := res.summary(g.Name, c.Name, s.Name, base)
					switch {
					case !ok:
						fmt.Fprint(w, " – |")
					case pass == 1:
						fmt.Fprintf(w, " %s, %.0f |", size(r.bytes), r.allocs)
					case r.hasRatio:
						fmt.Fprintf(w, " %s (%.2f×) |", duration(r.ns), r.ratio)
					default:
						fmt.Fprintf(w, " %s |", duration(r.ns))
					}
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w)
		}
	}
	if len(order) > 0 {
		fmt.Fprintf(w, "n/a:\n\n")
		for i, reason := range order {
			fmt.Fprintf(w, "%d. %s\n", i+1, reason)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "## Subjects\n\n")
	for _, s := range subjects {
		fmt.Fprintf(w, "- **%s** (`%s`): %s", title(s), s.Name, s.Notes)
		if len(s.Lacks) > 0 {
			var lacks []string
			for _, t := range s.Lacks {
				lacks = append(lacks, t.String())
			}
			fmt.Fprintf(w, " † Cannot be configured to reject: %s; excluded from the checks above.", strings.Join(lacks, ", "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nSubjects without scope support check scopes in the handler, as a user would: every required scope "+
		"must be one of the space-separated values of the `scope` claim, compared exactly, else 403. typedauth's "+
		"`Requires` has the same outcome on these tokens.\n")
}

// title is the subject's display name, marked when it lacks a check.
func title(s bench.Subject) string {
	if len(s.Lacks) > 0 {
		return s.Title + " †"
	}
	return s.Title
}

func duration(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e5:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
}

func size(b float64) string {
	if b < 1024 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f KiB", b/1024)
}
