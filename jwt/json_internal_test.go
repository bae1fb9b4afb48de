package jwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzJSONObject checks the strict reader against encoding/json: both
// accept the same objects (up to the depth limit), and the reader reports
// the member names encoding/json decodes, in order.
func FuzzJSONObject(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { "a" : 1 } `, `{"a":"b","c":[1,2,{"d":null}],"e":true,"f":false}`,
		`{"a":-0.5e+10,"b":0,"c":1E3}`, `{"a":"\u00e9\n\"\\"}`, `{"\u0061":1,"a":2}`,
		`{"a":01}`, `{"a":1,}`, `{"a":"` + "\x01" + `"}`, `{"a":"\xff"}`, `[1]`, `{"a":1}x`, `{"a":tru}`,
		`{"a":"\ud800"}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":[1,]}`, `{"a"}`, `{"a":{"b":{}}}`,
		`{"big":123456789012345678901234567890,"small":1e-400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []string
		err := members(data, func(name, _ []byte) error {
			got = append(got, string(name))
			return nil
		})
		ours := err == nil
		// encoding/json accepts invalid UTF-8 (replacing it), which the
		// scan rejects (RFC 8259 §8.1). The scan may accept more than
		// JSON: the parser's encoding/json then rejects it whole.
		theirs := json.Valid(data) && utf8.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{"))
		if !ours && theirs && depth(data) <= maxJSONDepth {
			t.Fatalf("scan rejects %q, which encoding/json accepts", data)
		}
		if !ours || !theirs {
			return
		}
		// The member names it reports are those encoding/json sees, in
		// order, after unescaping: the duplicate and case checks see what
		// the parser will decode.
		dec := json.NewDecoder(bytes.NewReader(data))
		var want []string
		if _, err := dec.Token(); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			want = append(want, tok.(string))
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("reader names of %q = %q; encoding/json gives %q", data, got, want)
		}
	})
}

// depth is the nesting depth of data, counting brackets outside strings.
func depth(data []byte) int {
	d, max, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == '{' || c == '['):
			d++
			if d > max {
				max = d
			}
		case !inString && (c == '}' || c == ']'):
			d--
		}
	}
	return max
}

// TestScanClaimsDecodesLikeEncodingJSON: the map scanClaims fills for
// scannedClaims is the one encoding/json decodes from the same payload,
// value types included, and a number beyond float64 is the same type error.
func TestScanClaimsDecodesLikeEncodingJSON(t *testing.T) {
	for _, payload := range []string{
		`{}`,
		`{"sub":"alice","exp":1700000000,"iat":1.5e9,"n":-0,"f":0.1,"big":123456789012345678901234567890}`,
		`{"s":"caf\u00e9 \"q\" \\ \/ \n","t":true,"f":false,"z":null,"e":""}`,
		`{ "aud" : [ "a" , "b" ] , "o" : { "k" : [ 1 , { "x" : null } ] } , "emoji" : "😀" }`,
		`{"dup":1,"dup":"last"}`,
		`{"\u0061mount":3,"k":[]}`,
	} {
		want := map[string]any{}
		if err := json.Unmarshal([]byte(payload), &want); err != nil {
			t.Fatal(payload, err)
		}
		got := map[string]any{}
		if _, err := scanClaims([]byte(payload), got); err != nil {
			t.Fatalf("scanClaims(%s): %v", payload, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("scanClaims(%s) = %#v; encoding/json gives %#v", payload, got, want)
		}
	}
	var want map[string]any
	wantErr := json.Unmarshal([]byte(`{"x":1e400}`), &want)
	_, gotErr := scanClaims([]byte(`{"x":1e400}`), map[string]any{})
	var we, ge *json.UnmarshalTypeError
	if !errors.As(wantErr, &we) || !errors.As(gotErr, &ge) || we.Value != ge.Value || we.Type != ge.Type {
		t.Errorf("1e400: scanClaims error %v; encoding/json's %v", gotErr, wantErr)
	}
}
