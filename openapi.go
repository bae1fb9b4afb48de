package auth

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Requirement is one way a request can satisfy an Auth, for API
// documentation: a credential sent where Description says, whose principal
// holds every scope of Scopes. See [Auth.Requirements].
type Requirement struct {
	// Description is where the credential is sent.
	Description Description
	// Scopes are the scopes the route requires ([ScopedAuth.Requires]),
	// in the order they were required; empty when it requires none.
	Scopes []string
}

// Documented is what API documentation needs from an auth: the ways a request
// can satisfy it. Every auth of this module implements it: [*Auth],
// [*ScopedAuth] and every type that embeds one, such as the auths of
// packages jwt and apikey.
type Documented interface {
	Requirements() []Requirement
}

var _ Documented = (*ScopedAuth[Claims])(nil)

// Requirements returns the ways a request can satisfy a, any one of which
// suffices, for generators of API documentation:
//
//   - an Auth built with [New] has one requirement, without scopes, per
//     description of its scheme (one for each scheme of [FirstOf]), or the
//     one of [WithDescription];
//   - [ScopedAuth.Requires] adds its scopes to every requirement of the Auth
//     it narrows (Requires of an Auth that already requires scopes requires
//     both);
//   - [Then] keeps the requirements of the Auth it loads from;
//   - [AnyOf] lists the requirements of its members in order, without
//     repeats.
//
// An Auth whose scheme does not describe itself (a [SchemeFunc] without
// [WithDescription]) has none. The result is a copy the caller may modify.
// Turn it into the security of an OpenAPI operation with
// [SecuritySchemes.Require].
func (a *Auth[P]) Requirements() []Requirement {
	if a == nil || len(a.requirements) == 0 {
		return nil
	}
	out := make([]Requirement, len(a.requirements))
	for i, r := range a.requirements {
		out[i] = Requirement{Description: r.Description, Scopes: slices.Clone(r.Scopes)}
	}
	return out
}

// requirementsOf returns one requirement without scopes per described
// place; the zero Description (not described) gives none.
func requirementsOf(ds []Description) []Requirement {
	var out []Requirement
	for _, d := range ds {
		if d != (Description{}) {
			out = appendRequirements(out, Requirement{Description: d})
		}
	}
	return out
}

// withScopes returns copies of rs that also require scopes.
func withScopes(rs []Requirement, scopes []string) []Requirement {
	if len(scopes) == 0 {
		return rs
	}
	out := make([]Requirement, 0, len(rs))
	for _, r := range rs {
		out = appendRequirements(out, Requirement{Description: r.Description, Scopes: appendNew(slices.Clone(r.Scopes), scopes...)})
	}
	return out
}

// appendRequirements appends the requirements of add that rs does not hold.
func appendRequirements(rs []Requirement, add ...Requirement) []Requirement {
	for _, r := range add {
		if !slices.ContainsFunc(rs, func(have Requirement) bool {
			return have.Description == r.Description && slices.Equal(have.Scopes, r.Scopes)
		}) {
			rs = append(rs, r)
		}
	}
	return rs
}

// SecurityScheme is an OpenAPI 3.1 Security Scheme Object (OpenAPI 3.1.0
// §4.8.27), ready to be encoded with encoding/json.
type SecurityScheme struct {
	// Type is "http", "apiKey", "oauth2", "openIdConnect" or "mutualTLS".
	Type string `json:"type"`
	// Description is free text for readers of the documentation.
	Description string `json:"description,omitempty"`
	// Name is the header, query parameter or cookie name of an apiKey.
	Name string `json:"name,omitempty"`
	// In is where an apiKey is sent: "header", "query" or "cookie".
	In string `json:"in,omitempty"`
	// Scheme is the HTTP authentication scheme of type "http", such as
	// "bearer".
	Scheme string `json:"scheme,omitempty"`
	// BearerFormat hints at the format of a bearer token, such as "JWT".
	BearerFormat string `json:"bearerFormat,omitempty"`
	// Flows are the OAuth 2.0 flows of type "oauth2".
	Flows *OAuthFlows `json:"flows,omitempty"`
	// OpenIDConnectURL is the OpenID Connect discovery URL of type
	// "openIdConnect".
	OpenIDConnectURL string `json:"openIdConnectUrl,omitempty"`
}

// OAuthFlows is an OpenAPI OAuth Flows Object: the OAuth 2.0 flows a client
// may use to obtain a token.
type OAuthFlows struct {
	Implicit          *OAuthFlow `json:"implicit,omitempty"`
	Password          *OAuthFlow `json:"password,omitempty"`
	ClientCredentials *OAuthFlow `json:"clientCredentials,omitempty"`
	AuthorizationCode *OAuthFlow `json:"authorizationCode,omitempty"`
}

// OAuthFlow is an OpenAPI OAuth Flow Object.
type OAuthFlow struct {
	// AuthorizationURL is required by the implicit and authorizationCode
	// flows.
	AuthorizationURL string `json:"authorizationUrl,omitempty"`
	// TokenURL is required by the password, clientCredentials and
	// authorizationCode flows.
	TokenURL string `json:"tokenUrl,omitempty"`
	// RefreshURL is where refresh tokens are used, if anywhere.
	RefreshURL string `json:"refreshUrl,omitempty"`
	// Scopes maps each available scope to a short description. It is
	// always encoded, as the specification requires: nil as {}.
	Scopes map[string]string `json:"scopes"`
}

// MarshalJSON encodes f with nil Scopes as the empty object.
func (f OAuthFlow) MarshalJSON() ([]byte, error) {
	type plain OAuthFlow // without this method
	p := plain(f)
	if p.Scopes == nil {
		p.Scopes = map[string]string{}
	}
	return json.Marshal(p)
}

// SecurityRequirement is an OpenAPI Security Requirement Object: the names of
// security schemes, each with the scopes an operation requires of it. An
// operation's security is a list of them, any one of which suffices; the
// empty requirement ({}) allows anonymous requests.
type SecurityRequirement map[string][]string

// SecurityScheme returns d as an OpenAPI Security Scheme Object: an http
// scheme, an apiKey with its location and name, or an openIdConnect scheme
// with its discovery URL.
func (d Description) SecurityScheme() SecurityScheme {
	return SecurityScheme{
		Type:             d.Type,
		Description:      d.Description,
		Name:             d.Name,
		In:               d.In,
		Scheme:           d.Scheme,
		BearerFormat:     d.BearerFormat,
		OpenIDConnectURL: d.OpenIDConnectURL,
	}
}

// SecuritySchemes is the securitySchemes map of an OpenAPI document's
// components, keyed by scheme name. [SecuritySchemes.Require] fills it with
// the schemes of the auths that guard a service's routes, and returns each
// route's security, so that a net/http service can keep an accurate OpenAPI
// document by hand:
//
//	schemes := auth.SecuritySchemes{}
//	doc.Paths["/items"].Get.Security = schemes.Require(tokens.Requires("items:read"))
//	doc.Components.SecuritySchemes = schemes
//
// # Names
//
// A scheme is registered once per place a credential travels, whatever the
// number of auths and routes that use it: the Authorization header with the
// Bearer scheme (http bearer, oauth2 and openIdConnect schemes all send their
// token there), another HTTP scheme, or an API key in a given header (names
// compared without case), cookie or query parameter. The first auth that
// names a place defines its entry; a later one of another description, such
// as another free-text description, reuses it. A new entry is named after
// its place:
//
//	http bearer                 "bearer"
//	http, another scheme        the scheme in lower case ("basic")
//	openIdConnect               "openIdConnect"
//	apiKey in header X-Api-Key  "header.X-Api-Key"
//	apiKey in cookie session    "cookie.session"
//	apiKey in query api_key     "query.api_key"
//
// Characters other than letters, digits, '.', '-' and '_' become '_', and a
// name already taken by an entry for another place gets a suffix ("-2",
// "-3", …). The names depend only on the auths and their order, so a
// document is stable from one run to the next.
//
// # Overrides
//
// To choose a scheme's name, its text or its type, put an entry for its place
// in the map before calling Require: Require uses an existing entry for the
// place, under its name and as it is, preferring one of the same type. An
// oauth2 entry is how a bearer token is documented with its OAuth 2.0 flows;
// Require adds the scopes each route requires to every flow's Scopes (with
// an empty description) unless they are listed already:
//
//	schemes := auth.SecuritySchemes{"oauth": {Type: "oauth2", Flows: &auth.OAuthFlows{
//		ClientCredentials: &auth.OAuthFlow{TokenURL: "https://id.example.com/oauth/token", Scopes: map[string]string{}},
//	}}}
//
// A SecuritySchemes is a plain map: it is not safe for concurrent writes, and
// documentation is usually built once, at start-up.
type SecuritySchemes map[string]SecurityScheme

// Require registers in s the schemes a needs and returns the security of an
// operation that a guards: one [SecurityRequirement] per requirement of a
// ([Auth.Requirements]), naming its scheme with the scopes the route requires
// (an empty list when it requires none). It returns nil when a describes
// nothing, which an OpenAPI document cannot tell from "no security"; give
// such an auth [WithDescription].
func (s SecuritySchemes) Require(a Documented) []SecurityRequirement {
	if a == nil {
		return nil
	}
	var out []SecurityRequirement
	for _, r := range a.Requirements() {
		name := s.register(r.Description.SecurityScheme(), r.Scopes)
		scopes := append([]string{}, r.Scopes...)
		if !slices.ContainsFunc(out, func(have SecurityRequirement) bool {
			got, ok := have[name]
			return ok && slices.Equal(got, scopes)
		}) {
			out = append(out, SecurityRequirement{name: scopes})
		}
	}
	return out
}

// Optional is [SecuritySchemes.Require] for an operation whose credential is
// optional (see [Auth.Optional]): the requirements of a followed by the empty
// requirement, which allows anonymous requests.
func (s SecuritySchemes) Optional(a Documented) []SecurityRequirement {
	req := s.Require(a)
	if req == nil {
		return nil
	}
	return append(req, SecurityRequirement{})
}

// register returns the name of the entry of s for sc's place, adding sc under
// a new name when there is none, and adds scopes to an oauth2 entry's flows.
func (s SecuritySchemes) register(sc SecurityScheme, scopes []string) string {
	place := placeOf(sc)
	names := make([]string, 0, len(s))
	for name := range s {
		names = append(names, name)
	}
	slices.Sort(names)
	found := ""
	for _, name := range names {
		have := s[name]
		if placeOf(have) != place {
			continue
		}
		if have.Type == sc.Type {
			found = name
			break
		}
		if found == "" {
			found = name
		}
	}
	if found != "" {
		if have := s[found]; have.Type == "oauth2" && have.Flows != nil {
			for _, f := range []*OAuthFlow{have.Flows.Implicit, have.Flows.Password, have.Flows.ClientCredentials, have.Flows.AuthorizationCode} {
				if f == nil {
					continue
				}
				if f.Scopes == nil {
					f.Scopes = map[string]string{}
				}
				for _, sc := range scopes {
					if _, ok := f.Scopes[sc]; !ok {
						f.Scopes[sc] = ""
					}
				}
			}
		}
		return found
	}
	base := SchemeName(sc)
	name := base
	for i := 2; ; i++ {
		if _, taken := s[name]; !taken {
			break
		}
		name = base + "-" + strconv.Itoa(i)
	}
	s[name] = sc
	return name
}

// SchemeName returns the name that [SecuritySchemes.Require] gives a new
// entry for sc, before any suffix for a name already taken: see the table in
// [SecuritySchemes].
func SchemeName(sc SecurityScheme) string {
	var name string
	switch sc.Type {
	case "http":
		name = strings.ToLower(sc.Scheme)
	case "apiKey":
		name = sc.In + "." + sc.Name
	default:
		name = sc.Type
	}
	if name == "" || name == "." {
		name = "auth"
	}
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, name)
}

// placeOf returns where a credential of sc travels: schemes of one place
// share one entry.
func placeOf(sc SecurityScheme) string {
	switch sc.Type {
	case "http":
		if equalFoldASCII(sc.Scheme, "bearer") {
			return "bearer"
		}
		return "http " + strings.ToLower(sc.Scheme)
	case "oauth2", "openIdConnect":
		return "bearer"
	case "apiKey":
		if sc.In == "header" {
			return "header " + strings.ToLower(sc.Name)
		}
		return sc.In + " " + sc.Name
	}
	return sc.Type
}
