package auth_test

import (
	"slices"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

func TestClaimsScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claims auth.Claims
		want   []string
	}{
		{name: "nil claims", claims: nil},
		{name: "none", claims: auth.Claims{"sub": "a"}},
		{name: "scope string", claims: auth.Claims{"scope": "a:read b:edit"}, want: []string{"a:read", "b:edit"}},
		{name: "scp string", claims: auth.Claims{"scp": "a:read b:edit"}, want: []string{"a:read", "b:edit"}},
		{name: "scp array", claims: auth.Claims{"scp": []any{"a:read", "b:edit"}}, want: []string{"a:read", "b:edit"}},
		{name: "scp []string", claims: auth.Claims{"scp": []string{"a:read"}}, want: []string{"a:read"}},
		{name: "both", claims: auth.Claims{"scope": "a:read", "scp": []any{"b:edit"}}, want: []string{"a:read", "b:edit"}},
		{name: "both strings", claims: auth.Claims{"scope": "a:read", "scp": "b:edit"}, want: []string{"a:read", "b:edit"}},
		{name: "array with non-strings", claims: auth.Claims{"scp": []any{"a:read", 7, nil, map[string]any{}}}, want: []string{"a:read"}},
		{name: "scope as a number", claims: auth.Claims{"scope": 42.0}},
		{name: "scope as an object", claims: auth.Claims{"scope": map[string]any{"a:read": true}}},
		{name: "scope as a bool", claims: auth.Claims{"scope": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := auth.ClaimsScopes(tt.claims).Strings(); !slices.Equal(got, tt.want) {
				t.Errorf("ClaimsScopes(%v) = %q; want %q", tt.claims, got, tt.want)
			}
		})
	}
}

func TestClaimsScopesDoesNotAllocate(t *testing.T) {
	h := scopes.NewHierarchical(nil)
	for name, c := range map[string]auth.Claims{
		"scope": {"scope": "a:read b:edit c:read"},
		"scp":   {"scp": []any{"a:read", "b:edit", "c:read"}},
	} {
		allocs := testing.AllocsPerRun(100, func() {
			if !h.HasScope("b:read", auth.ClaimsScopes(c)) {
				t.Fatal("denied")
			}
		})
		if allocs != 0 {
			t.Errorf("%s: ClaimsScopes + HasScope allocate %v times; want 0", name, allocs)
		}
	}
}
