package jwt

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// This file holds a small, strict reader for the top level of a JSON object.
// The header and the registered claims are read with it rather than with
// encoding/json: member names match exactly (encoding/json matches struct
// fields case-insensitively), duplicates can be detected, and the common
// case allocates nothing.

// maxJSONDepth bounds the nesting of objects and arrays in a token.
const maxJSONDepth = 64

var errJSON = errors.New("jwt: invalid JSON")

// objectReader iterates over the members of a JSON object, validating the
// syntax of every value it skips.
type objectReader struct {
	data  []byte
	pos   int
	first bool
	err   error
}

// newObjectReader returns a reader positioned inside the object in data.
func newObjectReader(data []byte) objectReader {
	r := objectReader{data: data, first: true}
	r.skipSpace()
	if r.pos >= len(data) || data[r.pos] != '{' {
		r.err = errJSON
		return r
	}
	r.pos++
	return r
}

// next returns the next member: its name as it appears between the quotes,
// whether that name holds escapes, and the raw text of its value. It returns
// ok false at the end of the object or on a syntax error (see err).
func (r *objectReader) next() (name []byte, escaped bool, value []byte, ok bool) {
	if r.err != nil {
		return nil, false, nil, false
	}
	r.skipSpace()
	if r.pos >= len(r.data) {
		r.err = errJSON
		return nil, false, nil, false
	}
	if r.first {
		r.first = false
		if r.data[r.pos] == '}' {
			r.pos++
			r.end()
			return nil, false, nil, false
		}
	} else {
		switch r.data[r.pos] {
		case '}':
			r.pos++
			r.end()
			return nil, false, nil, false
		case ',':
			r.pos++
			r.skipSpace()
		default:
			r.err = errJSON
			return nil, false, nil, false
		}
	}
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		r.err = errJSON
		return nil, false, nil, false
	}
	start := r.pos
	end, esc, good := scanString(r.data, r.pos)
	if !good {
		r.err = errJSON
		return nil, false, nil, false
	}
	name, escaped = r.data[start+1:end-1], esc
	r.pos = end
	r.skipSpace()
	if r.pos >= len(r.data) || r.data[r.pos] != ':' {
		r.err = errJSON
		return nil, false, nil, false
	}
	r.pos++
	r.skipSpace()
	vstart := r.pos
	vend, good := skipValue(r.data, r.pos, 0)
	if !good {
		r.err = errJSON
		return nil, false, nil, false
	}
	r.pos = vend
	return name, escaped, r.data[vstart:vend], true
}

// end checks that only white space follows the object.
func (r *objectReader) end() {
	r.skipSpace()
	if r.pos != len(r.data) {
		r.err = errJSON
	}
}

func (r *objectReader) skipSpace() { r.pos = skipSpace(r.data, r.pos) }

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString scans the JSON string starting at data[i] == '"'. It returns
// the index just past the closing quote and whether the string has escapes.
// Control characters, invalid escapes and invalid UTF-8 are rejected.
func scanString(data []byte, i int) (end int, escaped, ok bool) {
	i++
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				return 0, false, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) {
					return 0, false, false
				}
				for _, h := range data[i+2 : i+6] {
					if !isHex(h) {
						return 0, false, false
					}
				}
				i += 6
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, false, false
			}
			i += size
		default:
			i++
		}
	}
	return 0, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipValue returns the index just past the JSON value starting at data[i].
func skipValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch c := data[i]; {
	case c == '"':
		end, _, ok := scanString(data, i)
		return end, ok
	case c == '{':
		if depth >= maxJSONDepth {
			return 0, false
		}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(data) || data[i] != '"' {
				return 0, false
			}
			end, _, ok := scanString(data, i)
			if !ok {
				return 0, false
			}
			i = skipSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return 0, false
			}
			i, ok = skipValue(data, skipSpace(data, i+1), depth+1)
			if !ok {
				return 0, false
			}
			i = skipSpace(data, i)
			if i >= len(data) {
				return 0, false
			}
			if data[i] == '}' {
				return i + 1, true
			}
			if data[i] != ',' {
				return 0, false
			}
			i = skipSpace(data, i+1)
		}
	case c == '[':
		if depth >= maxJSONDepth {
			return 0, false
		}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			i, ok = skipValue(data, i, depth+1)
			if !ok {
				return 0, false
			}
			i = skipSpace(data, i)
			if i >= len(data) {
				return 0, false
			}
			if data[i] == ']' {
				return i + 1, true
			}
			if data[i] != ',' {
				return 0, false
			}
			i = skipSpace(data, i+1)
		}
	case c == 't':
		return literal(data, i, "true")
	case c == 'f':
		return literal(data, i, "false")
	case c == 'n':
		return literal(data, i, "null")
	case c == '-' || isDigit(c):
		return scanNumber(data, i)
	}
	return 0, false
}

func literal(data []byte, i int, lit string) (int, bool) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// scanNumber scans a number with the grammar of RFC 8259 §6.
func scanNumber(data []byte, i int) (int, bool) {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return 0, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return 0, false
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return 0, false
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	return i, true
}

// stringValue returns the contents of the JSON string value v (quotes
// included in v) as bytes. Strings without escapes are returned without
// copying; others are decoded with encoding/json.
func stringValue(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	end, escaped, ok := scanString(v, 0)
	if !ok || end != len(v) {
		return nil, false
	}
	if !escaped {
		return v[1 : len(v)-1], true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// arrayReader iterates over the elements of a JSON array value.
type arrayReader struct {
	data  []byte
	pos   int
	first bool
	err   error
}

func newArrayReader(v []byte) arrayReader {
	if len(v) == 0 || v[0] != '[' {
		return arrayReader{err: errJSON}
	}
	return arrayReader{data: v, pos: 1, first: true}
}

// next returns the raw text of the next element.
func (r *arrayReader) next() ([]byte, bool) {
	if r.err != nil {
		return nil, false
	}
	r.pos = skipSpace(r.data, r.pos)
	if r.pos >= len(r.data) {
		r.err = errJSON
		return nil, false
	}
	if r.data[r.pos] == ']' {
		return nil, false
	}
	if !r.first {
		if r.data[r.pos] != ',' {
			r.err = errJSON
			return nil, false
		}
		r.pos = skipSpace(r.data, r.pos+1)
	}
	r.first = false
	start := r.pos
	end, ok := skipValue(r.data, r.pos, 1)
	if !ok {
		r.err = errJSON
		return nil, false
	}
	r.pos = end
	return r.data[start:end], true
}
