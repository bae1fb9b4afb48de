package auth0_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/validator"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/auth0"
	"github.com/typedauth/auth/jwt"
)

// FuzzVerify sends arbitrary credentials through a guarded handler of a
// working tenant. Whatever the credential, the answer is 200 only for the
// valid seed token, otherwise 400 or 401 with one of the fixed details:
// never a 5xx, never a panic, never the input echoed.
func FuzzVerify(f *testing.F) {
	tn := newTenant(f, false)
	h := routes(newAuth(f, tn, jwt.RemoteOptions{}))
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
		detailExpired: true, detailNoExpiry: true, detailNotValidYet: true, detailFuture: true,
		detailSignature: true, detailAudience: true, detailIssuer: true, detailHeader: true,
		detailMalformed: true, detailUnknownKey: true, detailAlgorithm: true,
		detailClaims: true, detailInvalid: true, "Missing credentials": true,
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

// FuzzClaims signs arbitrary payloads, so that they pass the signature
// check and reach the SDK's claim decoding and validation, CustomClaims and
// the principal. It signs with HS256 for an SDK validator built for it, as
// New takes: an RSA signature per input, with the instrumentation of
// fuzzing, would leave a few inputs a minute. A payload is accepted only if
// the claims handed to the handler are those that were validated: the
// tenant as issuer, the API among the audiences, an expiry in the future.
// Nothing yields a 5xx.
func FuzzClaims(f *testing.F) {
	secret := []byte("a secret of the fuzz target, 32+ bytes")
	v, err := validator.New(func(context.Context) (any, error) { return secret, nil }, validator.HS256,
		testIssuer, []string{testAudience}, validator.WithCustomClaims(auth0.CustomClaims))
	if err != nil {
		f.Fatal(err)
	}
	a := auth0.New(v)
	valid, err := json.Marshal(claims(nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":"https://api.example.com","exp":9999999999,"ISS":"x"}`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":"https://api.example.com","exp":9999999999,"iss":"x"}`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":["https://api.example.com",5],"exp":9999999999}`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":"https://api.example.com","exp":"9999999999"}`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":"https://api.example.com","exp":1e400}`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":"https://api.example.com","scope":5,"permissions":[1,"a"]}`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":"https://api.example.com","exp":9999999999,"permissions":"openid admin:write"}`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":"https://api.example.com","exp":9999999999,"scope":"a","scope":"admin:write"}`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":"https://api.example.com","exp":9999999999,"iſs":"https://evil.test/"}`))
	f.Add([]byte(`{"iss":"https://tenant.test/","aud":"https://api.example.com","exp":9999999999,"x":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		tok := mint(t, token{alg: "HS256", hmacKey: secret, payload: payload})
		var got auth.Claims
		h := a.Handler(func(w http.ResponseWriter, r *http.Request, c auth.Claims) { got = c })
		rec := serve(t, h, "/", "Bearer "+tok)
		switch rec.Code {
		case http.StatusOK:
		case http.StatusUnauthorized:
			return
		default:
			t.Fatalf("status %d for payload %q (body %s)", rec.Code, payload, rec.Body)
		}
		if got["iss"] != testIssuer {
			t.Fatalf("accepted payload %q with claims[iss] = %#v", payload, got["iss"])
		}
		if !hasAudience(got["aud"]) {
			t.Fatalf("accepted payload %q with claims[aud] = %#v", payload, got["aud"])
		}
		if exp, ok := got["exp"].(float64); !ok || exp < float64(time.Now().Unix()) {
			t.Fatalf("accepted payload %q with claims[exp] = %v in the past", payload, exp)
		}
		granted := auth0.Scopes(got).Strings()
		if perms, ok := got["permissions"].(string); ok && strings.Contains(perms, " ") {
			without := maps.Clone(got)
			delete(without, "permissions")
			if want := auth0.Scopes(without).Strings(); !slices.Equal(granted, want) {
				t.Fatalf("permissions string %q granted %q; want only the scope claim's %q", perms, granted, want)
			}
		}
	})
}

func hasAudience(aud any) bool {
	switch aud := aud.(type) {
	case string:
		return aud == testAudience
	case []any:
		for _, a := range aud {
			if a == testAudience {
				return true
			}
		}
	}
	return false
}
