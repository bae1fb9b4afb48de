package scopes_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/typedauth/auth/scopes"
)

// wantMissing is the reference for Matcher.Missing: the first required scope
// for which HasScope is false.
func wantMissing(v scopes.Validator, required []string, granted scopes.Set) int {
	for i, r := range required {
		if !v.HasScope(r, granted) {
			return i
		}
	}
	return -1
}

func compilers() map[string]scopes.Compiler {
	return map[string]scopes.Compiler{
		"Hierarchical":      scopes.NewHierarchical(nil),
		"zero Hierarchical": &scopes.Hierarchical{},
		"custom hierarchy": scopes.NewHierarchical(map[string][]string{
			"write": {"read"}, "admin": {"write"},
		}),
		"Simple": scopes.Simple{},
	}
}

func TestCompileAgreesWithHasScope(t *testing.T) {
	many := make([]string, 70) // more than the 64 of the bit set
	for i := range many {
		many[i] = fmt.Sprintf("r%d:read", i)
	}
	tests := []struct {
		name     string
		required []string
		granted  []scopes.Set
	}{
		{name: "none required", required: nil, granted: []scopes.Set{{}, scopes.Parse("a:read")}},
		{name: "one", required: []string{"user:read"}, granted: []scopes.Set{
			{}, scopes.Parse("user:read"), scopes.Parse("user:*"), scopes.Parse("*:read"), scopes.Parse("user:edit"),
			scopes.Parse("post:read user:admin"), scopes.Of("x", "user:read"), scopes.FromAny([]any{1, "user:edit"}),
		}},
		{name: "several, first missing reported in order", required: []string{"a:read", "b:edit", "c:admin", "plain"},
			granted: []scopes.Set{
				scopes.Parse("c:admin"), scopes.Parse("b:edit c:admin plain"), scopes.Parse("a:* b:* c:* plain"),
				scopes.Parse("*:* plain"), scopes.Parse("*:*"), scopes.Parse("a:write b:admin c:admin plain"),
				scopes.Parse("a:read").Union(scopes.Of("b:edit")).Union(scopes.FromAny([]any{"c:admin", "plain"})),
			}},
		{name: "duplicates", required: []string{"a:read", "a:read"}, granted: []scopes.Set{{}, scopes.Parse("a:read")}},
		{name: "more than 64", required: many, granted: []scopes.Set{
			{}, scopes.Parse("*:read"), scopes.Parse(strings.Join(many[:69], " ")), scopes.Of(many...),
		}},
	}
	for vname, v := range compilers() {
		for _, tt := range tests {
			m := v.Compile(tt.required)
			for _, g := range tt.granted {
				got, want := m.Missing(g), wantMissing(v, tt.required, g)
				if got != want {
					t.Errorf("%s/%s: Missing(%q) = %d; want %d", vname, tt.name, g.String(), got, want)
				}
			}
		}
	}
}

func TestMatcherDoesNotAllocate(t *testing.T) {
	required := make([]string, 16)
	granted := make([]string, 32)
	for i := range granted {
		granted[i] = fmt.Sprintf("res%d:read", i)
	}
	for i := range required {
		required[i] = fmt.Sprintf("res%d:read", 31-i)
	}
	g := scopes.Parse(strings.Join(granted, " "))
	for name, v := range compilers() {
		m := v.Compile(required)
		if allocs := testing.AllocsPerRun(100, func() { m.Missing(g) }); allocs != 0 {
			t.Errorf("%s: Missing allocates %v times per call; want 0", name, allocs)
		}
	}
}

// FuzzCompile checks that a compiled Matcher agrees with HasScope for any
// well-formed required scopes and any granted string.
func FuzzCompile(f *testing.F) {
	f.Add("user:read user:edit", "user:* other:read")
	f.Add("a:read b:read c:read", "*:read")
	f.Add("plain a:b:c", "plain a:b:* a:*:c")
	f.Add("x:read", "  x:read  ")
	f.Add("x:edit", "x:read\tx:edit x:\"edit")
	f.Fuzz(func(t *testing.T, required, granted string) {
		var req []string
		for _, r := range strings.Fields(required) {
			if scopes.Check(r) == nil {
				req = append(req, r)
			}
		}
		for _, g := range []scopes.Set{scopes.Parse(granted), scopes.Of(strings.Split(granted, ",")...)} {
			for name, v := range compilers() {
				if got, want := v.Compile(req).Missing(g), wantMissing(v, req, g); got != want {
					t.Fatalf("%s: Compile(%q).Missing(%q) = %d; want %d", name, req, granted, got, want)
				}
			}
		}
	})
}
