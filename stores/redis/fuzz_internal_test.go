package authredis

import (
	"strings"
	"testing"
)

// FuzzApply feeds the pub/sub message parser arbitrary payloads, as anyone
// who can publish on the channel could: it never panics, and it records
// only well-formed revocations.
func FuzzApply(f *testing.F) {
	f.Add("t 0 1893456000000 jti-1")
	f.Add("s 1700000000000 1893456000000 user with spaces")
	f.Add("t 0 -1 x")
	f.Add("q 1 2 x")
	f.Add("t  ")
	f.Add("s 99999999999999999999 1 x")
	f.Fuzz(func(t *testing.T, msg string) {
		s := &Store{tokens: map[string]int64{}, subjects: map[string]entry{}}
		s.apply(msg)
		for id := range s.tokens {
			if id == "" || !strings.HasPrefix(msg, "t ") || !strings.HasSuffix(msg, " "+id) {
				t.Errorf("apply(%q) recorded token %q", msg, id)
			}
		}
		for sub := range s.subjects {
			if sub == "" || !strings.HasPrefix(msg, "s ") || !strings.HasSuffix(msg, " "+sub) {
				t.Errorf("apply(%q) recorded subject %q", msg, sub)
			}
		}
		if len(s.tokens)+len(s.subjects) > 1 {
			t.Errorf("apply(%q) recorded %d entries", msg, len(s.tokens)+len(s.subjects))
		}
	})
}
