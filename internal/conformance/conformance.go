package conformance

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// header is one request header line; a case may send the same name twice.
type header struct{ name, value string }

// want is the exact response a case expects: status, header lines (all but
// Date) and body.
type want struct {
	status int
	header http.Header
	body   string
}

// tc is one case of the table.
type tc struct {
	name    string
	method  string
	path    string
	headers []header
	want    want
}

func bearer(token string) []header {
	return []header{{name: "Authorization", value: "Bearer " + token}}
}

func authz(v string) []header { return []header{{name: "Authorization", value: v}} }

func key(v string) []header { return []header{{name: "X-Api-Key", value: v}} }

// ok is a successful reply of a handler.
func ok(status int, body string) want {
	return want{status: status, body: body, header: http.Header{
		"Content-Type":   {ContentType},
		"Content-Length": {strconv.Itoa(len(body))},
	}}
}

// problem is a response written by the library: RFC 9457 problem details
// and the WWW-Authenticate lines given.
func problem(status int, detail string, challenges ...string) want {
	body := fmt.Sprintf(`{"type":"about:blank","title":%q,"status":%d,"detail":%q}`, http.StatusText(status), status, detail)
	h := http.Header{
		"Content-Type":           {"application/problem+json"},
		"Content-Length":         {strconv.Itoa(len(body))},
		"Cache-Control":          {"no-store"},
		"X-Content-Type-Options": {"nosniff"},
	}
	if len(challenges) > 0 {
		h["Www-Authenticate"] = challenges
	}
	return want{status: status, header: h, body: body}
}

func invalidToken(detail string) want {
	return problem(http.StatusUnauthorized, detail, `Bearer error="invalid_token", error_description="`+detail+`"`)
}

func invalidRequest(detail string) want {
	return problem(http.StatusBadRequest, detail, `Bearer error="invalid_request", error_description="`+detail+`"`)
}

func missingScope(scope string) want {
	return problem(http.StatusForbidden, "Token is missing required scope: "+scope, `Bearer error="insufficient_scope", scope="`+scope+`"`)
}

var (
	noBearer = problem(http.StatusUnauthorized, "Missing credentials", "Bearer")
	badKey   = problem(http.StatusUnauthorized, "Invalid API Key", "APIKey")
	internal = problem(http.StatusInternalServerError, "Internal Server Error")
)

// cases returns the table. Every stack must answer each case exactly.
func cases() []tc {
	long := strings.Repeat("a", 16<<10+1)
	return []tc{
		// Routes outside any guard stay open, whatever the request carries.
		{name: "public/no credential", method: "GET", path: "/public", want: ok(200, "public")},
		{name: "public/invalid token ignored", method: "GET", path: "/public", headers: bearer("t-nobody"), want: ok(200, "public")},
		{name: "public/malformed header ignored", method: "GET", path: "/public", headers: authz("Bearer a b"), want: ok(200, "public")},

		// Reading the Authorization header (RFC 6750 §2.1, §3.1).
		{name: "me/no credential", method: "GET", path: "/me", want: noBearer},
		{name: "me/basic scheme", method: "GET", path: "/me", headers: authz("Basic x"), want: noBearer},
		{name: "me/lower-case scheme", method: "GET", path: "/me", headers: authz("bearer t-alice"), want: ok(200, "me u-1 Alice")},
		{name: "me/valid token", method: "GET", path: "/me", headers: bearer("t-alice"), want: ok(200, "me u-1 Alice")},
		{name: "me/bearer alone", method: "GET", path: "/me", headers: authz("Bearer"), want: invalidRequest("No token after the scheme name")},
		{name: "me/two tokens", method: "GET", path: "/me", headers: authz("Bearer a b"), want: invalidRequest("The token is not a single token68 value")},
		{name: "me/token outside token68", method: "GET", path: "/me", headers: authz("Bearer t-alice:x"), want: invalidRequest("The token is not a single token68 value")},
		{name: "me/empty header", method: "GET", path: "/me", headers: authz(""), want: invalidRequest("Empty Authorization header")},
		{name: "me/two authorization headers", method: "GET", path: "/me",
			headers: []header{{name: "Authorization", value: "Bearer t-alice"}, {name: "Authorization", value: "Bearer t-bob"}},
			want:    invalidRequest("More than one Authorization header")},
		{name: "me/unknown token", method: "GET", path: "/me", headers: bearer("t-nobody"), want: invalidToken("Invalid credentials")},
		{name: "me/expired token", method: "GET", path: "/me", headers: bearer("t-expired"), want: invalidToken("Token has expired")},
		{name: "me/token too long", method: "GET", path: "/me", headers: bearer(long), want: invalidToken("Credential is too long")},
		{name: "me/verifier unavailable", method: "GET", path: "/me", headers: bearer("t-unavailable"), want: problem(http.StatusServiceUnavailable, "Token service unavailable")},
		{name: "me/unknown user", method: "GET", path: "/me", headers: bearer("t-mallory"), want: invalidToken("Unknown user")},
		{name: "me/user store down", method: "GET", path: "/me", headers: bearer("t-broken"), want: internal},

		// The typed handler form and the principals of every stage.
		{name: "typed/valid token", method: "GET", path: "/typed", headers: bearer("t-bob"), want: ok(200, "typed u-2 Bob")},
		{name: "typed/no credential", method: "GET", path: "/typed", want: noBearer},
		{name: "typed/unknown user", method: "GET", path: "/typed", headers: bearer("t-mallory"), want: invalidToken("Unknown user")},
		{name: "typed/user store down", method: "GET", path: "/typed", headers: bearer("t-broken"), want: internal},
		{name: "stages/claims and user", method: "GET", path: "/stages", headers: bearer("t-carol"), want: ok(200, "stages carol Carol")},
		{name: "stages/no credential", method: "GET", path: "/stages", want: noBearer},

		// Optional: anonymous without a credential, rejected with a bad one.
		{name: "feed/anonymous", method: "GET", path: "/feed", want: ok(200, "feed anonymous")},
		{name: "feed/other scheme is anonymous", method: "GET", path: "/feed", headers: authz("Basic x"), want: ok(200, "feed anonymous")},
		{name: "feed/valid token", method: "GET", path: "/feed", headers: bearer("t-dave"), want: ok(200, "feed Dave")},
		{name: "feed/invalid token", method: "GET", path: "/feed", headers: bearer("t-nobody"), want: invalidToken("Invalid credentials")},
		{name: "feed/malformed header", method: "GET", path: "/feed", headers: authz("Bearer"), want: invalidRequest("No token after the scheme name")},
		{name: "feed/unknown user", method: "GET", path: "/feed", headers: bearer("t-mallory"), want: invalidToken("Unknown user")},
		{name: "feed/user store down", method: "GET", path: "/feed", headers: bearer("t-broken"), want: internal},

		// Scopes.
		{name: "reports/no credential", method: "GET", path: "/reports", want: noBearer},
		{name: "reports/lacking scope", method: "GET", path: "/reports", headers: bearer("t-alice"), want: missingScope("reports:read")},
		{name: "reports/with scope", method: "GET", path: "/reports", headers: bearer("t-bob"), want: ok(200, "reports bob")},
		{name: "reports/invalid token", method: "GET", path: "/reports", headers: bearer("t-nobody"), want: invalidToken("Invalid credentials")},

		// API keys.
		{name: "service/no key", method: "GET", path: "/service", want: badKey},
		{name: "service/empty key", method: "GET", path: "/service", headers: key(""), want: badKey},
		{name: "service/wrong key", method: "GET", path: "/service", headers: key("key-billing-7f3a9d"), want: badKey},
		{name: "service/bearer token instead", method: "GET", path: "/service", headers: bearer("t-alice"), want: badKey},
		{name: "service/valid key", method: "GET", path: "/service", headers: key(APIKey), want: ok(200, "service billing")},
		{name: "service/two keys", method: "GET", path: "/service",
			headers: []header{{name: "X-Api-Key", value: APIKey}, {name: "X-Api-Key", value: APIKey}},
			want:    problem(http.StatusBadRequest, "More than one X-Api-Key header", "APIKey")},

		// A token or an API key.
		{name: "whoami/no credential", method: "GET", path: "/whoami", want: problem(http.StatusUnauthorized, "Missing credentials", "Bearer", "APIKey")},
		{name: "whoami/token", method: "GET", path: "/whoami", headers: bearer("t-alice"), want: ok(200, "me u-1 Alice")},
		{name: "whoami/key", method: "GET", path: "/whoami", headers: key(APIKey), want: ok(200, "me svc-billing billing")},
		{name: "whoami/wrong key", method: "GET", path: "/whoami", headers: key("nope"), want: badKey},
		{name: "whoami/invalid token", method: "GET", path: "/whoami", headers: bearer("t-nobody"), want: invalidToken("Invalid credentials")},

		// One guard for every route under /items.
		{name: "items/list no credential", method: "GET", path: "/items", want: noBearer},
		{name: "items/item no credential", method: "GET", path: "/items/42", want: noBearer},
		{name: "items/create no credential", method: "POST", path: "/items", want: noBearer},
		{name: "items/list lacking scope", method: "GET", path: "/items", headers: bearer("t-alice"), want: missingScope("items:read")},
		{name: "items/item lacking scope", method: "GET", path: "/items/42", headers: bearer("t-bob"), want: missingScope("items:read")},
		{name: "items/create lacking scope", method: "POST", path: "/items", headers: bearer("t-alice"), want: missingScope("items:read")},
		{name: "items/list with scope", method: "GET", path: "/items", headers: bearer("t-carol"), want: ok(200, "items carol")},
		{name: "items/item with scope", method: "GET", path: "/items/42", headers: bearer("t-carol"), want: ok(200, "item 42 carol")},
		{name: "items/create with scope", method: "POST", path: "/items", headers: bearer("t-carol"), want: ok(201, "created by carol")},
		{name: "items/read implied by edit", method: "GET", path: "/items/7", headers: bearer("t-dave"), want: ok(200, "item 7 dave")},
		{name: "items/malformed header", method: "GET", path: "/items/7", headers: authz("Bearer a b"), want: invalidRequest("The token is not a single token68 value")},
	}
}

// Run serves the table's routes with the handler that newServer builds from
// a fresh [Stack] on a loopback test server and checks every case: status,
// every response header line but Date, and the exact body.
func Run(t *testing.T, newServer func(s *Stack) http.Handler) {
	t.Helper()
	srv := httptest.NewServer(newServer(NewStack()))
	t.Cleanup(srv.Close)
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(c.method, srv.URL+c.path, nil)
			if err != nil {
				t.Fatalf("http.NewRequest: %v", err)
			}
			for _, h := range c.headers {
				req.Header.Add(h.name, h.value)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", c.method, c.path, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("%s %s: reading body: %v", c.method, c.path, err)
			}
			got := resp.Header.Clone()
			got.Del("Date")
			check(t, c, resp.StatusCode, got, string(body))
		})
	}
}

func check(t testing.TB, c tc, status int, h http.Header, body string) {
	t.Helper()
	if status != c.want.status {
		t.Errorf("%s %s: status = %d; want %d", c.method, c.path, status, c.want.status)
	}
	if !equalHeader(h, c.want.header) {
		t.Errorf("%s %s: header =\n%s; want\n%s", c.method, c.path, formatHeader(h), formatHeader(c.want.header))
	}
	if body != c.want.body {
		t.Errorf("%s %s: body = %q; want %q", c.method, c.path, body, c.want.body)
	}
}

func equalHeader(a, b http.Header) bool {
	return maps.EqualFunc(a, b, slices.Equal[[]string])
}

func formatHeader(h http.Header) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "\t%s: %q\n", k, v)
		}
	}
	return b.String()
}
