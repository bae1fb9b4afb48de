package auth

import (
	"fmt"

	"github.com/typedauth/auth/scopes"
)

// DefaultMaxCredentialLength is the longest credential, in bytes, that an
// Auth passes to its verifier unless [WithMaxCredentialLength] says
// otherwise. Longer credentials are rejected before any parsing.
const DefaultMaxCredentialLength = 16 << 10

// Option configures an Auth. Options are built by the With functions of this
// package and of packages built on it; other packages cannot implement it.
type Option interface {
	apply(*settings)
}

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

// settings are the knobs shared by an Auth and every Auth derived from it.
// They are fixed at construction and read-only afterwards.
type settings struct {
	challenges   []Challenge
	descriptions []Description
	writeError   ErrorWriter
	maxLen       int
	validator    scopes.Validator
	absent       *Error
}

// newSettings starts from the challenges and descriptions of scheme, copied,
// and applies opts.
func newSettings(scheme Scheme, opts []Option) *settings {
	s := &settings{
		challenges:   appendNew(nil, scheme.Challenges()...),
		descriptions: appendNew(nil, scheme.Descriptions()...),
		writeError:   WriteError,
		maxLen:       DefaultMaxCredentialLength,
		absent:       errAbsent,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(s)
		}
	}
	return s
}

// WithChallenge replaces the WWW-Authenticate challenges that the Auth's
// [Scheme] gives its 401 responses with one challenge of the given scheme
// and realm, such as WithChallenge("Bearer", "api") for a realm. An empty
// scheme sends no challenge. Characters of realm outside those RFC 6750 §3
// allows in a quoted value are sent as '?'. WithChallenge panics if scheme
// is neither empty nor an RFC 9110 token (letters, digits and
// !#$%&'*+-.^_`|~), since such a header cannot be sent.
func WithChallenge(scheme, realm string) Option {
	if scheme != "" && !validToken68Name(scheme) {
		panic(fmt.Sprintf("auth: WithChallenge(%q): the scheme is not a valid token", scheme))
	}
	return optionFunc(func(s *settings) {
		if scheme == "" {
			s.challenges = nil
			return
		}
		s.challenges = []Challenge{{Scheme: scheme, Realm: realm}}
	})
}

// WithMissingDetail sets the public detail of the 401 sent when a request
// carries no credential (default "Missing credentials").
func WithMissingDetail(detail string) Option {
	return optionFunc(func(s *settings) {
		s.absent = &Error{Status: errAbsent.Status, Detail: detail, Err: errAbsentCause}
	})
}

// WithErrorWriter replaces [WriteError], the writer of rejected requests.
// Wrap WriteError to log e.Err before writing the default response.
func WithErrorWriter(w ErrorWriter) Option {
	return optionFunc(func(s *settings) {
		if w == nil {
			w = WriteError
		}
		s.writeError = w
	})
}

// WithMaxCredentialLength sets the longest credential in bytes that reaches
// the verifier (default [DefaultMaxCredentialLength]); longer ones are
// rejected with 401 before any parsing. It panics if n is not positive.
func WithMaxCredentialLength(n int) Option {
	if n <= 0 {
		panic(fmt.Sprintf("auth: WithMaxCredentialLength(%d): the limit must be positive", n))
	}
	return optionFunc(func(s *settings) { s.maxLen = n })
}

// WithScopeValidator sets how a [ScopedAuth] matches required scopes against
// granted ones (default: [scopes.Hierarchical] with the default hierarchy).
// Auths without scopes ignore it.
func WithScopeValidator(v scopes.Validator) Option {
	return optionFunc(func(s *settings) { s.validator = v })
}

// Description says where an Auth reads its credential, in the terms of an
// OpenAPI security scheme, for generators of API documentation. Every
// [Scheme] of this package describes itself:
//
//	Bearer()                  {Type: "http", Scheme: "bearer"}
//	Header("X-Api-Key")       {Type: "apiKey", In: "header", Name: "X-Api-Key"}
//	Cookie("session")         {Type: "apiKey", In: "cookie", Name: "session"}
//	Query("access_token")     {Type: "apiKey", In: "query", Name: "access_token"}
//
// The zero Description means "not described".
type Description struct {
	// Type is the OpenAPI type: "http", "apiKey" or "openIdConnect".
	Type string
	// Scheme is the HTTP scheme for type "http", such as "bearer".
	Scheme string
	// BearerFormat hints at the token format of an HTTP bearer scheme, such
	// as "JWT".
	BearerFormat string
	// In is where an apiKey is sent: "header", "query" or "cookie".
	In string
	// Name is the header, query parameter or cookie name of an apiKey.
	Name string
	// OpenIDConnectURL is the OpenID Connect discovery URL of type
	// "openIdConnect": a bearer token issued by that provider.
	OpenIDConnectURL string
	// Description is free text for readers of the documentation.
	Description string
}

// WithDescription replaces the descriptions that the Auth's [Scheme] gives
// [Auth.Descriptions] with d alone. It is an override, for a scheme that
// does not describe itself such as a [SchemeFunc]; the schemes of this
// package need none.
func WithDescription(d Description) Option {
	return optionFunc(func(s *settings) { s.descriptions = []Description{d} })
}

// WithBearerFormat sets the BearerFormat of the Auth's descriptions of type
// "http" and scheme "bearer", such as "JWT"; other descriptions (a token in
// a cookie, say) are unchanged.
func WithBearerFormat(format string) Option {
	return optionFunc(func(s *settings) {
		ds := append([]Description(nil), s.descriptions...)
		for i, d := range ds {
			if d.Type == "http" && equalFoldASCII(d.Scheme, "bearer") {
				ds[i].BearerFormat = format
			}
		}
		s.descriptions = ds
	})
}

// WithOpenIDConnect documents the Auth's bearer tokens as issued by the
// OpenID Provider whose discovery document is at discoveryURL: descriptions
// of type "http" and scheme "bearer" become {Type: "openIdConnect",
// OpenIDConnectURL: discoveryURL}, keeping their free text; others (a token
// in a cookie, say) are unchanged. An empty discoveryURL changes nothing.
// Package jwt applies it to an auth whose key set came from OpenID Connect
// discovery. It changes what API documentation says, not what is accepted.
func WithOpenIDConnect(discoveryURL string) Option {
	return optionFunc(func(s *settings) {
		if discoveryURL == "" {
			return
		}
		ds := append([]Description(nil), s.descriptions...)
		for i, d := range ds {
			if d.Type == "http" && equalFoldASCII(d.Scheme, "bearer") {
				ds[i] = Description{Type: "openIdConnect", OpenIDConnectURL: discoveryURL, Description: d.Description}
			}
		}
		s.descriptions = ds
	})
}
