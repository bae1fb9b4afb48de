package scopes_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/typedauth/auth/scopes"
)

// grantedScopes returns 32 granted scopes; the required ones are granted by
// the last entries, so that matching walks most of the set.
func grantedScopes() []string {
	g := make([]string, 0, 32)
	for i := range 16 {
		g = append(g, fmt.Sprintf("service%02d:read", i))
	}
	for i := range 16 {
		g = append(g, fmt.Sprintf("resource%02d:edit", i))
	}
	return g
}

// requiredScopes returns n required scopes, each granted by grantedScopes
// (resourceNN:read through the edit → read hierarchy, or verbatim).
func requiredScopes(n int) []string {
	r := make([]string, n)
	for i := range r {
		r[i] = fmt.Sprintf("resource%02d:read", 15-i)
	}
	return r
}

func BenchmarkHasScope(b *testing.B) {
	granted := grantedScopes()
	anyGranted := make([]any, len(granted))
	for i, g := range granted {
		anyGranted[i] = g
	}
	sets := []struct {
		name string
		set  scopes.Set
	}{
		{name: "scope", set: scopes.Parse(strings.Join(granted, " "))},
		{name: "scp", set: scopes.FromAny(anyGranted)},
	}
	validators := []struct {
		name string
		v    scopes.Validator
	}{
		{name: "Hierarchical", v: scopes.NewHierarchical(nil)},
		{name: "Simple", v: scopes.Simple{}},
	}
	for _, v := range validators {
		for _, s := range sets {
			for _, n := range []int{1, 4, 16} {
				required := requiredScopes(n)
				if v.name == "Simple" {
					// Simple needs the verbatim scope: require granted ones.
					required = granted[32-n:]
				}
				b.Run(fmt.Sprintf("%s/%s/required=%d", v.name, s.name, n), func(b *testing.B) {
					for _, r := range required {
						if !v.v.HasScope(r, s.set) {
							b.Fatalf("%s.HasScope(%q) = false", v.name, r)
						}
					}
					b.ReportAllocs()
					for b.Loop() {
						for _, r := range required {
							if !v.v.HasScope(r, s.set) {
								b.Fatal("denied")
							}
						}
					}
				})
			}
		}
	}
}

func TestHasScopeDoesNotAllocate(t *testing.T) {
	granted := grantedScopes()
	anyGranted := make([]any, len(granted))
	for i, g := range granted {
		anyGranted[i] = g
	}
	h := scopes.NewHierarchical(nil)
	for name, set := range map[string]scopes.Set{
		"scope": scopes.Parse(strings.Join(granted, " ")),
		"scp":   scopes.FromAny(anyGranted),
		"list":  scopes.Of(granted...),
	} {
		required := requiredScopes(16)
		allocs := testing.AllocsPerRun(100, func() {
			for _, r := range required {
				h.HasScope(r, set)
				scopes.Simple{}.HasScope(r, set)
			}
			h.HasScope("nothing:read", set)
		})
		if allocs != 0 {
			t.Errorf("%s: HasScope allocates %v times per run; want 0", name, allocs)
		}
	}
}
