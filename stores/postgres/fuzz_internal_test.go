package authpostgres

import (
	"strings"
	"testing"
)

// FuzzParse feeds the key parser what any client can send: it never panics,
// and it accepts only <prefix>_<16 base32 characters>_<52 base32
// characters>, returning the middle part as the key ID.
func FuzzParse(f *testing.F) {
	s := &Store{prefix: DefaultKeyPrefix}
	f.Add("tak_abcdefghijklmnop_" + strings.Repeat("a2", 26))
	f.Add("tak_abcdefghijklmnop_" + strings.Repeat("a2", 25))
	f.Add("tak__" + strings.Repeat("a", 68))
	f.Add("TAK_abcdefghijklmnop_" + strings.Repeat("7", 52))
	f.Add("tak_abcdefghijklmnop_" + strings.Repeat("é", 26))
	f.Fuzz(func(t *testing.T, key string) {
		id, ok := s.parse(key)
		if !ok {
			if id != "" {
				t.Errorf("parse(%q) rejected the key but returned id %q", key, id)
			}
			return
		}
		if len(key) != len("tak_")+16+1+52 || !strings.HasPrefix(key, "tak_"+id+"_") || len(id) != 16 {
			t.Errorf("parse(%q) accepted a key of the wrong form (id %q)", key, id)
		}
		if strings.Trim(id+key[len(key)-52:], "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Errorf("parse(%q) accepted characters outside base32", key)
		}
	})
}
