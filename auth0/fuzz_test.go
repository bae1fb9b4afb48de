package auth0_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/typedauth/auth/auth0"
)

// FuzzVerify sends arbitrary credentials through a guarded handler of a
// working tenant. Whatever the credential, the answer is 200 only for the
// valid seed token, otherwise 400 or 401 with one of the fixed details:
// never a 5xx, never a panic, never the input echoed.
func FuzzVerify(f *testing.F) {
	tn := newTenant(f, false)
	h := routes(newAuth(f, tn))
	valid := mint(f, token{})
	f.Add(valid)
	f.Add(mint(f, token{key: testKeys()[1]}))
	f.Add(mint(f, token{kid: "other"}))
	f.Add(mint(f, token{alg: "none"}))
	f.Add(mint(f, token{payload: []byte(`{"aud":5}`)}))
	f.Add(mint(f, token{payload: []byte(`[]`)}))
	f.Add(tamper(f, valid))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJSUzI1NiIsImNyaXQiOjV9.e30.c2ln")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleS0xIiwiandrIjo1fQ.e30.c2ln")
	f.Add("....")
	f.Add("")
	f.Add(`{"payload":"e30","signatures":[]}`)
	details := map[string]bool{
		auth0.DetailExpired: true, auth0.DetailNotValidYet: true, auth0.DetailIssuedInFuture: true,
		auth0.DetailSignature: true, auth0.DetailAudience: true, auth0.DetailIssuer: true,
		auth0.DetailMalformed: true, auth0.DetailUnknownKey: true, auth0.DetailAlgorithm: true,
		auth0.DetailClaims: true, auth0.DetailInvalid: true, "Missing credentials": true,
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if strings.ContainsAny(tok, "\r\n\x00") {
			return // not sendable in a header
		}
		rec := serve(t, h, "/me", "Bearer "+tok)
		switch rec.Code {
		case http.StatusOK:
			if tok != valid {
				t.Fatalf("accepted %q", tok)
			}
			return
		case http.StatusBadRequest:
			return // the Bearer scheme rejected the header before verification
		case http.StatusUnauthorized:
		default:
			t.Fatalf("status %d for %q (body %s)", rec.Code, tok, rec.Body)
		}
		var p problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("body %q: %v", rec.Body, err)
		}
		if !details[p.Detail] {
			t.Fatalf("detail %q for %q is not a fixed text", p.Detail, tok)
		}
	})
}
