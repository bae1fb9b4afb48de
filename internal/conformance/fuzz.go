package conformance

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// fuzzRoutes are the routes that Fuzz sends requests to; "{id}" is replaced
// by a path segment drawn from the input.
var fuzzRoutes = []struct{ method, path string }{
	{method: "GET", path: "/public"},
	{method: "GET", path: "/me"},
	{method: "GET", path: "/typed"},
	{method: "GET", path: "/stages"},
	{method: "GET", path: "/feed"},
	{method: "GET", path: "/reports"},
	{method: "GET", path: "/service"},
	{method: "GET", path: "/whoami"},
	{method: "GET", path: "/items"},
	{method: "POST", path: "/items"},
	{method: "GET", path: "/items/{id}"},
}

// Fuzz is a differential fuzz target: it sends the same request, with an
// arbitrary Authorization header (sent twice when twice is set) and API key,
// to the server that newServer builds and to [NetHTTP], in process, and
// fails unless both answer with the same status, header lines and body (a
// Content-Length is checked against the body, then set aside). It
// also fails on a 5xx that the table's fake backends did not cause, since
// untrusted input must never yield one. The seed corpus is the table's own
// requests, so plain go test runs it.
func Fuzz(f *testing.F, newServer func(s *Stack) http.Handler) {
	f.Helper()
	for _, c := range cases() {
		route := 0
		for i, r := range fuzzRoutes {
			if r.method == c.method && (r.path == c.path || strings.HasPrefix(c.path, "/items/") && r.path == "/items/{id}") {
				route = i
			}
		}
		var authorization, apiKey string
		n := 0
		for _, h := range c.headers {
			switch h.name {
			case "Authorization":
				authorization = h.value
				n++
			case "X-Api-Key":
				apiKey = h.value
			}
		}
		f.Add(uint8(route), "42", authorization, apiKey, n > 1)
	}
	f.Add(uint8(1), "", "Bearer\tt-alice", "", false)
	f.Add(uint8(1), "", "\x00", "", false)
	f.Add(uint8(4), "", "Bearer t-alice\r\nX: y", "", false)
	f.Add(uint8(7), "", "", " "+APIKey+"\t", false)

	s := NewStack()
	ref, got := NetHTTP(s), newServer(s)
	f.Fuzz(func(t *testing.T, route uint8, id, authorization, apiKey string, twice bool) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.Replace(r.path, "{id}", segment(id), 1)
		newReq := func() *http.Request {
			req := httptest.NewRequest(r.method, path, nil)
			if authorization != "" || twice {
				req.Header["Authorization"] = []string{authorization}
				if twice {
					req.Header["Authorization"] = append(req.Header["Authorization"], authorization)
				}
			}
			if apiKey != "" {
				req.Header["X-Api-Key"] = []string{apiKey}
			}
			return req
		}
		want := httptest.NewRecorder()
		ref.ServeHTTP(want, newReq())
		rec := httptest.NewRecorder()
		got.ServeHTTP(rec, newReq())

		if rec.Code != want.Code {
			t.Errorf("%s %s: status = %d; net/http answers %d", r.method, path, rec.Code, want.Code)
		}
		// A router may state the Content-Length of a small reply that the
		// server would otherwise compute (Gin's c.Data does): compare it with
		// the body, then ignore it.
		for _, h := range []*httptest.ResponseRecorder{want, rec} {
			if n := h.Header().Get("Content-Length"); n != "" && n != strconv.Itoa(h.Body.Len()) {
				t.Errorf("%s %s: Content-Length %s for a body of %d bytes", r.method, path, n, h.Body.Len())
			}
			h.Header().Del("Content-Length")
		}
		if !equalHeader(rec.Header(), want.Header()) {
			t.Errorf("%s %s: header =\n%s; net/http answers\n%s", r.method, path, formatHeader(rec.Header()), formatHeader(want.Header()))
		}
		if rec.Body.String() != want.Body.String() {
			t.Errorf("%s %s: body = %q; net/http answers %q", r.method, path, rec.Body, want.Body)
		}
		if want.Code >= 500 && !strings.Contains(authorization, "t-broken") && !strings.Contains(authorization, "t-unavailable") {
			t.Errorf("%s %s with Authorization %q, X-Api-Key %q: status %d from untrusted input", r.method, path, authorization, apiKey, want.Code)
		}
	})
}

// segment turns s into a path segment that every router matches alike:
// lower-case letters and digits only, never empty.
func segment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 32; i++ {
		if c := s[i]; c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "0"
	}
	return b.String()
}
