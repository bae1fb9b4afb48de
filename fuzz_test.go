package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
)

// isToken68 is RFC 9110 §11.2 token68, written independently of the parser.
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for _, c := range []byte(body) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

func FuzzBearer(f *testing.F) {
	f.Add("Bearer alice-token", "", false)
	f.Add("bearer alice-token", "", false)
	f.Add("Bearer", "", false)
	f.Add("Bearer ", "", false)
	f.Add("Bearer a b", "", false)
	f.Add("Bearer a==", "", false)
	f.Add("Bearer =", "", false)
	f.Add("Basic Zm9vOmJhcg==", "", false)
	f.Add("Bearer alice-token", "Bearer bob-token", true)
	f.Add("", "", true)
	f.Add("\x00", "", false)
	f.Add(" \t Bearer \t x \t", "", false)
	f.Add("Bearer tök", "", false)
	f.Add("Bearer bob-token", "key-1", false)
	f.Add("To\u212Aen abc", "", false)
	f.Add("Bearer "+strings.Repeat("a", 100), "", false)

	base, _ := newTokenAuth(f)
	users := auth.Then(base.Requires("reports:read"), loadUser)
	keys := auth.Then(apikey.New(apikey.MustStatic(map[string]string{"bob": "key-1"})), func(_ context.Context, key apikey.Principal) (User, error) {
		return users0(key.Owner)
	})
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	guards := []http.Handler{
		base.Guard(ok),
		base.Optional(ok),
		users.Guard(ok),
		auth.AnyOf(users, keys).Guard(ok),
		auth.AnyOf(users, keys).Optional(ok),
	}
	f.Fuzz(func(t *testing.T, first, second string, two bool) {
		h := http.Header{}
		h["Authorization"] = []string{first}
		if two {
			h["Authorization"] = append(h["Authorization"], second)
		}
		r := &http.Request{Method: http.MethodGet, Header: h}

		tok, err := auth.Bearer().Credential(r)
		switch {
		case err != nil:
			if tok != "" {
				t.Errorf("Bearer returned %q with error %v", tok, err)
			}
			if !errors.Is(err, auth.ErrMalformedRequest) || auth.StatusOf(err) != http.StatusBadRequest {
				t.Errorf("Bearer error %v is not a 400 ErrMalformedRequest", err)
			}
		case tok != "":
			if two {
				t.Errorf("Bearer accepted %q from two headers", tok)
			}
			if !isToken68(tok) || strings.ContainsAny(tok, " \t") || !strings.Contains(first, tok) {
				t.Errorf("Bearer accepted %q from %q", tok, first)
			}
		}

		for i, g := range guards {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header = h.Clone()
			req.Header.Set("X-Api-Key", second)
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("guard %d: status %d for Authorization %q: %s", i, rec.Code, h["Authorization"], rec.Body)
			}
			if rec.Code >= 400 {
				var p problemBody
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code {
					t.Errorf("guard %d: body %q is not a problem for %d", i, rec.Body, rec.Code)
				}
				for _, v := range rec.Header().Values("WWW-Authenticate") {
					if err := checkChallengeSyntax(v); err != nil {
						t.Errorf("guard %d: WWW-Authenticate %q: %v", i, v, err)
					}
				}
			}
		}
	})
}

// users0 resolves an API key owner for FuzzBearer without failing.
func users0(owner string) (User, error) {
	if u, ok := users[owner]; ok {
		return u, nil
	}
	return User{}, auth.Unauthorized("Unknown user")
}

// checkChallengeSyntax checks that v is one RFC 9110 challenge as WriteError
// builds them: a token, then optional name="value" parameters separated by
// ", ", with no control character, quote or backslash inside a value.
func checkChallengeSyntax(v string) error {
	for _, c := range []byte(v) {
		if c < 0x20 || c == 0x7f {
			return errors.New("control character")
		}
	}
	scheme, params, _ := strings.Cut(v, " ")
	if scheme == "" || !isToken(scheme) {
		return errors.New("scheme is not a token")
	}
	for params != "" {
		name, rest, ok := strings.Cut(params, `="`)
		if !ok || !isToken(name) {
			return errors.New("parameter name is not a token")
		}
		end := strings.IndexByte(rest, '"')
		if end < 0 {
			return errors.New("unbalanced quote")
		}
		if strings.ContainsAny(rest[:end], `\`) {
			return errors.New("backslash in a quoted value")
		}
		params = rest[end+1:]
		if params != "" {
			var found bool
			if params, found = strings.CutPrefix(params, ", "); !found || params == "" {
				return errors.New("parameters are not separated by \", \"")
			}
		}
	}
	return nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func FuzzWriteError(f *testing.F) {
	f.Add(401, "Bearer", "", "Unknown token", "invalid_token", "", "")
	f.Add(403, "Bearer", "api", "Token is missing required scope: a:b", "insufficient_scope", "a:b c:d", "")
	f.Add(400, "Bearer", "", "bad \"quote\" \\ \r\n", "invalid_request", "", "")
	f.Add(401, "APIKey", "r\x00", "x", "", "", "")
	f.Add(401, "Bearer\r\nSet-Cookie: a=b", "\"", "\"", "\"", "\"", "")
	f.Add(500, "Bearer", "", "secret db password", "", "", "about:blank")
	f.Add(200, "", "", "ok?", "", "", "")
	f.Add(0, "Bearer", "é", "é", "é", "é", "https://example.com/p")
	f.Add(403, "DPoP", "", "no", "", "", "")
	f.Fuzz(func(t *testing.T, status int, scheme, realm, detail, code, scope, typ string) {
		e := &auth.Error{
			Status: status, Detail: detail, Code: code, Type: typ,
			Scope:      strings.Split(scope, " "),
			Challenges: []auth.Challenge{{Scheme: scheme, Realm: realm}, {Scheme: "Bearer", Realm: realm}},
		}
		rec := httptest.NewRecorder()
		auth.WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), e)

		if rec.Code < 400 || rec.Code > 599 {
			t.Fatalf("WriteError wrote status %d for %d", rec.Code, status)
		}
		if (status < 400 || status > 599) && rec.Code != 500 {
			t.Errorf("status %d written as %d; want 500", status, rec.Code)
		}
		var p problemBody
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("body %q: %v", rec.Body, err)
		}
		if p.Status != rec.Code || p.Title == "" && http.StatusText(rec.Code) != "" || p.Type == "" {
			t.Errorf("problem %+v for status %d", p, rec.Code)
		}
		if rec.Code == 500 && p.Detail != "Internal Server Error" {
			t.Errorf("500 carries the detail %q", p.Detail)
		}
		if rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("Content-Type = %q", rec.Header().Get("Content-Type"))
		}
		values := rec.Header().Values("WWW-Authenticate")
		if rec.Code != 400 && rec.Code != 401 && rec.Code != 403 && len(values) > 0 {
			t.Errorf("status %d has challenges %q", rec.Code, values)
		}
		for _, v := range values {
			if err := checkChallengeSyntax(v); err != nil {
				t.Errorf("WWW-Authenticate %q: %v", v, err)
			}
		}
	})
}
