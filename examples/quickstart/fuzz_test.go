package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

// FuzzBodies sends arbitrary bodies and content types to the two handlers
// that parse JSON: POST /token (route 0) and POST /reports (route 1). They
// must answer 2xx or a 4xx problem, never a 5xx, and a token they issue must
// verify and carry a well-formed sub and scope.
func FuzzBodies(f *testing.F) {
	for _, seed := range []struct {
		route       uint8
		contentType string
		body        string
	}{
		{0, "application/json", `{"sub":"alice","scope":"reports:read reports:write"}`},
		{0, "application/json", `{"sub":"alice"}`},
		{0, "", `{"sub":"alice","scope":"  a  b "}`},
		{0, "application/json", `{"sub":"al\u0000ice"}`},
		{0, "application/json", `{"sub":"\ud800"}`},
		{0, "application/json", `{"sub":"alice","scope":"\"x"}`},
		{0, "application/json", `{"sub":"alice"}{}`},
		{0, "text/plain", `{"sub":"alice"}`},
		{0, "application/json", `null`},
		{0, "application/json", `[]`},
		{1, "application/json", `{"title":"Q3"}`},
		{1, "application/json", `{"title":""}`},
		{1, "application/json; charset=utf-8", `{"title":"é"}`},
		{1, "application/json", `{"title":"` + strings.Repeat("x", 300) + `"}`},
		{1, "application/json", `{"title":1}`},
	} {
		f.Add(seed.route, seed.contentType, seed.body)
	}
	const base = "http://quickstart.test"
	tokens, err := embeddedIssuer(base)
	if err != nil {
		f.Fatal(err)
	}
	s := &server{tokens: tokens, issues: true, audience: base, reports: newStore()}
	h := s.routes()
	writer, err := tokens.Encode(auth.Claims{"sub": "fuzz", "aud": base, "scope": "reports:read reports:write"}, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route uint8, contentType, body string) {
		path := "/token"
		if route%2 == 1 {
			path = "/reports"
		}
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if path == "/reports" {
			r.Header.Set("Authorization", "Bearer "+writer)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK, http.StatusCreated:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("status %d with Content-Type %q; want problem+json", w.Code, ct)
			}
			return
		default:
			t.Fatalf("status %d for %q %q: %s", w.Code, contentType, body, w.Body)
		}
		if path == "/reports" {
			return
		}
		tok := w.Body.String()
		start := strings.Index(tok, `"access_token":"`) + len(`"access_token":"`)
		end := strings.Index(tok[start:], `"`)
		claims, err := tokens.Verify(t.Context(), tok[start:start+end])
		if err != nil {
			t.Fatalf("issued token does not verify: %v", err)
		}
		sub, _ := claims["sub"].(string)
		if sub == "" || len(sub) > 255 || !utf8.ValidString(sub) {
			t.Fatalf("issued sub %q", sub)
		}
		for sc := range auth.ClaimsScopes(claims).All() {
			if err := scopes.Check(sc); err != nil {
				t.Fatalf("issued scope: %v", err)
			}
		}
	})
}
