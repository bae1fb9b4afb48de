package scopes_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/typedauth/auth/scopes"
)

// validators are the two shipped validators, by name.
var validators = []struct {
	name string
	v    scopes.Validator
}{
	{name: "Hierarchical", v: scopes.NewHierarchical(nil)},
	{name: "Simple", v: scopes.Simple{}},
}

func TestValidatorsTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		required         string
		granted          string
		wantHierarchical bool
		wantSimple       bool
	}{
		{required: "user:read", granted: "user:read", wantHierarchical: true, wantSimple: true},
		{required: "user:read", granted: "user:*", wantHierarchical: true, wantSimple: false},
		{required: "user:read", granted: "*:read", wantHierarchical: true, wantSimple: false},
		{required: "user:read", granted: "user:edit", wantHierarchical: true, wantSimple: false},
		{required: "user:edit", granted: "user:read", wantHierarchical: false, wantSimple: false},
		{required: "user:edit", granted: "user:*", wantHierarchical: true, wantSimple: false},
		{required: "post:read", granted: "user:read", wantHierarchical: false, wantSimple: false},
		{required: "user:read", granted: "other:read user:edit", wantHierarchical: true, wantSimple: false},
		{required: "user:read", granted: "", wantHierarchical: false, wantSimple: false},
		// Beyond the seed's table.
		{required: "user:read", granted: "*:*", wantHierarchical: true, wantSimple: false},
		{required: "user:edit", granted: "*:edit", wantHierarchical: true, wantSimple: false},
		{required: "user:edit", granted: "*:read", wantHierarchical: false, wantSimple: false},
		{required: "user:*", granted: "user:*", wantHierarchical: true, wantSimple: true},
		{required: "user:*", granted: "user:edit", wantHierarchical: false, wantSimple: false},
		{required: "user:*", granted: "*:*", wantHierarchical: true, wantSimple: false},
		{required: "*:read", granted: "user:read", wantHierarchical: false, wantSimple: false},
		{required: "user:delete", granted: "user:edit", wantHierarchical: false, wantSimple: false},
		{required: "user:delete", granted: "user:*", wantHierarchical: true, wantSimple: false},
		{required: "openid", granted: "openid profile", wantHierarchical: true, wantSimple: true},
		{required: "openid", granted: "openid:read", wantHierarchical: false, wantSimple: false},
		{required: "api:v1:read", granted: "api:v1:edit", wantHierarchical: true, wantSimple: false},
		{required: "api:v1:read", granted: "api:*", wantHierarchical: false, wantSimple: false},
		{required: "user:read", granted: "  user:read  ", wantHierarchical: true, wantSimple: true},
		{required: "user:read", granted: "user:readx", wantHierarchical: false, wantSimple: false},
		{required: "user:read", granted: "xuser:read", wantHierarchical: false, wantSimple: false},
		{required: "user:read", granted: "user", wantHierarchical: false, wantSimple: false},
		{required: "user:read", granted: "*", wantHierarchical: false, wantSimple: false},
		{required: "user:read", granted: ":read", wantHierarchical: false, wantSimple: false},
		{required: "user:read", granted: "user:", wantHierarchical: false, wantSimple: false},
	}
	for _, tt := range tests {
		for _, v := range validators {
			want := tt.wantHierarchical
			if v.name == "Simple" {
				want = tt.wantSimple
			}
			name := fmt.Sprintf("%s/%s in %q", v.name, tt.required, tt.granted)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				fields := strings.Fields(tt.granted)
				half := len(fields) / 2
				forms := map[string]scopes.Set{
					"string":  scopes.Parse(tt.granted),
					"strings": scopes.Of(fields...),
					"any":     scopes.FromAny(anys(fields)),
					"union":   scopes.Parse(strings.Join(fields[:half], " ")).Union(scopes.FromAny(anys(fields[half:]))),
				}
				for form, set := range forms {
					if got := v.v.HasScope(tt.required, set); got != want {
						t.Errorf("%s.HasScope(%q, %s %q) = %v; want %v", v.name, tt.required, form, tt.granted, got, want)
					}
				}
			})
		}
	}
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestCustomHierarchy(t *testing.T) {
	t.Parallel()
	v := scopes.NewHierarchical(map[string][]string{
		"read":  nil,
		"write": {"read"},
		"admin": {"write"}, // admin implies read through write
	})
	tests := []struct {
		required string
		granted  string
		want     bool
	}{
		{required: "docs:read", granted: "docs:write", want: true},
		{required: "docs:read", granted: "docs:admin", want: true},
		{required: "docs:write", granted: "docs:admin", want: true},
		{required: "docs:admin", granted: "docs:write", want: false},
		{required: "docs:write", granted: "docs:read", want: false},
		{required: "docs:read", granted: "docs:edit", want: false}, // edit is not in this hierarchy
		{required: "docs:read", granted: "*:admin", want: true},
		{required: "docs:admin", granted: "docs:*", want: true},
		{required: "docs:publish", granted: "docs:admin", want: false},
		{required: "docs:publish", granted: "docs:publish", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.required+" in "+tt.granted, func(t *testing.T) {
			t.Parallel()
			if got := v.HasScope(tt.required, scopes.Parse(tt.granted)); got != tt.want {
				t.Errorf("HasScope(%q, %q) = %v; want %v", tt.required, tt.granted, got, tt.want)
			}
		})
	}
}

func TestHierarchyCycleAndIsolation(t *testing.T) {
	t.Parallel()
	h := map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}}
	v := scopes.NewHierarchical(h)
	h["d"] = []string{"a"} // later changes have no effect
	for _, tt := range []struct {
		required, granted string
		want              bool
	}{
		{required: "x:a", granted: "x:c", want: true},
		{required: "x:c", granted: "x:a", want: true},
		{required: "x:b", granted: "x:c", want: true},
		{required: "x:a", granted: "x:d", want: false},
	} {
		if got := v.HasScope(tt.required, scopes.Parse(tt.granted)); got != tt.want {
			t.Errorf("HasScope(%q, %q) = %v; want %v", tt.required, tt.granted, got, tt.want)
		}
	}
	// The zero and nil Hierarchical use the default hierarchy.
	var zero scopes.Hierarchical
	var nilH *scopes.Hierarchical
	for name, v := range map[string]scopes.Validator{"zero": &zero, "nil": nilH} {
		if !v.HasScope("a:read", scopes.Parse("a:edit")) || v.HasScope("a:edit", scopes.Parse("a:read")) {
			t.Errorf("%s Hierarchical does not use the default hierarchy", name)
		}
	}
	// An empty, non-nil hierarchy implies nothing.
	empty := scopes.NewHierarchical(map[string][]string{})
	if empty.HasScope("a:read", scopes.Parse("a:edit")) || !empty.HasScope("a:read", scopes.Parse("a:*")) {
		t.Error("empty hierarchy: edit must not imply read; * must still grant")
	}
}

func TestNewHierarchicalPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		hierarchy map[string][]string
	}{
		{name: "empty action", hierarchy: map[string][]string{"": nil}},
		{name: "empty implied action", hierarchy: map[string][]string{"write": {""}}},
		{name: "colon", hierarchy: map[string][]string{"a:b": nil}},
		{name: "space", hierarchy: map[string][]string{"write": {"re ad"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.HasPrefix(msg, "scopes: invalid action") {
					t.Errorf("panic = %v; want an invalid action panic", r)
				}
			}()
			scopes.NewHierarchical(tt.hierarchy)
		})
	}
}

func TestCaseSensitive(t *testing.T) {
	t.Parallel()
	for _, v := range validators {
		for _, tt := range []struct{ required, granted string }{
			{required: "user:read", granted: "User:read"},
			{required: "user:read", granted: "user:READ"},
			{required: "user:read", granted: "*:Read"},
			{required: "openid", granted: "OpenID"},
		} {
			if v.v.HasScope(tt.required, scopes.Parse(tt.granted)) {
				t.Errorf("%s.HasScope(%q, %q) = true; want false (case-sensitive)", v.name, tt.required, tt.granted)
			}
		}
	}
}

func TestMalformedGrantedMatchesNothing(t *testing.T) {
	t.Parallel()
	long := "user:" + strings.Repeat("*", scopes.MaxLength)
	tests := []struct {
		name    string
		granted scopes.Set
	}{
		{name: "quote in wildcard", granted: scopes.Of(`user":*`)},
		{name: "control char", granted: scopes.Of("user:*\x00")},
		{name: "tab", granted: scopes.Parse("\tuser:*")},
		{name: "space inside a list element", granted: scopes.Of("other:x user:*")},
		{name: "backslash", granted: scopes.FromAny([]any{`*:\read`})},
		{name: "non-ASCII", granted: scopes.Of("usér:*", "*:réad")},
		{name: "too long", granted: scopes.Of(long)},
		{name: "non-strings", granted: scopes.FromAny([]any{42, nil, true, []any{"user:read"}, map[string]any{"user:read": true}})},
	}
	for _, tt := range tests {
		for _, v := range validators {
			if v.v.HasScope("user:read", tt.granted) {
				t.Errorf("%s: %s: HasScope(user:read, %v) = true; want false", tt.name, v.name, tt.granted.Strings())
			}
		}
	}
}

func TestEmptyRequired(t *testing.T) {
	t.Parallel()
	for _, v := range validators {
		for _, granted := range []scopes.Set{{}, scopes.Parse(" "), scopes.Of(""), scopes.FromAny([]any{""})} {
			if v.v.HasScope("", granted) {
				t.Errorf("%s.HasScope(\"\", %v) = true; want false", v.name, granted)
			}
		}
	}
}

func TestFunc(t *testing.T) {
	t.Parallel()
	prefix := scopes.Func(func(required string, granted scopes.Set) bool {
		for g := range granted.All() {
			if strings.HasPrefix(required, g) {
				return true
			}
		}
		return false
	})
	if !prefix.HasScope("reports:read", scopes.Parse("reports")) || prefix.HasScope("users:read", scopes.Parse("reports")) {
		t.Error("Func does not call its function")
	}
}

func TestSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		set       scopes.Set
		want      []string
		wantEmpty bool
	}{
		{name: "zero", set: scopes.Set{}, wantEmpty: true},
		{name: "parse", set: scopes.Parse("a b  c "), want: []string{"a", "b", "c"}},
		{name: "parse spaces", set: scopes.Parse("   ")},
		{name: "of", set: scopes.Of("a", "", "b"), want: []string{"a", "b"}},
		{name: "of nothing", set: scopes.Of(), wantEmpty: true},
		{name: "from any", set: scopes.FromAny([]any{"a", 1, nil, "b"}), want: []string{"a", "b"}},
		{name: "union of two strings", set: scopes.Parse("a b").Union(scopes.Parse("c")), want: []string{"a", "b", "c"}},
		{name: "union of mixed", set: scopes.Parse("a").Union(scopes.Of("b")).Union(scopes.FromAny([]any{"c"})), want: []string{"a", "b", "c"}},
		{name: "union of two lists", set: scopes.Of("a").Union(scopes.Of("b")), want: []string{"a", "b"}},
		{name: "union of two any lists", set: scopes.FromAny([]any{"a"}).Union(scopes.FromAny([]any{"b"})), want: []string{"a", "b"}},
		{name: "union with empty", set: scopes.Set{}.Union(scopes.Parse("a")).Union(scopes.Set{}), want: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.set.Strings(); !slices.Equal(got, tt.want) {
				t.Errorf("Strings() = %q; want %q", got, tt.want)
			}
			if got := slices.Collect(tt.set.All()); !slices.Equal(got, tt.want) {
				t.Errorf("All() = %q; want %q", got, tt.want)
			}
			if got := tt.set.String(); got != strings.Join(tt.want, " ") {
				t.Errorf("String() = %q; want %q", got, strings.Join(tt.want, " "))
			}
			if got := tt.set.IsEmpty(); got != tt.wantEmpty {
				t.Errorf("IsEmpty() = %v; want %v", got, tt.wantEmpty)
			}
			for _, s := range tt.want {
				if !tt.set.Contains(s) {
					t.Errorf("Contains(%q) = false", s)
				}
			}
			if tt.set.Contains("zz") || tt.set.Contains("") {
				t.Error("Contains reports a scope that is not there")
			}
		})
	}
	// All stops when asked to.
	n := 0
	for range scopes.Parse("a b c").Union(scopes.Of("d")).Union(scopes.FromAny([]any{"e"})).All() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("All ran %d times after break", n)
	}
	// Union does not alias its inputs' backing arrays.
	base := make([]string, 1, 4)
	base[0] = "a"
	u := scopes.Of(base...).Union(scopes.Of("b"))
	_ = scopes.Of(base...).Union(scopes.Of("c"))
	if got := u.Strings(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Union aliased its input: %q", got)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scope   string
		wantErr string
	}{
		{scope: "reports:read"},
		{scope: "!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~"},
		{scope: strings.Repeat("x", scopes.MaxLength)},
		{scope: "", wantErr: "scopes: empty scope"},
		{scope: strings.Repeat("x", scopes.MaxLength+1), wantErr: "scopes: scope of 256 bytes is longer than 255"},
		{scope: "a b", wantErr: `scopes: scope "a b" has the invalid character ' ' at byte 1`},
		{scope: `a"b`, wantErr: `invalid character '"' at byte 1`},
		{scope: `a\b`, wantErr: `invalid character '\\' at byte 1`},
		{scope: "a\x00", wantErr: `invalid character '\x00' at byte 1`},
		{scope: "a\x7f", wantErr: `invalid character '\x7f' at byte 1`},
		{scope: "é", wantErr: `invalid character`},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			t.Parallel()
			err := scopes.Check(tt.scope)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Check(%q) = %v; want nil", tt.scope, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Check(%q) = %v; want an error containing %q", tt.scope, err, tt.wantErr)
			}
		})
	}
}

func TestDefaultHierarchyIsACopy(t *testing.T) {
	t.Parallel()
	h := scopes.DefaultHierarchy()
	h["read"] = []string{"edit"}
	if scopes.NewHierarchical(nil).HasScope("a:edit", scopes.Parse("a:read")) {
		t.Error("changing DefaultHierarchy's result changed the default")
	}
}

func FuzzScopes(f *testing.F) {
	f.Add("user:read", "user:read")
	f.Add("user:read", "user:*")
	f.Add("user:read", "*:read other:edit")
	f.Add("user:edit", "user:read")
	f.Add("api:v1:read", "api:v1:edit")
	f.Add("openid", "openid profile")
	f.Add("", "")
	f.Add(":", ": :")
	f.Add("a:", "a:*")
	f.Add(":a", "*:a")
	f.Add("user:read", "user:read\x00 \t *:* ")
	f.Add("\xff:read", "*:read")
	f.Add("x:*", "*:*")
	h := scopes.NewHierarchical(nil)
	custom := scopes.NewHierarchical(map[string][]string{"read": nil, "write": {"read"}, "admin": {"write"}})
	f.Fuzz(func(t *testing.T, required, granted string) {
		if got, want := h.HasScope(required, scopes.Parse(granted)), referenceHierarchical(required, granted); got != want {
			t.Errorf("Hierarchical.HasScope(%q, %q) = %v; the reference rule says %v", required, granted, got, want)
		}
		forms := []scopes.Set{
			scopes.Parse(granted),
			scopes.Of(strings.Split(granted, " ")...),
			scopes.FromAny(anys(strings.Split(granted, " "))),
		}
		for _, set := range forms {
			hier := h.HasScope(required, set)
			simple := scopes.Simple{}.HasScope(required, set)
			_ = custom.HasScope(required, set)
			if scopes.Check(required) == nil && simple && !hier {
				t.Errorf("Simple granted %q from %q but Hierarchical did not", required, granted)
			}
			if set.Contains(required) && required != "" && (!hier || !simple) {
				t.Errorf("%q is present verbatim in %q but Hierarchical=%v Simple=%v", required, granted, hier, simple)
			}
			if required == "" && (hier || simple) {
				t.Errorf("the empty scope was granted by %q", granted)
			}
			if simple && !slices.Contains(set.Strings(), required) {
				t.Errorf("Simple granted %q, which is not in %q", required, set.Strings())
			}
		}
	})
}

// referenceHierarchical is the documented rule of Hierarchical with the
// default hierarchy, written as plainly as possible: split both scopes at
// their last colon and compare the parts.
func referenceHierarchical(required, granted string) bool {
	implies := map[string][]string{"read": {"read", "edit", "*"}, "edit": {"edit", "*"}}
	split := func(s string) (string, string, bool) {
		i := strings.LastIndex(s, ":")
		if i <= 0 || i == len(s)-1 {
			return "", "", false
		}
		return s[:i], s[i+1:], true
	}
	res, act, ok := split(required)
	for _, g := range strings.Split(granted, " ") {
		if g == "" {
			continue
		}
		if g == required {
			return true
		}
		if !ok || scopes.Check(g) != nil {
			continue
		}
		gres, gact, gok := split(g)
		if !gok || (gres != res && gres != "*") {
			continue
		}
		grantors, known := implies[act]
		if !known {
			grantors = []string{act, "*"}
		}
		if slices.Contains(grantors, gact) {
			return true
		}
	}
	return false
}

func TestMalformedRequiredNeedsWellFormedGrant(t *testing.T) {
	t.Parallel()
	// Requires never lets a malformed scope through, but HasScope may be
	// called directly: a granted scope that would satisfy a malformed required
	// one through the hierarchy still has to be well-formed itself.
	long := strings.Repeat("r", scopes.MaxLength)
	tests := []struct {
		required, granted string
		want              bool
	}{
		{required: `bad"res:read`, granted: `bad"res:edit`, want: false},
		{required: `bad"res:read`, granted: `bad"res:read`, want: true}, // verbatim
		{required: long + ":read", granted: long + ":edit", want: false},
		{required: long + ":read", granted: "*:read", want: true},
	}
	for _, tt := range tests {
		if got := scopes.NewHierarchical(nil).HasScope(tt.required, scopes.Parse(tt.granted)); got != tt.want {
			t.Errorf("HasScope(%.20q…, %.20q…) = %v; want %v", tt.required, tt.granted, got, tt.want)
		}
	}
}

func TestAllStopsInEveryForm(t *testing.T) {
	t.Parallel()
	sets := map[string]scopes.Set{
		"string":  scopes.Parse("a b"),
		"strings": scopes.Of("a", "b"),
		"any":     scopes.FromAny([]any{"a", "b"}),
		"union":   scopes.Of("a").Union(scopes.Parse("b")),
	}
	for name, set := range sets {
		var seen []string
		for s := range set.All() {
			seen = append(seen, s)
			break
		}
		if len(seen) != 1 {
			t.Errorf("%s: All yielded %q after break", name, seen)
		}
	}
}
