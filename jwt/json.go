package jwt

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// This file holds the policy layer's view of a token's JSON: the top-level
// members of an object, with their names exactly as encoding/json decodes
// them, so that duplicates and case variants of the registered claims can
// be refused before the parser, which would take the last duplicate or fill
// a struct field from a case variant. The syntax itself is checked by
// encoding/json (json.Valid).

// maxJSONDepth bounds the nesting of objects and arrays in a token.
const maxJSONDepth = 64

var errJSON = errors.New("jwt: invalid JSON, invalid UTF-8 or nesting deeper than 64")

// members calls f with the name (unescaped) and the raw value of each
// top-level member of the JSON object data, in order, and stops at the
// first error f returns. It fails unless data is a valid JSON object in
// valid UTF-8 nested at most maxJSONDepth deep.
func members(data []byte, f func(name, value []byte) error) error {
	if !json.Valid(data) || !utf8.Valid(data) {
		return errJSON
	}
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return errJSON
	}
	i = skipSpace(data, i+1)
	for data[i] != '}' {
		end, escaped := stringEnd(data, i)
		name := data[i+1 : end-1]
		if escaped {
			var ok bool
			if name, ok = stringValue(data[i:end]); !ok {
				return errJSON
			}
		}
		i = skipSpace(data, skipSpace(data, end)+1) // past ':'
		vend, ok := valueEnd(data, i)
		if !ok {
			return errJSON
		}
		if err := f(name, data[i:vend]); err != nil {
			return err
		}
		i = skipSpace(data, vend)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return nil
}

// elements calls f with each element of the valid JSON array v and reports
// whether v is an array and f returned true for every element.
func elements(v []byte, f func(el []byte) bool) bool {
	if len(v) == 0 || v[0] != '[' {
		return false
	}
	i := skipSpace(v, 1)
	for v[i] != ']' {
		end, _ := valueEnd(v, i)
		if !f(v[i:end]) {
			return false
		}
		i = skipSpace(v, end)
		if v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the valid JSON string starting at
// data[i], and whether it holds escapes.
func stringEnd(data []byte, i int) (end int, escaped bool) {
	for i++; data[i] != '"'; i++ {
		if data[i] == '\\' {
			escaped = true
			i++
		}
	}
	return i + 1, escaped
}

// valueEnd returns the index just past the valid JSON value starting at
// data[i], and false when it nests deeper than maxJSONDepth.
func valueEnd(data []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(data); i++ {
		switch data[i] {
		case '"':
			i, _ = stringEnd(data, i)
			i--
		case '{', '[':
			if depth++; depth > maxJSONDepth-1 {
				return 0, false
			}
		case '}', ']':
			depth--
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, true
			}
		}
		if depth == 0 && (data[i] == '}' || data[i] == ']' || data[i] == '"') {
			return i + 1, true
		}
		if depth < 0 {
			return i, true // the enclosing object or array ends
		}
	}
	return i, true
}

// stringValue returns the contents of the JSON string value v as bytes:
// without copying when it holds no escape, decoded by encoding/json
// otherwise. It reports false when v is not a string.
func stringValue(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	if end, escaped := stringEnd(v, 0); !escaped && end == len(v) {
		return v[1 : len(v)-1], true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}
