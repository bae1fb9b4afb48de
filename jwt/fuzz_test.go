package jwt_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// FuzzVerify feeds arbitrary strings to Verify. It must never panic, every
// rejection must be a 401 (or the 503 of a missing key set, impossible
// here), and any accepted token must carry a valid HMAC under the secret:
// only tokens the secret's holder signed can pass.
func FuzzVerify(f *testing.F) {
	cfg := hsConfig()
	cfg.IssuerURL = "https://example.com"
	cfg.Audience = []string{"api"}
	a, err := jwt.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	secret := cfg.Secret
	valid, err := a.Encode(auth.Claims{"sub": "user-1", "aud": []string{"api", "other"}, "scope": "items:read", "n": 1.5,
		"nested": map[string]any{"a": []any{1, "x", nil, true}}}, 0)
	if err != nil {
		f.Fatal(err)
	}
	h, p, s, _ := cut3(valid)
	f.Add(valid)
	f.Add(hs256(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600}`, secret))
	f.Add(hs256(`{"alg":"none"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600}`, secret))
	f.Add(hs256(`{"alg":"HS256","crit":["x"]}`, `{"iss":"https://example.com","aud":"api","exp":1700003600}`, secret))
	f.Add(hs256(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":"1700003600"}`, secret))
	f.Add(hs256(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":["api"],"exp":1700003600,"\u0065xp":1}`, secret))
	f.Add(h + "." + p + "." + s + "=")
	f.Add(h + "." + p[:5] + "\n" + p[5:] + "." + s)
	f.Add(h + "." + p + ".")
	f.Add(h + ".." + s)
	f.Add(strings.ToUpper(valid))
	f.Add(h + "." + p + "." + s[1:])
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Add(valid + "." + s + "." + s) // five segments, the shape of a JWE
	f.Add(hs256(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600,"sub":"a","ſub":"admin"}`, secret))
	f.Add(hs256(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600,"scope":"a","scope":"admin"}`, secret))
	f.Add(hs256(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1e400}`, secret))
	f.Add(hs256(`{"alg":"HS256","alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600}`, secret))

	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := a.Verify(context.Background(), tok)
		if err != nil {
			if status := auth.StatusOf(err); status != 401 {
				t.Fatalf("Verify(%q): status %d; want 401 (%v)", tok, status, err)
			}
			if claims != nil {
				t.Fatalf("Verify(%q) returned claims with an error", tok)
			}
			return
		}
		h, p, s, ok := cut3(tok)
		if !ok {
			t.Fatalf("accepted %q without three segments", tok)
		}
		sig, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil {
			t.Fatalf("accepted %q with a bad signature encoding: %v", tok, err)
		}
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(h + "." + p))
		if !hmac.Equal(m.Sum(nil), sig) {
			t.Fatalf("accepted %q whose HMAC is invalid", tok)
		}
		payload, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil {
			t.Fatalf("accepted %q with a bad payload encoding", tok)
		}
		var want map[string]any
		if err := json.Unmarshal(payload, &want); err != nil {
			t.Fatalf("accepted %q whose payload encoding/json rejects: %v", tok, err)
		}
		exp, ok := claims["exp"].(float64)
		if !ok || time.Unix(int64(exp), 0).Before(epoch.Add(-jwt.DefaultLeeway)) || claims["iss"] != "https://example.com" {
			t.Fatalf("accepted %q with claims %v", tok, claims)
		}
	})
}

func cut3(tok string) (h, p, s string, ok bool) {
	h, rest, ok1 := strings.Cut(tok, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	return h, p, s, ok1 && ok2 && !strings.Contains(s, ".")
}

// FuzzVerifySigned signs arbitrary header and payload JSON with the right
// secret, so the fuzzer reaches the header and claims checks. Any accepted
// token must satisfy them by the reading of encoding/json too.
func FuzzVerifySigned(f *testing.F) {
	cfg := hsConfig()
	cfg.IssuerURL = "https://example.com"
	cfg.Audience = []string{"api"}
	a, err := jwt.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600,"sub":"x"}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":["x","api"],"exp":1700003600.5,"nbf":1699999999,"iat":1700000000}`)
	f.Add(`{"alg":"HS256","kid":"k"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600}`)
	f.Add(`{"alg":"HS256","crit":["b64"],"b64":false}`, `{"iss":"https://example.com","aud":"api","exp":1700003600}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":"1700003600"}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600,"Exp":1}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600,"nested":{"a":[1,{"b":"\u00e9"}]}}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600,"sub":"a","ſub":"admin"}`)
	f.Add(`{"alg":"HS256"}`, `{"iſs":"https://evil.example","iss":"https://example.com","aud":"api","exp":1700003600}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600,"scope":"a","SCOPE":"admin"}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600,"scp":["a"],"sc\u0070":["admin"]}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1e400}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":-1e300,"nbf":1e300}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":{"api":true},"exp":1700003600}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":["api",1],"exp":1700003600}`)
	f.Add(`{"alg":"HS256"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600,"x":`+strings.Repeat("[", 65)+strings.Repeat("]", 65)+`}`)
	f.Add(`{"alg":"HS256","typ":"JWT","typ":"at+jwt"}`, `{"iss":"https://example.com","aud":"api","exp":1700003600}`)
	f.Fuzz(func(t *testing.T, header, payload string) {
		tok := hs256(header, payload, cfg.Secret)
		claims, err := a.Verify(context.Background(), tok)
		if err != nil {
			if status := auth.StatusOf(err); status != 401 {
				t.Fatalf("status %d; want 401 (%v)", status, err)
			}
			return
		}
		var h map[string]any
		if err := json.Unmarshal([]byte(header), &h); err != nil || h["alg"] != "HS256" || h["crit"] != nil || h["b64"] != nil {
			t.Fatalf("accepted header %q (%v)", header, err)
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(payload), &want); err != nil {
			t.Fatalf("accepted payload %q that encoding/json rejects: %v", payload, err)
		}
		if !reflect.DeepEqual(map[string]any(claims), want) {
			t.Fatalf("claims %#v; encoding/json reads %#v", claims, want)
		}
		if name, ok := ambiguousName(payload); ok {
			t.Fatalf("accepted %q, which has two members that encoding/json reads as %q", payload, name)
		}
		now := float64(epoch.Unix())
		exp, ok := want["exp"].(float64)
		if !ok || exp+10 <= now || want["iss"] != "https://example.com" {
			t.Fatalf("accepted exp/iss of %q", payload)
		}
		if nbf, ok := want["nbf"]; ok && (nbf.(float64) > now+10) {
			t.Fatalf("accepted nbf of %q", payload)
		}
		if iat, ok := want["iat"]; ok && (iat.(float64) > now+10) {
			t.Fatalf("accepted iat of %q", payload)
		}
		switch aud := want["aud"].(type) {
		case string:
			if aud != "api" {
				t.Fatalf("accepted aud of %q", payload)
			}
		case []any:
			found := false
			for _, x := range aud {
				found = found || x == "api"
			}
			if !found {
				t.Fatalf("accepted aud of %q", payload)
			}
		default:
			t.Fatalf("accepted aud of %q", payload)
		}
	})
}

// ambiguousName reports a registered claim, scope or scp that two top-level
// members of payload name once encoding/json has folded their case, or
// that a member names only under a case variant.
func ambiguousName(payload string) (string, bool) {
	dec := json.NewDecoder(strings.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		name, _ := tok.(string)
		for _, n := range []string{"exp", "nbf", "iat", "iss", "aud", "sub", "jti", "scope", "scp"} {
			if strings.EqualFold(name, n) {
				if seen[n] || name != n {
					return n, true
				}
				seen[n] = true
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}
