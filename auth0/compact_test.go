package auth0

import (
	"errors"
	"io"
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

type chunks struct {
	data   []byte
	closed bool
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data[:min(len(c.data), 7)])
	c.data = c.data[n:]
	return n, nil
}

func (c *chunks) Close() error { c.closed = true; return nil }

func TestLimitedBody(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		limit   int64
		wantErr error
	}{
		{name: "under the limit", size: 99, limit: 100},
		{name: "at the limit", size: 100, limit: 100},
		{name: "over the limit", size: 101, limit: 100, wantErr: errTooLarge},
		{name: "far over the limit", size: 1000, limit: 100, wantErr: errTooLarge},
	}
	for _, tt := range tests {
		src := &chunks{data: []byte(strings.Repeat("x", tt.size))}
		b := &limitedBody{rc: src, left: tt.limit}
		got, err := io.ReadAll(b)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: ReadAll error = %v; want %v", tt.name, err, tt.wantErr)
		}
		if tt.wantErr == nil && len(got) != tt.size {
			t.Errorf("%s: read %d bytes; want %d", tt.name, len(got), tt.size)
		}
		if int64(len(got)) > tt.limit {
			t.Errorf("%s: read %d bytes past the limit %d", tt.name, len(got), tt.limit)
		}
		if err := b.Close(); err != nil || !src.closed {
			t.Errorf("%s: Close = %v, closed %v; want the source closed", tt.name, err, src.closed)
		}
	}
}
