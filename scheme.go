package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// Scheme is where a credential travels in a request. It extracts the raw
// credential, and it knows what the [Auth] that uses it tells clients and
// API documentation: the WWW-Authenticate challenges of a 401 and the
// [Description] of where the credential is sent. Swapping the scheme of an
// Auth changes all three together.
//
// The schemes of this package are one-liners:
//
//	                              401 challenge   description
//	Bearer()                      Bearer          http, scheme bearer
//	Query("access_token")         Bearer          apiKey in query "access_token"
//	Header("X-Api-Key")           none            apiKey in header "X-Api-Key"
//	Cookie("session")             none            apiKey in cookie "session"
//	FirstOf(a, b)                 a's, then b's   a's, then b's
//	SchemeFunc(f)                 none            none
//
// A scheme outside the Authorization header has no registered
// authentication scheme to name in a challenge, so its 401 carries no
// WWW-Authenticate header; give one with [WithChallenge] (package apikey
// sends "APIKey"). A bearer token in the query is answered with the Bearer
// challenge, as RFC 6750 §2.3 and §3 prescribe.
//
// Implement Scheme for a scheme of your own, or convert a plain function
// with [SchemeFunc]. A Scheme must be safe for concurrent use.
type Scheme interface {
	// Credential extracts the raw credential from r. It returns "" and a
	// nil error (or an error matching [ErrNoCredential]) when the request
	// carries no credential for the scheme, so that [FirstOf] and [AnyOf]
	// can move on, and an error matching [ErrMalformedRequest] (400) or
	// [ErrInvalidCredential] (401) when a credential is present but
	// unreadable. It must not read the request body.
	Credential(r *http.Request) (string, error)
	// Challenges returns the WWW-Authenticate challenges of a 401 from an
	// Auth with this scheme, or none. The package's schemes return a fresh
	// slice on each call, so a caller may keep or change it.
	Challenges() []Challenge
	// Descriptions returns where the scheme reads credentials, one
	// Description per place a request may use, or none when it cannot say.
	// The package's schemes return a fresh slice on each call.
	Descriptions() []Description
}

// SchemeFunc turns a function into a [Scheme], as [http.HandlerFunc] turns
// one into a handler:
//
//	session := auth.SchemeFunc(func(r *http.Request) (string, error) {
//		return auth.ParseAuthorization(r.Header, "Session")
//	})
//
// The function has the contract of [Scheme.Credential]. A SchemeFunc has no
// challenge and no description: a 401 from an Auth that uses one carries no
// WWW-Authenticate header and [Auth.Descriptions] is empty unless the Auth
// is given [WithChallenge] and [WithDescription].
type SchemeFunc func(r *http.Request) (string, error)

// Credential returns f(r).
func (f SchemeFunc) Credential(r *http.Request) (string, error) { return f(r) }

// Challenges returns nil: a function says nothing about its challenge.
func (SchemeFunc) Challenges() []Challenge { return nil }

// Descriptions returns nil: a function says nothing about where it reads.
func (SchemeFunc) Descriptions() []Description { return nil }

// Bearer returns the RFC 6750 §2.1 scheme: the token of an
// "Authorization: Bearer <token>" header. Its 401 responses carry the Bearer
// challenge (with error="invalid_token" and the like for a rejected token),
// and it is described as HTTP scheme "bearer".
//
//   - The scheme name is case-insensitive ("bearer tok" is accepted).
//   - A request without an Authorization header, or whose header names
//     another scheme ("Basic …"), has no bearer credential.
//   - Exactly one token68 credential must follow: "Bearer" alone, an empty
//     token, a token with inner spaces or characters outside token68, and a
//     request with two Authorization headers are rejected with
//     [ErrMalformedRequest], never silently accepted.
func Bearer() Scheme { return bearerScheme{} }

type bearerScheme struct{}

var (
	bearerChallenges   = []Challenge{{Scheme: "Bearer"}}
	bearerDescriptions = []Description{{Type: "http", Scheme: "bearer"}}
)

func (bearerScheme) Credential(r *http.Request) (string, error) {
	return parseAuthorization(r.Header, "Bearer")
}

func (bearerScheme) Challenges() []Challenge { return slices.Clone(bearerChallenges) }

func (bearerScheme) Descriptions() []Description { return slices.Clone(bearerDescriptions) }

// errMultipleAuthorization and its siblings are the causes a malformed
// Authorization header is rejected for.
var (
	errMultipleAuthorization = malformed("More than one Authorization header")
	errEmptyAuthorization    = malformed("Empty Authorization header")
	errSchemeSyntax          = malformed("The Authorization header names no valid scheme")
	errMissingToken          = malformed("No token after the scheme name")
	errTokenSyntax           = malformed("The token is not a single token68 value")
)

// malformed returns the 400 invalid_request error with a public detail.
func malformed(detail string) *Error {
	return &Error{Status: http.StatusBadRequest, Detail: detail, Code: CodeInvalidRequest, Err: ErrMalformedRequest}
}

// ParseAuthorization returns the credential of h's Authorization header for
// the given scheme name, with the rules of [Bearer]. It is exported for
// custom schemes that use another name with the same syntax, such as "DPoP"
// or "Token".
func ParseAuthorization(h http.Header, scheme string) (string, error) {
	return parseAuthorization(h, scheme)
}

func parseAuthorization(h http.Header, scheme string) (string, error) {
	values := h["Authorization"]
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", errMultipleAuthorization
	}
	v := values[0]
	// Leading and trailing optional white space is not part of the value.
	v = strings.Trim(v, " \t")
	if v == "" {
		return "", errEmptyAuthorization
	}
	name, rest, _ := strings.Cut(v, " ")
	if !equalFoldASCII(name, scheme) {
		if !validToken68Name(name) {
			return "", errSchemeSyntax
		}
		return "", nil // another scheme's credential: none for this one
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return "", errMissingToken
	}
	if !isToken68(rest) {
		return "", errTokenSyntax
	}
	return rest, nil
}

// equalFoldASCII reports whether a and b are equal under ASCII case folding.
// Unlike strings.EqualFold it does not fold Unicode: an auth-scheme is an
// ASCII token, so "To\u212Aen" (with a Kelvin sign) does not name "Token".
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// validToken68Name reports whether name is a valid auth-scheme: an RFC 9110
// token, one or more tchar. A header such as "\x00" names no scheme at all.
func validToken68Name(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTchar(name[i]) {
			return false
		}
	}
	return true
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isToken68 reports whether s is token68 (RFC 9110 §11.2): one or more of
// ALPHA DIGIT - . _ ~ + / followed by zero or more '='.
func isToken68(s string) bool {
	i := 0
	// Eight bytes at a time while all of them are token68 characters, the
	// whole of a JWT but its last few bytes: the scan runs on every
	// request, over tokens of up to kilobytes.
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		if token68Chars[w[0]]&token68Chars[w[1]]&token68Chars[w[2]]&token68Chars[w[3]]&
			token68Chars[w[4]]&token68Chars[w[5]]&token68Chars[w[6]]&token68Chars[w[7]] == 0 {
			break
		}
	}
	for i < len(s) && token68Chars[s[i]] == 1 {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// token68Chars is 1 for the characters of token68 before its padding
// (RFC 9110 §11.2): letters, digits and -._~+/; 0 for any other byte.
var token68Chars = func() (t [256]uint8) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/") {
		t[c] = 1
	}
	return t
}()

// Header returns a scheme that reads the credential from the named request
// header, as API keys are sent. A missing or empty header is no credential;
// the header sent twice is rejected with [ErrMalformedRequest]. The value is
// trimmed of spaces and tabs. Its 401 responses carry no challenge (see
// [Scheme]); it is described as an apiKey in the header, under name's
// canonical form ("x-api-key" is "X-Api-Key").
//
// Header panics if name is empty or not an RFC 9110 field name, since such a
// name is a programming error (names are literals); check a name read from
// configuration before calling it.
func Header(name string) Scheme {
	if !validToken68Name(name) {
		panic(fmt.Sprintf("auth: Header(%q): not a valid header name", name))
	}
	key := http.CanonicalHeaderKey(name)
	return headerScheme{
		key:          key,
		repeated:     malformed("More than one " + key + " header"),
		descriptions: []Description{{Type: "apiKey", In: "header", Name: key}},
	}
}

type headerScheme struct {
	key          string
	repeated     *Error
	descriptions []Description
}

func (h headerScheme) Credential(r *http.Request) (string, error) {
	values := r.Header[h.key]
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		return strings.Trim(values[0], " \t"), nil
	}
	return "", h.repeated
}

func (headerScheme) Challenges() []Challenge { return nil }

func (h headerScheme) Descriptions() []Description { return slices.Clone(h.descriptions) }

// Cookie returns a scheme that reads the credential from the named cookie.
// It scans every Cookie header of the request itself, pair by pair as
// [http.Request.Cookies] splits them, and does not depend on what that
// parser keeps or drops:
//
//   - No cookie of that name, or one with an empty value, is no credential.
//   - The name given twice is rejected with [ErrMalformedRequest] (400
//     invalid_request), since a second cookie of the same name may have been
//     planted by a sibling domain.
//   - A cookie of that name whose value is outside the cookie grammar (a
//     byte below 0x20 or above 0x7e, or '"', ';' or '\' inside an optional
//     pair of double quotes, which are removed) is rejected the same way,
//     rather than ignored as unreadable.
//
// Pairs of other names are not examined, however many there are. Its 401
// responses carry no challenge (see [Scheme]); it is described as an apiKey
// in the cookie name.
//
// Cookie panics if name is empty or not an RFC 6265 cookie name (an RFC
// 9110 token), since such a name is a programming error.
func Cookie(name string) Scheme {
	if !validToken68Name(name) {
		panic(fmt.Sprintf("auth: Cookie(%q): not a valid cookie name", name))
	}
	return cookieScheme{
		name:         name,
		repeated:     malformed("More than one " + name + " cookie"),
		unreadable:   malformed("The " + name + " cookie cannot be read"),
		descriptions: []Description{{Type: "apiKey", In: "cookie", Name: name}},
	}
}

type cookieScheme struct {
	name                 string
	repeated, unreadable *Error
	descriptions         []Description
}

func (c cookieScheme) Credential(r *http.Request) (string, error) {
	var (
		value string
		found bool
	)
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			name, v, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(name) != c.name {
				continue
			}
			if found {
				return "", c.repeated
			}
			found = true
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			for i := 0; i < len(v); i++ {
				if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
					return "", c.unreadable
				}
			}
			value = v
		}
	}
	return value, nil
}

func (cookieScheme) Challenges() []Challenge { return nil }

func (c cookieScheme) Descriptions() []Description { return slices.Clone(c.descriptions) }

// Query returns a scheme that reads the credential from the named URL query
// parameter (RFC 6750 §2.3). It scans the raw query string itself rather
// than trusting [url.URL.Query], which silently drops the pairs it cannot
// read:
//
//   - No parameter of that name, or one with an empty value, is no
//     credential.
//   - The parameter given twice is rejected with [ErrMalformedRequest] (400
//     invalid_request): "?access_token=good&access_token=%zz" is refused, not
//     read as "good".
//   - So is a parameter of that name whose value has a bad %-escape, a pair
//     that holds a ';' and names the parameter on either side of it (other
//     parsers split pairs at ';', net/url does not), and any parameter whose
//     name has a bad %-escape, since that name might be this one.
//
// Names and values are decoded as [url.QueryUnescape] does ('+' is a space).
// Its 401 responses carry the Bearer challenge, as RFC 6750 §3 prescribes for
// a bearer token in the query; it is described as an apiKey in the query.
//
// Query is discouraged: URLs end up in server logs, proxy logs, browser
// history and Referer headers, so a token in a URL leaks. Use it only where
// no header can be set, such as a WebSocket or EventSource URL, and keep such
// tokens short-lived.
//
// Query panics if name is empty, since that is a programming error: the
// scheme would read "?=token".
func Query(name string) Scheme {
	if name == "" {
		panic("auth: Query(\"\"): empty parameter name")
	}
	return queryScheme{
		name:         name,
		repeated:     malformed("More than one " + name + " query parameter"),
		unreadable:   malformed("The query string cannot be read"),
		descriptions: []Description{{Type: "apiKey", In: "query", Name: name}},
	}
}

type queryScheme struct {
	name                 string
	repeated, unreadable *Error
	descriptions         []Description
}

func (q queryScheme) Credential(r *http.Request) (string, error) {
	if r.URL == nil {
		return "", nil
	}
	var (
		value string
		found bool
	)
	rest := r.URL.RawQuery
	for rest != "" {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			// net/url drops this pair; a parser that splits at ';' does not.
			if q.named(pair) {
				return "", q.unreadable
			}
			for part := range strings.SplitSeq(pair, ";") {
				if q.named(part) {
					return "", q.unreadable
				}
			}
			continue
		}
		key, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(key)
		if err != nil {
			return "", q.unreadable
		}
		if k != q.name {
			continue
		}
		if found {
			return "", q.repeated
		}
		found = true
		if value, err = url.QueryUnescape(v); err != nil {
			return "", q.unreadable
		}
	}
	return value, nil
}

// named reports whether pair's name is q's or cannot be decoded.
func (q queryScheme) named(pair string) bool {
	key, _, _ := strings.Cut(pair, "=")
	k, err := url.QueryUnescape(key)
	return err != nil || k == q.name
}

func (queryScheme) Challenges() []Challenge { return slices.Clone(bearerChallenges) }

func (q queryScheme) Descriptions() []Description { return slices.Clone(q.descriptions) }

// FirstOf returns a scheme that tries each scheme in order and returns the
// first credential found. A scheme's error stops the search: a malformed
// header is reported, not skipped. Its challenges and descriptions are those
// of the schemes, in order, without repeats: FirstOf(Bearer(),
// Cookie("session")) answers 401 with the Bearer challenge and is described
// as an HTTP bearer scheme or an apiKey cookie. FirstOf panics if given no
// scheme or a nil one.
func FirstOf(schemes ...Scheme) Scheme {
	if len(schemes) == 0 {
		panic("auth: FirstOf needs at least one scheme")
	}
	f := firstOf{schemes: append([]Scheme(nil), schemes...)}
	for i, s := range f.schemes {
		if s == nil {
			panic(fmt.Sprintf("auth: FirstOf: scheme %d is nil", i))
		}
		f.challenges = appendNew(f.challenges, s.Challenges()...)
		f.descriptions = appendNew(f.descriptions, s.Descriptions()...)
	}
	return f
}

type firstOf struct {
	schemes      []Scheme
	challenges   []Challenge
	descriptions []Description
}

func (f firstOf) Credential(r *http.Request) (string, error) {
	for _, s := range f.schemes {
		raw, err := s.Credential(r)
		if err != nil && !errors.Is(err, ErrNoCredential) {
			return "", err
		}
		if raw != "" && err == nil {
			return raw, nil
		}
	}
	return "", nil
}

func (f firstOf) Challenges() []Challenge { return slices.Clone(f.challenges) }

func (f firstOf) Descriptions() []Description { return slices.Clone(f.descriptions) }
