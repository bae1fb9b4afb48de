package auth0

import (
	"strings"
	"testing"
)

// compactRef is compact written plainly, to check the fast version against.
func compactRef(raw string) bool {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.TrimLeft(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return false
		}
	}
	return true
}

func TestCompact(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want bool
	}{
		{name: "three parts", raw: "aa.bb.cc", want: true},
		{name: "base64url alphabet", raw: "a-_Z.09.x", want: true},
		{name: "two parts", raw: "aa.bb"},
		{name: "four parts", raw: "a.b.c.d"},
		{name: "empty header", raw: ".b.c"},
		{name: "empty payload", raw: "a..c"},
		{name: "empty signature", raw: "a.b."},
		{name: "padding", raw: "a=.b.c"},
		{name: "standard base64", raw: "a+/.b.c"},
		{name: "space", raw: "a b.c.d"},
		{name: "JSON serialization", raw: `{"a":"b.c.d"}`},
		{name: "empty", raw: ""},
	}
	for _, tt := range tests {
		if got := compact(tt.raw); got != tt.want {
			t.Errorf("%s: compact(%q) = %v; want %v", tt.name, tt.raw, got, tt.want)
		}
	}
}

func FuzzCompact(f *testing.F) {
	for _, s := range []string{"aa.bb.cc", "a..c", ".b.c", "a.b.", "a.b.c.d", "", "...", "a=.b.c", "é.b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if got, want := compact(raw), compactRef(raw); got != want {
			t.Fatalf("compact(%q) = %v; want %v", raw, got, want)
		}
	})
}
