package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/typedauth/auth"
)

// rawAuth accepts the credential "good" from the scheme it is given.
func rawAuth(scheme auth.Scheme) *auth.Auth[auth.Claims] {
	return auth.New(scheme, func(_ context.Context, raw string) (auth.Claims, error) {
		if raw != "good" {
			return nil, auth.Unauthorized("Unknown token")
		}
		return auth.Claims{"sub": "alice"}, nil
	})
}

// Query reads the raw query string: a credential that url.ParseQuery would
// drop is a malformed request, never an absent one, through Guard and
// Optional alike.
func TestQueryScansTheRawQuery(t *testing.T) {
	t.Parallel()
	a := rawAuth(auth.Query("access_token"))
	const (
		unreadable = "The query string cannot be read"
		twice      = "More than one access_token query parameter"
	)
	tests := []struct {
		name, query string
		wantStatus  int // of Guard; Optional gives the same except 418 for anonymous
		wantDetail  string
	}{
		{name: "good", query: "access_token=good", wantStatus: 200},
		{name: "escaped name", query: "access%5Ftoken=good", wantStatus: 200},
		{name: "plus is a space", query: "access_token=go+od", wantStatus: 401, wantDetail: "Unknown token"},
		{name: "other value unreadable", query: "q=%zz&access_token=good", wantStatus: 200},
		{name: "other pair with a semicolon", query: "a=1;b=2&access_token=good", wantStatus: 200},
		{name: "empty pairs", query: "&&access_token=good&", wantStatus: 200},
		{name: "absent", query: "q=1", wantStatus: 401, wantDetail: "Missing credentials"},
		{name: "empty value", query: "access_token=", wantStatus: 401, wantDetail: "Missing credentials"},
		{name: "good then unreadable", query: "access_token=good&access_token=%zz", wantStatus: 400, wantDetail: twice},
		{name: "unreadable then good", query: "access_token=%zz&access_token=good", wantStatus: 400, wantDetail: unreadable},
		{name: "unreadable alone", query: "access_token=%zz", wantStatus: 400, wantDetail: unreadable},
		{name: "good twice", query: "access_token=good&access_token=good", wantStatus: 400, wantDetail: twice},
		{name: "escaped name repeats", query: "access_token=good&access%5ftoken=other", wantStatus: 400, wantDetail: twice},
		{name: "semicolon after", query: "access_token=good;x=1", wantStatus: 400, wantDetail: unreadable},
		{name: "semicolon before", query: "x=1;access_token=good", wantStatus: 400, wantDetail: unreadable},
		{name: "unreadable name", query: "%zz=1&access_token=good", wantStatus: 400, wantDetail: unreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.URL.RawQuery = tt.query
			for _, optional := range []bool{false, true} {
				h, status := a.Guard(subHandler), tt.wantStatus
				if optional {
					h = a.Optional(subHandler)
					if tt.wantDetail == "Missing credentials" {
						status = http.StatusTeapot // subHandler: served with no principal
					}
				}
				rec := serve(t, h, r)
				switch {
				case status == http.StatusOK:
					if rec.Code != http.StatusOK || rec.Body.String() != "alice" {
						t.Errorf("optional=%v: got %d %q; want 200 alice", optional, rec.Code, rec.Body)
					}
				case status == http.StatusTeapot:
					if rec.Code != status {
						t.Errorf("optional=%v: got %d; want the handler without a principal", optional, rec.Code)
					}
				default:
					checkProblem(t, rec, status, tt.wantDetail)
				}
			}
			if tt.wantStatus == http.StatusBadRequest {
				_, err := a.Authenticate(r)
				if !errors.Is(err, auth.ErrMalformedRequest) {
					t.Errorf("Authenticate error %v; want ErrMalformedRequest", err)
				}
			}
		})
	}
}

// Cookie reads the raw Cookie headers: a credential that net/http's cookie
// parser would drop is a malformed request, and a credential among more
// cookies than that parser reads is still found.
func TestCookieScansTheRawHeader(t *testing.T) {
	t.Parallel()
	a := rawAuth(auth.Cookie("session"))
	const (
		unreadable = "The session cookie cannot be read"
		twice      = "More than one session cookie"
	)
	many := strings.Repeat("c=1; ", 3000)
	tests := []struct {
		name       string
		lines      []string
		wantStatus int
		wantDetail string
	}{
		{name: "good", lines: []string{"theme=dark; session=good"}, wantStatus: 200},
		{name: "quoted", lines: []string{`session="good"`}, wantStatus: 200},
		{name: "spaces around", lines: []string{"  theme=dark ;  session=good  "}, wantStatus: 200},
		{name: "other cookie unreadable", lines: []string{`theme=da"rk; session=good`}, wantStatus: 200},
		{name: "second header line", lines: []string{"theme=dark", "session=good"}, wantStatus: 200},
		{name: "after 3000 cookies", lines: []string{many + "session=good"}, wantStatus: 200},
		{name: "name is case-sensitive", lines: []string{"Session=good"}, wantStatus: 401, wantDetail: "Missing credentials"},
		{name: "absent", lines: []string{"theme=dark"}, wantStatus: 401, wantDetail: "Missing credentials"},
		{name: "empty value", lines: []string{"session="}, wantStatus: 401, wantDetail: "Missing credentials"},
		{name: "twice", lines: []string{"session=good; session=good"}, wantStatus: 400, wantDetail: twice},
		{name: "twice across lines", lines: []string{"session=good", "session=other"}, wantStatus: 400, wantDetail: twice},
		{name: "twice after 3000 cookies", lines: []string{many + "session=good; session=evil"}, wantStatus: 400, wantDetail: twice},
		{name: "good then unreadable", lines: []string{`session=good; session=ev"il`}, wantStatus: 400, wantDetail: twice},
		{name: "quote inside", lines: []string{`session=go"od`}, wantStatus: 400, wantDetail: unreadable},
		{name: "backslash", lines: []string{`session=go\od`}, wantStatus: 400, wantDetail: unreadable},
		{name: "control byte", lines: []string{"session=go\x01od"}, wantStatus: 400, wantDetail: unreadable},
		{name: "non-ASCII", lines: []string{"session=göod"}, wantStatus: 400, wantDetail: unreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Cookie"] = tt.lines
			for _, optional := range []bool{false, true} {
				h, status := a.Guard(subHandler), tt.wantStatus
				if optional {
					h = a.Optional(subHandler)
					if tt.wantDetail == "Missing credentials" {
						status = http.StatusTeapot
					}
				}
				rec := serve(t, h, r)
				switch status {
				case http.StatusOK:
					if rec.Code != http.StatusOK || rec.Body.String() != "alice" {
						t.Errorf("optional=%v: got %d %q; want 200 alice", optional, rec.Code, rec.Body)
					}
				case http.StatusTeapot:
					if rec.Code != status {
						t.Errorf("optional=%v: got %d; want the handler without a principal", optional, rec.Code)
					}
				default:
					checkProblem(t, rec, status, tt.wantDetail)
				}
			}
		})
	}
}

// Names are literals: an empty or invalid one is a programming error and
// panics at construction, as Requires does for a bad scope.
func TestSchemeNamesAreChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		build   func() auth.Scheme
		wantMsg string
	}{
		{name: "empty header", build: func() auth.Scheme { return auth.Header("") }, wantMsg: `auth: Header(""): not a valid header name`},
		{name: "header with a space", build: func() auth.Scheme { return auth.Header("X Api Key") }, wantMsg: `auth: Header("X Api Key"): not a valid header name`},
		{name: "header with a colon", build: func() auth.Scheme { return auth.Header("X-Key:") }, wantMsg: `auth: Header("X-Key:"): not a valid header name`},
		{name: "empty cookie", build: func() auth.Scheme { return auth.Cookie("") }, wantMsg: `auth: Cookie(""): not a valid cookie name`},
		{name: "cookie with =", build: func() auth.Scheme { return auth.Cookie("a=b") }, wantMsg: `auth: Cookie("a=b"): not a valid cookie name`},
		{name: "cookie with ;", build: func() auth.Scheme { return auth.Cookie("a;b") }, wantMsg: `auth: Cookie("a;b"): not a valid cookie name`},
		{name: "empty query", build: func() auth.Scheme { return auth.Query("") }, wantMsg: `auth: Query(""): empty parameter name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if msg := panicMessage(t, func() { tt.build() }); msg != tt.wantMsg {
				t.Errorf("panic %q; want %q", msg, tt.wantMsg)
			}
		})
	}
}

// FuzzQuery checks Query against url.ParseQuery: whatever Query accepts,
// net/url reads the same way, and whatever net/url reads without any error
// Query accepts too.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{
		"access_token=good", "access_token=good&access_token=%zz", "access_token=%zz", "a=1;access_token=x",
		"access_token=x;a", "%zz=1&access_token=x", "access%5Ftoken=x", "access_token=a+b%2Fc", "&&", "=x", "access_token",
	} {
		f.Add(q)
	}
	scheme := auth.Query("access_token")
	f.Fuzz(func(t *testing.T, query string) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/", RawQuery: query}, Header: http.Header{}}
		got, err := scheme.Credential(r)
		values, perr := url.ParseQuery(query)
		if err != nil {
			if got != "" || !errors.Is(err, auth.ErrMalformedRequest) || auth.StatusOf(err) != http.StatusBadRequest {
				t.Fatalf("Query(%q) = %q, %v; want \"\" and a 400 ErrMalformedRequest", query, got, err)
			}
			if perr == nil && len(values["access_token"]) <= 1 {
				t.Fatalf("Query(%q) failed with %v although url.ParseQuery reads it cleanly: %q", query, err, values)
			}
			return
		}
		want := values["access_token"]
		switch {
		case len(want) > 1:
			t.Fatalf("Query(%q) = %q; url.ParseQuery reads %q", query, got, want)
		case len(want) == 1 && want[0] != got, len(want) == 0 && got != "":
			t.Fatalf("Query(%q) = %q; url.ParseQuery reads %q", query, got, want)
		}
	})
}

// FuzzCookie checks Cookie against net/http's parser: whatever Cookie
// accepts, net/http reads the same way; when Cookie finds no credential,
// net/http finds none either. (Cookie refuses some headers that net/http
// reads, such as one holding a second, unreadable cookie of the name.)
func FuzzCookie(f *testing.F) {
	for _, c := range []string{
		"session=good", "theme=dark; session=good", `session="good"`, "session=a; session=b", `session=go"od`,
		"session=go\\od", " session = x ", "session", "Session=x", "session=\x01", "session=a=b",
	} {
		f.Add(c, "")
	}
	f.Add("session=a", "session=b")
	scheme := auth.Cookie("session")
	f.Fuzz(func(t *testing.T, line, second string) {
		h := http.Header{"Cookie": {line}}
		if second != "" {
			h["Cookie"] = append(h["Cookie"], second)
		}
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}, Header: h}
		got, err := scheme.Credential(r)
		parsed := r.CookiesNamed("session")
		if strings.Count(line+";"+second, ";") >= 3000 {
			return // net/http reads no cookie at all past its limit
		}
		if err != nil {
			if got != "" || !errors.Is(err, auth.ErrMalformedRequest) || auth.StatusOf(err) != http.StatusBadRequest {
				t.Fatalf("Cookie(%q) = %q, %v; want \"\" and a 400 ErrMalformedRequest", h["Cookie"], got, err)
			}
			return
		}
		switch {
		case len(parsed) > 1:
			t.Fatalf("Cookie(%q) = %q; net/http reads %d cookies of the name", h["Cookie"], got, len(parsed))
		case len(parsed) == 1 && parsed[0].Value != got:
			t.Fatalf("Cookie(%q) = %q; net/http reads %q", h["Cookie"], got, parsed[0].Value)
		case len(parsed) == 0 && got != "":
			t.Fatalf("Cookie(%q) = %q; net/http reads none", h["Cookie"], got)
		}
	})
}
