// Package scopes decides whether the scopes granted to a token satisfy the
// scopes a route requires.
//
// A [Validator] answers one question: does a [Set] of granted scopes satisfy a
// single required scope? Two validators ship with the package:
//
//   - [Hierarchical], the default, reads scopes as resource:action pairs and
//     resolves wildcards (items:*, *:read) and an action hierarchy (by
//     default edit implies read).
//   - [Simple] grants a scope only when it is present verbatim.
//
// Matching is case-sensitive, as RFC 6749 §3.3 requires. Neither validator
// allocates while matching.
package scopes

import (
	"fmt"
	"iter"
	"strings"
)

// MaxLength is the longest scope, in bytes, that [Check] accepts. A granted
// scope longer than this matches nothing.
const MaxLength = 255

// Validator reports whether the granted scopes satisfy one required scope.
//
// Implementations must be safe for concurrent use. HasScope is called once
// per required scope on every request, so it should not allocate.
type Validator interface {
	HasScope(required string, granted Set) bool
}

// Func adapts an ordinary function to the [Validator] interface.
type Func func(required string, granted Set) bool

// HasScope calls f(required, granted).
func (f Func) HasScope(required string, granted Set) bool { return f(required, granted) }

// Set is a read-only view of the scopes granted to a principal. It wraps the
// forms in which tokens carry scopes — a space-delimited string (the OAuth 2.0
// "scope" claim), a []string, or a []any of strings as decoded from JSON (the
// "scp" claim of Okta and Azure AD) — without copying them. The zero Set is
// empty. A Set is a small value; pass it by value.
type Set struct {
	str  string   // space-delimited scopes
	list []string // one scope per element
	anys []any    // one scope per element; non-strings are skipped
}

// Parse returns the Set of the space-delimited scopes in s (RFC 6749 §3.3).
// Runs of spaces are treated as one separator. It does not allocate.
func Parse(s string) Set { return Set{str: s} }

// Of returns the Set holding the given scopes. The slice is not copied.
func Of(scopes ...string) Set { return Set{list: scopes} }

// FromAny returns the Set holding the string elements of list, as decoded
// from a JSON array; elements that are not strings are ignored. The slice is
// not copied.
func FromAny(list []any) Set { return Set{anys: list} }

// Union returns a Set holding the scopes of s and t. When both hold the same
// form of data, the result is built by copying; otherwise it does not
// allocate.
func (s Set) Union(t Set) Set {
	switch {
	case s.IsEmpty():
		return t
	case t.IsEmpty():
		return s
	}
	u := s
	if t.str != "" {
		if u.str != "" {
			u.str = u.str + " " + t.str
		} else {
			u.str = t.str
		}
	}
	if len(t.list) > 0 {
		if len(u.list) > 0 {
			u.list = append(append([]string(nil), u.list...), t.list...)
		} else {
			u.list = t.list
		}
	}
	if len(t.anys) > 0 {
		if len(u.anys) > 0 {
			u.anys = append(append([]any(nil), u.anys...), t.anys...)
		} else {
			u.anys = t.anys
		}
	}
	return u
}

// IsEmpty reports whether s holds no data at all. A Set built from a string
// of spaces is not empty by this measure but yields no scopes from [Set.All].
func (s Set) IsEmpty() bool { return s.str == "" && len(s.list) == 0 && len(s.anys) == 0 }

// All yields every non-empty scope of s in order. Scopes are not
// de-duplicated.
func (s Set) All() iter.Seq[string] {
	return func(yield func(string) bool) {
		s.each(yield)
	}
}

// cut returns the first space-delimited token of s and the rest after its
// space. The token is empty for a leading space.
func cut(s string) (tok, rest string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// each calls yield for every scope; it reports false when yield stopped it.
// The matchers (Contains, Hierarchical.HasScope) repeat its three loops
// rather than pass it a closure, so that the per-scope work is a direct
// call: matching runs on every request.
func (s Set) each(yield func(string) bool) bool {
	for rest := s.str; rest != ""; {
		var tok string
		tok, rest = cut(rest)
		if tok != "" && !yield(tok) {
			return false
		}
	}
	for _, tok := range s.list {
		if tok != "" && !yield(tok) {
			return false
		}
	}
	for _, v := range s.anys {
		if tok, ok := v.(string); ok && tok != "" && !yield(tok) {
			return false
		}
	}
	return true
}

// Contains reports whether scope appears verbatim in s. The empty scope is
// never contained.
func (s Set) Contains(scope string) bool {
	if scope == "" {
		return false
	}
	for rest := s.str; rest != ""; {
		var tok string
		tok, rest = cut(rest)
		if tok == scope {
			return true
		}
	}
	for _, tok := range s.list {
		if tok == scope {
			return true
		}
	}
	for _, v := range s.anys {
		if tok, ok := v.(string); ok && tok == scope {
			return true
		}
	}
	return false
}

// Strings returns the scopes of s as a new slice.
func (s Set) Strings() []string {
	var out []string
	s.each(func(tok string) bool {
		out = append(out, tok)
		return true
	})
	return out
}

// String returns the scopes of s joined by single spaces.
func (s Set) String() string { return strings.Join(s.Strings(), " ") }

// Check reports whether scope is a well-formed scope token to require: not
// empty, at most [MaxLength] bytes, and made only of the characters RFC 6749
// §3.3 allows (printable ASCII except space, '"' and '\').
func Check(scope string) error {
	switch {
	case scope == "":
		return fmt.Errorf("scopes: empty scope")
	case len(scope) > MaxLength:
		return fmt.Errorf("scopes: scope of %d bytes is longer than %d", len(scope), MaxLength)
	}
	for i := 0; i < len(scope); i++ {
		if !isScopeChar(scope[i]) {
			return fmt.Errorf("scopes: scope %q has the invalid character %q at byte %d", scope, scope[i], i)
		}
	}
	return nil
}

// wellFormed is Check without the error value, for granted scopes on the
// request path.
func wellFormed(scope string) bool {
	if scope == "" || len(scope) > MaxLength {
		return false
	}
	for i := 0; i < len(scope); i++ {
		if !isScopeChar(scope[i]) {
			return false
		}
	}
	return true
}

// isScopeChar reports whether c is allowed in a scope-token:
// %x21 / %x23-5B / %x5D-7E.
func isScopeChar(c byte) bool {
	return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)
}

// Simple is a [Validator] that grants a required scope only when it appears
// verbatim among the granted scopes. No structure is assumed. The zero value
// is ready to use.
type Simple struct{}

// HasScope reports whether required appears verbatim in granted.
func (Simple) HasScope(required string, granted Set) bool {
	return required != "" && granted.Contains(required)
}

// Wildcard is the resource or action that grants every resource or action in
// a granted [Hierarchical] scope.
const Wildcard = "*"

// DefaultHierarchy is the action hierarchy of [NewHierarchical] when it is
// given none: edit implies read, and * implies both (the wildcard implies
// every action in any case).
func DefaultHierarchy() map[string][]string {
	return map[string][]string{
		"read":   nil,
		"edit":   {"read"},
		Wildcard: {"read", "edit"},
	}
}

// Hierarchical is the default [Validator]. It reads a scope as
// resource:action, split at its last colon, and grants a required scope R:A
// when some granted scope r:a has
//
//   - r equal to R, or r the wildcard "*" (so *:read grants read everywhere), and
//   - a equal to A, or a the wildcard "*" (so items:* grants every action on
//     items), or a implying A in the action hierarchy (by default edit
//     implies read).
//
// The hierarchy is transitive: if admin implies write and write implies read,
// admin implies read. Wildcards count only in granted scopes; a required
// items:* is satisfied only by a granted items:* or *:*. A scope without a
// colon is matched verbatim. Granted scopes that are malformed (see [Check])
// match nothing. Matching is case-sensitive and does not allocate.
//
// Build one with [NewHierarchical]; the zero value uses [DefaultHierarchy].
// A Hierarchical is safe for concurrent use.
type Hierarchical struct {
	// grantedBy maps an action to every action that grants it, itself
	// included. Actions absent from the map are granted only by themselves
	// and the wildcard.
	grantedBy map[string][]string
}

var defaultHierarchical = NewHierarchical(nil)

// NewHierarchical returns a [Hierarchical] validator with the given action
// hierarchy, which maps each action to the actions it implies. A nil
// hierarchy means [DefaultHierarchy]. The map is read once; later changes to
// it have no effect. NewHierarchical panics if an action is empty or contains
// a colon or a character outside the scope-token grammar, since such a
// hierarchy can never match and is a programming error.
func NewHierarchical(hierarchy map[string][]string) *Hierarchical {
	if hierarchy == nil {
		hierarchy = DefaultHierarchy()
	}
	check := func(action string) {
		if err := Check(action); err != nil || strings.Contains(action, ":") {
			panic(fmt.Sprintf("scopes: invalid action %q in hierarchy", action))
		}
	}
	// implied[a] is the transitive closure of what a implies.
	implied := make(map[string]map[string]bool, len(hierarchy))
	var visit func(a string, seen map[string]bool)
	visit = func(a string, seen map[string]bool) {
		for _, b := range hierarchy[a] {
			if !seen[b] {
				seen[b] = true
				visit(b, seen)
			}
		}
	}
	for a, bs := range hierarchy {
		check(a)
		for _, b := range bs {
			check(b)
		}
		seen := map[string]bool{}
		visit(a, seen)
		implied[a] = seen
	}
	grantedBy := make(map[string][]string)
	for a, set := range implied {
		for b := range set {
			if b != a {
				grantedBy[b] = append(grantedBy[b], a)
			}
		}
	}
	for b, as := range grantedBy {
		grantedBy[b] = append(as, b)
	}
	return &Hierarchical{grantedBy: grantedBy}
}

// HasScope reports whether granted satisfies required under h's rules.
func (h *Hierarchical) HasScope(required string, granted Set) bool {
	if h == nil || h.grantedBy == nil {
		h = defaultHierarchical
	}
	res, act, structured := split(required)
	if !structured {
		return required != "" && granted.Contains(required)
	}
	grantors := h.grantedBy[act]
	for rest := granted.str; rest != ""; {
		var g string
		g, rest = cut(rest)
		if g != "" && grants(g, required, res, act, grantors) {
			return true
		}
	}
	for _, g := range granted.list {
		if g != "" && grants(g, required, res, act, grantors) {
			return true
		}
	}
	for _, v := range granted.anys {
		if g, ok := v.(string); ok && g != "" && grants(g, required, res, act, grantors) {
			return true
		}
	}
	return false
}

// grants reports whether the granted scope g satisfies required = res:act.
// It is split(g) compared with res and act, written so that a granted scope
// of another resource is rejected by a prefix comparison, without scanning
// it for its last colon.
func grants(g, required, res, act string, grantors []string) bool {
	if g == required {
		return true
	}
	var gact string
	switch {
	case len(g) > len(res) && g[len(res)] == ':' && g[:len(res)] == res:
		gact = g[len(res)+1:]
	case len(g) > len(Wildcard) && g[len(Wildcard)] == ':' && g[:len(Wildcard)] == Wildcard:
		gact = g[len(Wildcard)+1:]
	default:
		return false
	}
	if gact == "" || strings.IndexByte(gact, ':') >= 0 {
		return false // the resource of g is longer than res or *
	}
	ok := gact == act || gact == Wildcard
	for i := 0; !ok && i < len(grantors); i++ {
		ok = grantors[i] == gact
	}
	// Checked last, and only for a scope that would grant: most granted
	// scopes name another resource and are rejected above at less cost.
	return ok && wellFormed(g)
}

// split cuts scope at its last colon. structured is false when there is no
// colon or either side is empty.
func split(scope string) (resource, action string, structured bool) {
	i := strings.LastIndexByte(scope, ':')
	if i <= 0 || i == len(scope)-1 {
		return "", "", false
	}
	return scope[:i], scope[i+1:], true
}

var (
	_ Validator = Simple{}
	_ Validator = (*Hierarchical)(nil)
	_ Validator = Func(nil)
)
