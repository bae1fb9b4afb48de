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
// a struct field from a case variant. It is a scan, not a parser: for a
// JSON object it reports the members encoding/json sees (FuzzJSONObject
// checks this), and for any other input it either fails or reports
// something the parser's encoding/json then rejects whole.

// maxJSONDepth bounds the nesting of objects and arrays in a member value.
const maxJSONDepth = 64

var errJSON = errors.New("jwt: invalid JSON, invalid UTF-8 or nesting deeper than 64")

// members calls f with the name (unescaped) and the raw value of each
// top-level member of the JSON object data, in order, and stops at the
// first error f returns. It fails on invalid UTF-8, nesting deeper than
// maxJSONDepth, and input that is not shaped as an object.
func members(data []byte, f func(name, value []byte) error) error {
	if !utf8.Valid(data) {
		return errJSON
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errJSON
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return trailing(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return errJSON
		}
		end, escaped, ok := stringEnd(data, i)
		if !ok {
			return errJSON
		}
		name := data[i+1 : end-1]
		if escaped {
			if name, ok = stringValue(data[i:end]); !ok {
				return errJSON
			}
		}
		if i = skipSpace(data, end); i >= len(data) || data[i] != ':' {
			return errJSON
		}
		i = skipSpace(data, i+1)
		vend, ok := valueEnd(data, i)
		if !ok {
			return errJSON
		}
		if err := f(name, data[i:vend]); err != nil {
			return err
		}
		switch i = skipSpace(data, vend); {
		case i >= len(data):
			return errJSON
		case data[i] == '}':
			return trailing(data, i+1)
		case data[i] != ',':
			return errJSON
		}
		i = skipSpace(data, i+1)
	}
}

// trailing fails unless only white space follows data[i:].
func trailing(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return errJSON
	}
	return nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at
// data[i], and whether it holds escapes; ok is false when it is not closed.
func stringEnd(data []byte, i int) (end int, escaped, ok bool) {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '"':
			return i + 1, escaped, true
		case '\\':
			escaped = true
			i++
		}
	}
	return 0, false, false
}

// valueEnd returns the index just past the JSON value starting at data[i],
// and false when it is empty, not closed or nested deeper than
// maxJSONDepth.
func valueEnd(data []byte, i int) (int, bool) {
	start, depth := i, 0
	for i < len(data) {
		switch data[i] {
		case '"':
			end, _, ok := stringEnd(data, i)
			if !ok {
				return 0, false
			}
			if i = end; depth == 0 {
				return i, true
			}
			continue
		case '{', '[':
			if depth++; depth > maxJSONDepth {
				return 0, false
			}
		case '}', ']':
			if depth == 0 {
				return i, i > start // a scalar ends with its container
			}
			if depth--; depth == 0 {
				return i + 1, true
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, i > start
			}
		}
		i++
	}
	return 0, false
}

// stringValue returns the contents of the JSON string value v as bytes:
// without copying when it holds no escape, decoded by encoding/json
// otherwise. It reports false when v is not a valid string.
func stringValue(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	end, escaped, ok := stringEnd(v, 0)
	if !ok || end != len(v) {
		return nil, false
	}
	if !escaped {
		for _, c := range v {
			if c < 0x20 {
				return nil, false
			}
		}
		return v[1 : len(v)-1], true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}
