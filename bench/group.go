package bench

import (
	"fmt"
	"slices"
)

// A Group is one table of BENCHMARKS.md: cells of scenarios, each served
// by every subject.
type Group struct {
	// Name is the benchmark sub-test name of the group, such as "alg".
	Name string
	// Title heads the group's table.
	Title string
	// Parallel serves the group's requests on GOMAXPROCS goroutines at
	// once: with b.RunParallel in BenchmarkRequest, and with every block on
	// that many goroutines in BenchmarkInterleaved.
	Parallel bool
	// Cells are the group's columns.
	Cells []Cell
	// Only names the subjects measured in the group; nil means all.
	Only []string
	// PauseGC runs the group with the garbage collector paused (GOGC=off,
	// with a 2 GiB memory limit as a backstop), so that its times show how
	// the code itself scales, without the collections its allocations
	// cause. A serial run leaves the collector an idle core, which a
	// parallel run does not.
	PauseGC bool
}

// Measures reports whether the group measures the subject named name.
func (g Group) Measures(name string) bool {
	return g.Only == nil || slices.Contains(g.Only, name)
}

// A Cell is one scenario of a group.
type Cell struct {
	// Name is the benchmark sub-test name of the cell, such as "RS256".
	Name string
	// Scenario is what every subject serves in the cell.
	Scenario Scenario
}

// Groups returns the measured groups: one per algorithm, the scope check,
// the size of a remote key set, and the algorithms again in parallel.
func Groups() []Group {
	var algs, scopes, sets []Cell
	for _, alg := range Algorithms {
		algs = append(algs, Cell{Name: alg, Scenario: Scenario{Alg: alg}})
	}
	for _, n := range ScopeCounts {
		scopes = append(scopes, Cell{Name: fmt.Sprintf("scopes=%d", n),
			Scenario: Scenario{Alg: ScopeAlgorithm, Granted: GrantedScopes, Required: RequiredScopes(n)}})
	}
	for _, n := range JWKSSizes {
		sets = append(sets, Cell{Name: fmt.Sprintf("keys=%d", n), Scenario: Scenario{Alg: JWKSAlgorithm, JWKS: n}})
	}
	paused := []string{"golang-jwt", "typedauth-cached", "floor"}
	return []Group{
		{Name: "alg", Title: "Algorithms (one local key, no scope required)", Cells: algs},
		{Name: "scopes", Title: fmt.Sprintf("Required scopes (%s, 20 scopes granted)", ScopeAlgorithm), Cells: scopes},
		{Name: "jwks", Title: fmt.Sprintf("Remote key set size (%s, the token's kid is the set's last key)", JWKSAlgorithm), Cells: sets},
		{Name: "parallel", Title: "Algorithms in parallel (GOMAXPROCS goroutines at once, wall time per request)", Parallel: true, Cells: algs},
		{Name: "alg-paused", Title: "Algorithms, garbage collector paused", Cells: algs, Only: paused, PauseGC: true},
		{Name: "parallel-paused", Title: "Algorithms in parallel, garbage collector paused (wall time per request)",
			Parallel: true, Cells: algs, Only: paused, PauseGC: true},
	}
}
