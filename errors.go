package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// kind is the type of the category sentinels. A kind wraps its parent, so
// that errors.Is(ErrNoCredential, ErrUnauthorized) holds.
type kind struct {
	msg    string
	parent error
}

func (k *kind) Error() string { return k.msg }

func (k *kind) Unwrap() error { return k.parent }

// Categories of failure. Every error that this module returns matches exactly
// one of ErrUnauthorized, ErrForbidden and ErrUnavailable with [errors.Is],
// or is an internal failure (status 500) that matches none of them.
var (
	// ErrUnauthorized is the category of every authentication failure: no
	// credential, or one that is malformed or invalid.
	ErrUnauthorized error = &kind{msg: "auth: unauthorized"}

	// ErrNoCredential means the request carries no credential for the
	// scheme. A Scheme may return it (or "" and nil) to say so. It is an
	// ErrUnauthorized.
	ErrNoCredential error = &kind{msg: "auth: no credential", parent: ErrUnauthorized}

	// ErrInvalidCredential means a credential is present but wrong: badly
	// signed, expired, unknown. Verifiers return it, wrapped or bare, to
	// reject a credential with status 401. It is an ErrUnauthorized.
	ErrInvalidCredential error = &kind{msg: "auth: invalid credential", parent: ErrUnauthorized}

	// ErrMalformedRequest means the request's credential cannot be read at
	// all: two Authorization headers, "Bearer" without a token, a token with
	// spaces. It is answered with status 400 and the RFC 6750 error code
	// invalid_request. It is an ErrUnauthorized.
	ErrMalformedRequest error = &kind{msg: "auth: malformed credential", parent: ErrUnauthorized}

	// ErrForbidden means the principal is known but not allowed, such as a
	// token without a required scope. It is answered with status 403.
	ErrForbidden error = &kind{msg: "auth: forbidden"}

	// ErrUnavailable means the credential could not be checked because a
	// dependency, such as a key server, is unreachable. It is answered with
	// status 503, never 401.
	ErrUnavailable error = &kind{msg: "auth: verification unavailable"}
)

// RFC 6750 §3.1 error codes, as written in the WWW-Authenticate header.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// Error is the error every Auth reports and the problem details (RFC 9457)
// written for it. Public fields are the text a client sees; Err is the cause,
// for logs and [errors.Is], and is never written to the client by
// [WriteError].
//
// Build one with [Unauthorized], [Forbidden] or [Unavailable], or return any
// error from a verifier or loader and let the Auth classify it (see
// [AsError]).
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Title is a short summary of the problem type. [WriteError] uses the
	// status text when it is empty or when Type is empty (about:blank).
	Title string
	// Detail is the public explanation. It must not contain secrets or
	// attacker-controlled input.
	Detail string
	// Type is the problem type URI; [WriteError] writes "about:blank" when
	// it is empty.
	Type string
	// Code is the RFC 6750 error code (CodeInvalidToken, …) written in the
	// Bearer challenge, or "" for none, as when no credential was sent.
	Code string
	// Scope lists the scopes a request needs, for the scope parameter of an
	// insufficient_scope challenge.
	Scope []string
	// Challenges are the WWW-Authenticate challenges of the Auth that
	// rejected the request. The Auth fills them in before the error is
	// written.
	Challenges []Challenge
	// Err is the underlying cause. It is never written to the client.
	Err error
}

// Error returns a message for logs: the detail and the cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("auth: ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Detail != "" {
		b.WriteString(" ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, so that errors.Is and errors.As see through an
// Error to its category and to the verifier's own error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes an Error match the category of its status even when its cause
// does not say so, so that errors.Is(err, ErrForbidden) holds for every 403.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusBadRequest
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrUnavailable:
		return e.Status == http.StatusServiceUnavailable
	}
	return false
}

// Unauthorized returns a 401 error for an invalid credential with the public
// detail given, for verifiers and loaders (an unknown user, a revoked key).
// The detail becomes the error_description of the Bearer challenge, so it
// must not echo attacker input. Wrap a cause with [Error.Wrap].
func Unauthorized(detail string) *Error {
	return &Error{Status: http.StatusUnauthorized, Detail: detail, Code: CodeInvalidToken, Err: ErrInvalidCredential}
}

// Forbidden returns a 403 error with the public detail given, for loaders
// that find a principal who may not proceed.
func Forbidden(detail string) *Error {
	return &Error{Status: http.StatusForbidden, Detail: detail, Err: ErrForbidden}
}

// Unavailable returns a 503 error with the public detail given, for verifiers
// whose key server or backend cannot be reached.
func Unavailable(detail string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Detail: detail, Err: ErrUnavailable}
}

// Wrap returns a copy of e whose cause is err joined to e's category, so that
// both errors.Is(x, ErrInvalidCredential) and errors.Is(x, err) hold. The
// cause is for logs only.
func (e *Error) Wrap(err error) *Error {
	c := *e
	if c.Err == nil {
		c.Err = err
	} else {
		c.Err = &joined{category: c.Err, cause: err}
	}
	return &c
}

// joined pairs a category with a cause without the "\n" of errors.Join.
type joined struct{ category, cause error }

func (j *joined) Error() string   { return j.category.Error() + ": " + j.cause.Error() }
func (j *joined) Unwrap() []error { return []error{j.category, j.cause} }

// Fixed public texts. They are package-level so that the common failures
// cost no formatting.
const (
	detailNoCredential = "Missing credentials"
	detailInvalid      = "Invalid credentials"
	detailMalformed    = "Malformed credentials"
	detailInternal     = "Internal Server Error"
	detailUnavailable  = "Credentials cannot be verified right now"
	detailForbidden    = "Forbidden"
	// DetailMissingScope prefixes the detail of a 403 for a missing scope.
	DetailMissingScope = "Token is missing required scope: "
)

// errAbsentCause is the cause of every error that says a scheme found no
// credential. It matches ErrNoCredential, but only this package creates it:
// Optional and AnyOf treat an error as "no credential" only when it is an
// *Error whose cause is errAbsentCause itself (see isAbsent), so that a
// verifier or loader that returns ErrNoCredential for a credential it was
// given can never make a request pass as anonymous.
var errAbsentCause error = &kind{msg: "auth: no credential found", parent: ErrNoCredential}

// errAbsent is returned by a base Auth when its scheme found no credential.
// It is shared: it carries no challenges and is copied before it is written.
var errAbsent = &Error{Status: http.StatusUnauthorized, Detail: detailNoCredential, Err: errAbsentCause}

// AsError classifies any error into an *Error, always returning a new value
// that the caller may modify: a deep copy that shares no Scope or
// Challenges array, and no *ScopeError cause, with err.
//
//   - an *Error in err's chain is copied (its own Err kept); a Status
//     outside 400–599, such as an unset one, becomes 500;
//   - ErrNoCredential → 401 without an error code;
//   - ErrMalformedRequest → 400 invalid_request;
//   - ErrInvalidCredential or ErrUnauthorized → 401 invalid_token;
//   - ErrForbidden → 403;
//   - ErrUnavailable → 503;
//   - anything else → 500, whose detail never includes err's text.
//
// The returned error's Err is err (for an *Error given directly, its own
// Err, or a copy of it when it is a *ScopeError), so the cause stays
// inspectable.
func AsError(err error) *Error {
	return classify(err, nil)
}

// classify is AsError that also sets the copy's Challenges to a copy of
// challenges when the error carries none of its own.
func classify(err error, challenges []Challenge) *Error {
	if err == nil {
		return nil
	}
	var c Error
	var e *Error
	if errors.As(err, &e) {
		c = *e
		if c.Status < 400 || c.Status > 599 {
			// An error is never a success or a redirect: an unset or
			// invalid status is an internal failure.
			c.Status = http.StatusInternalServerError
		}
		if e != err {
			c.Err = err // keep the outer chain, which reaches e's own cause
		}
	} else {
		c = categorize(err)
	}
	if c.Challenges == nil {
		c.Challenges = challenges
	}
	return c.deepCopy()
}

// categorize builds the Error of an err that holds no *Error.
func categorize(err error) Error {
	switch {
	case errors.Is(err, ErrNoCredential):
		return Error{Status: http.StatusUnauthorized, Detail: detailNoCredential, Err: err}
	case errors.Is(err, ErrMalformedRequest):
		return Error{Status: http.StatusBadRequest, Detail: detailMalformed, Code: CodeInvalidRequest, Err: err}
	case errors.Is(err, ErrUnauthorized):
		return Error{Status: http.StatusUnauthorized, Detail: detailInvalid, Code: CodeInvalidToken, Err: err}
	case errors.Is(err, ErrForbidden):
		return Error{Status: http.StatusForbidden, Detail: detailForbidden, Err: err}
	case errors.Is(err, ErrUnavailable):
		return Error{Status: http.StatusServiceUnavailable, Detail: detailUnavailable, Err: err}
	}
	return Error{Status: http.StatusInternalServerError, Detail: detailInternal, Err: err}
}

// errorCopy is an Error together with room for the elements of its slices
// and its scope error, so that the deep copy of a typical error (up to two
// challenges, up to two required scopes) is one allocation, as the shallow
// copy was.
type errorCopy struct {
	e          Error
	scopeErr   ScopeError
	challenges [2]Challenge
	strings    [4]string
}

// deepCopy returns a copy of c that shares no mutable memory with it: the
// Scope and Challenges arrays and a *ScopeError cause are copied. Other
// causes are the verifier's values and are kept as they are.
func (c *Error) deepCopy() *Error {
	box := new(errorCopy)
	box.e = *c
	e := &box.e
	if c.Challenges != nil {
		if len(c.Challenges) <= len(box.challenges) {
			e.Challenges = box.challenges[:len(c.Challenges):len(c.Challenges)]
			copy(e.Challenges, c.Challenges)
		} else {
			e.Challenges = slices.Clone(c.Challenges)
		}
	}
	free := box.strings[:0]
	e.Scope, free = cloneStrings(c.Scope, free)
	if se, ok := c.Err.(*ScopeError); ok && se != nil {
		box.scopeErr.Missing = se.Missing
		box.scopeErr.Required, _ = cloneStrings(se.Required, free)
		e.Err = &box.scopeErr
	}
	return e
}

// cloneStrings copies s into the unused capacity of free when it fits, and
// returns the copy (capped, so that appending to it cannot reach what
// follows) and free extended past it. A nil s stays nil.
func cloneStrings(s, free []string) (clone, rest []string) {
	if s == nil {
		return nil, free
	}
	n := len(free)
	if len(s) > cap(free)-n {
		return slices.Clone(s), free
	}
	free = free[:n+len(s)]
	clone = free[n : n+len(s) : n+len(s)]
	copy(clone, s)
	return clone, free
}

// StatusOf returns the HTTP status that the default error writer uses for
// err: 401, 400, 403, 503, or 500 for anything it does not recognise.
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return AsError(err).Status
}

// ErrorWriter writes the response for a rejected request. e is never nil and
// its Challenges are already set to those of the Auth that rejected the
// request (or of the member of an [AnyOf] that did).
//
// e belongs to the writer: it is a deep copy made for this call, down to the
// arrays of its Scope and Challenges and, for a missing scope, the
// [*ScopeError] in e.Err. The writer may edit, filter, append to or keep any
// of them, from any goroutine, and nothing it does reaches the Auth, the
// scopes a route requires, or the error of another request. Other causes in
// e.Err's chain are the verifier's or loader's own error values, which may be
// shared between requests: read them, do not modify them.
//
// An ErrorWriter must not write e.Err's text to the client.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, e *Error)

// problem is the RFC 9457 body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// WriteError is the default [ErrorWriter]. It writes e as RFC 9457 problem
// details with Content-Type application/problem+json and, for 401 and 403
// responses, one WWW-Authenticate header per challenge (RFC 6750 §3): a bare
// challenge when no credential was sent, error="invalid_token" or
// error="invalid_request" with error_description for a bad credential, and
// error="insufficient_scope" with the required scope for a 403. Errors with
// status 500 or more are written with the status text as title and, for 500,
// a generic detail; a nil e or a status outside 400–599 is written as 500.
// When the problem type is about:blank (Type empty), the title is always the
// status text, as RFC 9457 §4.2.1 asks. Challenges whose scheme is not a
// valid token are skipped. The response is marked no-store so that no cache
// keeps it.
func WriteError(w http.ResponseWriter, r *http.Request, e *Error) {
	if e == nil {
		e = &Error{Status: http.StatusInternalServerError}
	}
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	h := w.Header()
	if status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusBadRequest {
		for _, c := range e.Challenges {
			if v := c.render(e, status); v != "" {
				h.Add("WWW-Authenticate", v)
			}
		}
	}
	p := problem{Type: e.Type, Title: e.Title, Status: status, Detail: e.Detail}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" || p.Type == "about:blank" || status >= 500 {
		p.Title = http.StatusText(status)
	}
	if status == http.StatusInternalServerError {
		p.Detail = detailInternal
	}
	body, err := json.Marshal(p)
	if err != nil { // cannot happen for this struct; fail closed with no body
		body = nil
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Challenge is one WWW-Authenticate challenge (RFC 9110 §11.6.1) that an Auth
// sends when it rejects a request.
type Challenge struct {
	// Scheme is the authentication scheme, such as "Bearer" or "APIKey". It
	// must be an RFC 9110 token; [WriteError] skips a challenge whose scheme
	// is not.
	Scheme string
	// Realm, when set, is sent as the realm parameter.
	Realm string
}

// render formats c for e. The RFC 6750 parameters (error, error_description,
// scope) are added to Bearer challenges only; other schemes get the bare
// scheme and realm.
func (c Challenge) render(e *Error, status int) string {
	if !validToken68Name(c.Scheme) {
		return "" // an empty or invalid scheme would corrupt the header
	}
	var b strings.Builder
	b.WriteString(c.Scheme)
	sep := " "
	param := func(name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		writeQuotedSafe(&b, value)
		b.WriteByte('"')
		sep = ", "
	}
	if c.Realm != "" {
		param("realm", c.Realm)
	}
	if !equalFoldASCII(c.Scheme, "Bearer") || e.Code == "" {
		if status == http.StatusForbidden {
			return "" // a 403 without an RFC 6750 code has no challenge
		}
		return b.String()
	}
	param("error", e.Code)
	if e.Code == CodeInsufficientScope {
		if len(e.Scope) > 0 {
			param("scope", strings.Join(e.Scope, " "))
		}
	} else if e.Detail != "" {
		param("error_description", e.Detail)
	}
	return b.String()
}

// writeQuotedSafe writes s keeping only the characters RFC 6750 §3 allows in
// error_description and scope (%x20-21 / %x23-5B / %x5D-7E); any other byte
// becomes '?'. This keeps quotes, backslashes and control characters out of
// the header whatever the text.
func writeQuotedSafe(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) {
			b.WriteByte(c)
		} else {
			b.WriteByte('?')
		}
	}
}
