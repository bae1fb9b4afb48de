package bench

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// A Subject is one way of serving the measured request: a middleware that
// takes the bearer token and a handler that reads sub and answers it.
//
// The handler of every subject answers 200 with sub as the body, 401 when
// the token is rejected and 403 when a required scope is missing.
type Subject struct {
	// Name is the benchmark sub-test name, such as "golang-jwt".
	Name string
	// Title is the name shown in BENCHMARKS.md, such as
	// "golang-jwt/jwt v5 (bare parser)".
	Title string
	// Notes says how the subject is configured: what it checks by itself
	// and what the handler had to add. It is printed in BENCHMARKS.md.
	Notes string
	// Base marks the ratio base, the bare golang-jwt parser: every ratio
	// is a subject's time over the base's time in the same group and run.
	Base bool
	// Lacks lists the checks the subject cannot be configured to perform.
	// The rejection test asserts that it indeed does not perform them (so
	// the mark stays true), and BENCHMARKS.md excludes the subject from
	// ratio claims.
	Lacks []Token
	// Unsupported returns why the subject cannot serve s, or "" when it
	// can. nil means it supports every scenario. Such cells are n/a.
	Unsupported func(s Scenario) string
	// Build returns the subject's handler for s. Key sets it downloads
	// live as long as ctx.
	Build func(ctx context.Context, e *Env, s Scenario) (http.Handler, error)
}

// Reason returns why sub cannot serve s, or "" when it can.
func (sub Subject) Reason(s Scenario) string {
	if sub.Unsupported == nil {
		return ""
	}
	return sub.Unsupported(s)
}

// Subjects returns every measured subject, the ratio base first. Adding a
// subject, such as a cached verifier, is one entry here.
func Subjects() []Subject {
	return []Subject{
		bare(),
		typedauthUncached(),
		typedauthCached(),
		typedauthTypedCached(),
		auth0Middleware(),
		chiJWTAuth(),
		echoJWT(),
		goOIDC(),
		floor(),
	}
}

// respond is the handler body shared by every subject: it answers sub.
func respond(w http.ResponseWriter, sub string) {
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, sub)
}

// answerClaims is the handler body of the subjects whose middleware hands
// the handler a claims map: the scope check a user adds when the
// middleware has none, then sub.
func answerClaims(w http.ResponseWriter, claims map[string]any, required []string) {
	if len(required) > 0 {
		if scope, _ := claims["scope"].(string); !hasScopes(scope, required) {
			deny(w, http.StatusForbidden)
			return
		}
	}
	sub, _ := claims["sub"].(string)
	respond(w, sub)
}

// deny answers a rejection by a middleware written here (the bare parser,
// go-oidc); the peers answer their own.
func deny(w http.ResponseWriter, status int) {
	http.Error(w, http.StatusText(status), status)
}

// hasScopes is the scope check a user adds to a handler when the
// middleware has none: every required scope must be one of the
// space-separated scopes of the scope claim (RFC 8693 §4.2), compared
// exactly. It is the semantics of typedauth's Requires for the plain scope
// names of these tokens.
func hasScopes(scope string, required []string) bool {
	if len(required) == 0 {
		return true
	}
	granted := strings.Fields(scope)
next:
	for _, r := range required {
		for _, g := range granted {
			if g == r {
				continue next
			}
		}
		return false
	}
	return true
}
