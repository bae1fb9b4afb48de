package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Scheme extracts the raw credential from a request. It returns "" and a nil
// error (or an error matching [ErrNoCredential]) when the request carries no
// credential for it, so that [FirstOf] and [AnyOf] can move on, and an error
// matching [ErrMalformedRequest] or [ErrInvalidCredential] when a credential
// is present but unreadable.
//
// Any function of this type is a scheme. The cookie scheme of a session,
// for instance, is one line:
//
//	session := auth.Cookie("session")
//
// A Scheme must be safe for concurrent use and must not read the request
// body.
type Scheme func(r *http.Request) (string, error)

// Bearer returns the RFC 6750 §2.1 scheme: the token of an
// "Authorization: Bearer <token>" header.
//
//   - The scheme name is case-insensitive ("bearer tok" is accepted).
//   - A request without an Authorization header, or whose header names
//     another scheme ("Basic …"), has no bearer credential.
//   - Exactly one token68 credential must follow: "Bearer" alone, an empty
//     token, a token with inner spaces or characters outside token68, and a
//     request with two Authorization headers are rejected with
//     [ErrMalformedRequest], never silently accepted.
func Bearer() Scheme { return bearer }

func bearer(r *http.Request) (string, error) {
	return parseAuthorization(r.Header, "Bearer")
}

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
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			continue
		}
		break
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

// Header returns a scheme that reads the credential from the named request
// header, as API keys are sent. A missing or empty header is no credential;
// the header sent twice is rejected with [ErrMalformedRequest].
func Header(name string) Scheme {
	key := http.CanonicalHeaderKey(name)
	return func(r *http.Request) (string, error) {
		values := r.Header[key]
		switch len(values) {
		case 0:
			return "", nil
		case 1:
			return strings.Trim(values[0], " \t"), nil
		}
		return "", malformed("More than one " + key + " header")
	}
}

// Cookie returns a scheme that reads the credential from the named cookie.
// A missing or empty cookie is no credential; the cookie sent twice is
// rejected with [ErrMalformedRequest], since a second cookie of the same
// name may have been planted by a sibling domain.
func Cookie(name string) Scheme {
	return func(r *http.Request) (string, error) {
		cookies := r.CookiesNamed(name)
		switch len(cookies) {
		case 0:
			return "", nil
		case 1:
			return cookies[0].Value, nil
		}
		return "", malformed("More than one " + name + " cookie")
	}
}

// Query returns a scheme that reads the credential from the named URL query
// parameter (RFC 6750 §2.3).
//
// Query is discouraged: URLs end up in server logs, proxy logs, browser
// history and Referer headers, so a token in a URL leaks. Use it only where
// no header can be set, such as a WebSocket or EventSource URL, and keep such
// tokens short-lived. The parameter given twice is rejected with
// [ErrMalformedRequest].
func Query(name string) Scheme {
	return func(r *http.Request) (string, error) {
		values := r.URL.Query()[name]
		switch len(values) {
		case 0:
			return "", nil
		case 1:
			return values[0], nil
		}
		return "", malformed("More than one " + name + " query parameter")
	}
}

// FirstOf returns a scheme that tries each scheme in order and returns the
// first credential found. A scheme's error stops the search: a malformed
// header is reported, not skipped. FirstOf panics if given no scheme or a
// nil one.
func FirstOf(schemes ...Scheme) Scheme {
	if len(schemes) == 0 {
		panic("auth: FirstOf needs at least one scheme")
	}
	for i, s := range schemes {
		if s == nil {
			panic(fmt.Sprintf("auth: FirstOf: scheme %d is nil", i))
		}
	}
	schemes = append([]Scheme(nil), schemes...)
	return func(r *http.Request) (string, error) {
		for _, s := range schemes {
			raw, err := s(r)
			if err != nil && !errors.Is(err, ErrNoCredential) {
				return "", err
			}
			if raw != "" && err == nil {
				return raw, nil
			}
		}
		return "", nil
	}
}
