package jwt_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/scopes"
)

func publicOf(k any) any {
	if s, ok := k.(crypto.Signer); ok {
		return s.Public()
	}
	return k
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alg string
		key func() any
	}{
		{alg: "HS256", key: func() any { return secret64[:32] }},
		{alg: "HS384", key: func() any { return secret64[:48] }},
		{alg: "HS512", key: func() any { return secret64 }},
		{alg: "RS256", key: func() any { return rsaKey() }},
		{alg: "RS384", key: func() any { return rsaKey() }},
		{alg: "RS512", key: func() any { return rsaKey() }},
		{alg: "PS256", key: func() any { return rsaKey() }},
		{alg: "PS384", key: func() any { return rsaKey() }},
		{alg: "PS512", key: func() any { return rsaKey() }},
		{alg: "ES256", key: func() any { return p256Key() }},
		{alg: "ES384", key: func() any { return p384Key() }},
		{alg: "ES512", key: func() any { return p521Key() }},
		{alg: "EdDSA", key: func() any { return edKey() }},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			t.Parallel()
			cfg := jwt.Config{Algorithms: []string{tt.alg}, Expiration: time.Hour, Now: clock, IssuerURL: "https://issuer.example"}
			if b, ok := tt.key().([]byte); ok {
				cfg.Secret = b
			} else {
				cfg.Key = tt.key()
			}
			a := newAuth(t, cfg)
			tok := encode(t, a, auth.Claims{"sub": "user-1", "scope": "items:read"})

			h, _, _ := splitToken(t, tok)
			raw, err := base64.RawURLEncoding.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			var header map[string]any
			if err := json.Unmarshal(raw, &header); err != nil {
				t.Fatal(err)
			}
			if header["alg"] != tt.alg || header["typ"] != "JWT" {
				t.Errorf("header = %v; want alg %s, typ JWT", header, tt.alg)
			}
			_, hasKid := header["kid"]
			if wantKid := cfg.Secret == nil; hasKid != wantKid {
				t.Errorf("header has kid = %v; want %v", hasKid, wantKid)
			}

			claims, err := a.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if claims["sub"] != "user-1" || claims["iss"] != "https://issuer.example" {
				t.Errorf("claims = %v", claims)
			}
			rec := do(t, a.Requires("items:read").Guard(subHandler), tok)
			if rec.Code != http.StatusOK || rec.Body.String() != "user-1" {
				t.Errorf("Guard: %d %q; want 200 user-1", rec.Code, rec.Body)
			}

			if cfg.Secret != nil {
				return
			}
			// A public key verifies but cannot issue.
			pub := cfg
			pub.Key = publicOf(cfg.Key)
			v := newAuth(t, pub)
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Errorf("Verify with the public key: %v", err)
			}
			if _, err := v.Encode(auth.Claims{"sub": "x"}, 0); err == nil || !strings.Contains(err.Error(), "no private key") {
				t.Errorf("Encode with a public key: err = %v; want a no-private-key error", err)
			}
		})
	}
}

// TestDocumentedBehaviours runs the documented scenarios through real handlers.
func TestDocumentedBehaviours(t *testing.T) {
	t.Parallel()
	cfg := hsConfig()
	cfg.IssuerURL = "https://example.com"
	cfg.Audience = []string{"https://api.example.com"}
	a := newAuth(t, cfg)
	simple := newAuth(t, cfg, jwt.WithScopeValidator(scopes.Simple{}))

	other := cfg
	other.Secret = []byte("another-secret-another-secret-!!")
	foreign := newAuth(t, other)
	wrongIss := cfg
	wrongIss.IssuerURL = "https://evil.example"
	wrongIssuer := newAuth(t, wrongIss)

	claims := func(scope string) auth.Claims {
		return auth.Claims{"sub": "user-1", "aud": "https://api.example.com", "scope": scope}
	}
	valid := encode(t, a, claims("items:read"))
	editor := encode(t, a, claims("items:edit"))
	expired, err := a.Encode(auth.Claims{"sub": "user-1", "aud": "https://api.example.com",
		"iat": epoch.Add(-2 * time.Hour).Unix(), "exp": epoch.Add(-time.Minute).Unix()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	otherAud := encode(t, a, auth.Claims{"sub": "user-1", "aud": "https://other.example.com"})

	tests := []struct {
		name       string
		h          http.Handler
		token      string
		wantStatus int
		wantDetail string
		wantHeader string
	}{
		{name: "valid", h: a.Guard(subHandler), token: valid, wantStatus: 200},
		{name: "missing header", h: a.Guard(subHandler), wantStatus: 401, wantDetail: "Missing credentials", wantHeader: "Bearer"},
		{name: "garbage", h: a.Guard(subHandler), token: "garbage", wantStatus: 401, wantDetail: "Token is malformed",
			wantHeader: `Bearer error="invalid_token", error_description="Token is malformed"`},
		{name: "expired", h: a.Guard(subHandler), token: expired, wantStatus: 401, wantDetail: "Token has expired"},
		{name: "wrong issuer", h: a.Guard(subHandler), token: encode(t, wrongIssuer, claims("")), wantStatus: 401,
			wantDetail: "Token issuer is not accepted"},
		{name: "wrong audience", h: a.Guard(subHandler), token: otherAud, wantStatus: 401, wantDetail: "Token audience is not accepted"},
		{name: "foreign key", h: a.Guard(subHandler), token: encode(t, foreign, claims("")), wantStatus: 401,
			wantDetail: "Token signature is invalid"},
		{name: "edit grants read", h: a.Requires("items:read").Guard(subHandler), token: editor, wantStatus: 200},
		{name: "read does not grant edit", h: a.Requires("items:edit").Guard(subHandler), token: valid, wantStatus: 403,
			wantDetail: "Token is missing required scope: items:edit",
			wantHeader: `Bearer error="insufficient_scope", scope="items:edit"`},
		{name: "all scopes required", h: a.Requires("items:read", "reports:write").Guard(subHandler), token: editor,
			wantStatus: 403, wantDetail: "Token is missing required scope: reports:write",
			wantHeader: `Bearer error="insufficient_scope", scope="items:read reports:write"`},
		{name: "simple: edit does not grant read", h: simple.Requires("items:read").Guard(subHandler), token: editor,
			wantStatus: 403, wantDetail: "Token is missing required scope: items:read",
			wantHeader: `Bearer error="insufficient_scope", scope="items:read"`},
		{name: "simple: verbatim", h: simple.Requires("items:edit").Guard(subHandler), token: editor, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, tt.h, tt.token)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d; want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == 200 {
				if rec.Body.String() != "user-1" {
					t.Errorf("body = %q; want user-1", rec.Body)
				}
				return
			}
			if p := decodeProblem(t, rec); p.Detail != tt.wantDetail || p.Status != tt.wantStatus {
				t.Errorf("problem = %+v; want status %d detail %q", p, tt.wantStatus, tt.wantDetail)
			}
			want := tt.wantHeader
			if want == "" {
				want = `Bearer error="invalid_token", error_description="` + tt.wantDetail + `"`
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate = %q; want %q", got, want)
			}
		})
	}
}

func TestCookieScheme(t *testing.T) {
	t.Parallel()
	a := newAuth(t, hsConfig(), jwt.WithScheme(auth.Cookie("session")))
	tok := encode(t, a, auth.Claims{"sub": "user-1"})
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: tok})
	p, err := a.Authenticate(req)
	if err != nil || p["sub"] != "user-1" {
		t.Fatalf("Authenticate = %v, %v; want sub user-1", p, err)
	}
	rec := do(t, a.Guard(subHandler), tok) // a bearer header is not the cookie
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("bearer header with cookie scheme: status %d; want 401", rec.Code)
	}
}

// TestAttacks feeds hand-made hostile tokens to an HS256 auth.
func TestAttacks(t *testing.T) {
	t.Parallel()
	cfg := hsConfig()
	cfg.IssuerURL = "https://example.com"
	a := newAuth(t, cfg)
	secret := cfg.Secret
	good := claimsJSON(t, map[string]any{"sub": "user-1", "iss": "https://example.com", "exp": epoch.Add(time.Hour).Unix()})
	hdr := `{"alg":"HS256","typ":"JWT"}`
	valid := hs256(hdr, good, secret)
	h, p, s := splitToken(t, valid)
	withClaims := func(c map[string]any) string {
		c["sub"] = "user-1"
		c["iss"] = "https://example.com"
		if _, ok := c["exp"]; !ok {
			c["exp"] = epoch.Add(time.Hour).Unix()
		}
		return hs256(hdr, claimsJSON(t, c), secret)
	}

	tests := []struct {
		name       string
		token      string
		wantDetail string
		wantErr    error
		// viaHeader is the status through a Guard when the Bearer scheme
		// or the credential cap rejects the token first.
		viaHeader       int
		viaHeaderDetail string
	}{
		{name: "none", token: b64JSON(`{"alg":"none"}`) + "." + p + ".", wantDetail: "Token is malformed"},
		{name: "none with signature", token: b64JSON(`{"alg":"none"}`) + "." + p + "." + s, wantDetail: "Token algorithm is not allowed", wantErr: jwt.ErrTokenAlgorithm},
		{name: "None", token: hs256(`{"alg":"None"}`, good, secret), wantDetail: "Token algorithm is not allowed"},
		{name: "NONE", token: hs256(`{"alg":"NONE"}`, good, secret), wantDetail: "Token algorithm is not allowed"},
		{name: "nOnE", token: hs256(`{"alg":"nOnE"}`, good, secret), wantDetail: "Token algorithm is not allowed"},
		{name: "alg case variant", token: hs256(`{"alg":"hs256"}`, good, secret), wantDetail: "Token algorithm is not allowed"},
		{name: "alg outside allowlist", token: hs256(`{"alg":"HS512"}`, good, secret), wantDetail: "Token algorithm is not allowed"},
		{name: "no alg", token: hs256(`{"typ":"JWT"}`, good, secret), wantDetail: "Token algorithm is not allowed"},
		{name: "alg not a string", token: hs256(`{"alg":["HS256"]}`, good, secret), wantDetail: "Token is malformed"},
		{name: "duplicate alg", token: hs256(`{"alg":"HS256","alg":"none"}`, good, secret), wantDetail: "Token is malformed"},
		{name: "escaped crit", token: hs256(`{"alg":"HS256","cr\u0069t":["exp"]}`, good, secret), wantDetail: "Token uses an unsupported header parameter"},
		{name: "crit", token: hs256(`{"alg":"HS256","crit":["exp"],"exp":1}`, good, secret), wantDetail: "Token uses an unsupported header parameter", wantErr: jwt.ErrTokenUnsupportedHeader},
		{name: "b64", token: hs256(`{"alg":"HS256","b64":false,"crit":["b64"]}`, good, secret), wantDetail: "Token uses an unsupported header parameter"},
		{name: "unknown kid", token: hs256(`{"alg":"HS256","kid":"nope"}`, good, secret), wantDetail: "Token signing key is unknown", wantErr: jwt.ErrKeyNotFound},
		{name: "padded", token: h + "." + p + "." + s + "=", wantDetail: "Token is malformed", wantErr: jwt.ErrTokenMalformed},
		{name: "padded payload", token: h + "." + p + "==." + s, wantDetail: "Token is malformed", viaHeader: 400},
		{name: "newline in payload", token: h + "." + p[:4] + "\n" + p[4:] + "." + s, wantDetail: "Token is malformed", viaHeader: 400},
		{name: "carriage return", token: h + "\r." + p + "." + s, wantDetail: "Token is malformed", viaHeader: 400},
		{name: "standard base64", token: strings.NewReplacer("-", "+", "_", "/").Replace(valid), wantDetail: "Token is malformed"},
		{name: "four segments", token: valid + "." + s, wantDetail: "Token is malformed"},
		{name: "two segments", token: h + "." + p, wantDetail: "Token is malformed"},
		{name: "empty header", token: "." + p + "." + s, wantDetail: "Token is malformed"},
		{name: "non-canonical base64", token: h + "." + p + "." + s[:len(s)-1] + setLowBit(s[len(s)-1]), wantDetail: "Token is malformed"},
		{name: "header not JSON", token: hs256(`alg=HS256`, good, secret), wantDetail: "Token is malformed"},
		{name: "trailing data after header", token: hs256(`{"alg":"HS256"}x`, good, secret), wantDetail: "Token is malformed"},
		{name: "bad signature", token: h + "." + p + "." + seg(make([]byte, 32)), wantDetail: "Token signature is invalid", wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "tampered payload", token: h + "." + b64JSON(strings.Replace(good, "user-1", "admin", 1)) + "." + s, wantDetail: "Token signature is invalid"},
		{name: "nbf in future", token: withClaims(map[string]any{"nbf": epoch.Add(time.Minute).Unix()}), wantDetail: "Token is not valid yet", wantErr: jwt.ErrTokenNotValidYet},
		{name: "iat in future", token: withClaims(map[string]any{"iat": epoch.Add(time.Minute).Unix()}), wantDetail: "Token was issued in the future", wantErr: jwt.ErrTokenIssuedInFuture},
		{name: "expired", token: withClaims(map[string]any{"exp": epoch.Add(-time.Minute).Unix()}), wantDetail: "Token has expired", wantErr: jwt.ErrTokenExpired},
		{name: "expired within leeway", token: withClaims(map[string]any{"exp": epoch.Add(-5 * time.Second).Unix()})},
		{name: "nbf within leeway", token: withClaims(map[string]any{"nbf": epoch.Add(5 * time.Second).Unix()})},
		{name: "exp as string", token: withClaims(map[string]any{"exp": "1900000000"}), wantDetail: "Token claims are malformed", wantErr: jwt.ErrTokenClaims},
		{name: "exp 1e400", token: hs256(hdr, `{"iss":"https://example.com","exp":1e400}`, secret), wantDetail: "Token claims are malformed"},
		{name: "iat -1e400", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"iat":-1e400}`, secret), wantDetail: "Token claims are malformed"},
		{name: "exp NaN", token: hs256(hdr, `{"iss":"https://example.com","exp":NaN}`, secret), wantDetail: "Token is malformed"},
		{name: "exp Infinity", token: hs256(hdr, `{"iss":"https://example.com","exp":Infinity}`, secret), wantDetail: "Token is malformed"},
		{name: "exp negative", token: hs256(hdr, `{"iss":"https://example.com","exp":-1}`, secret), wantDetail: "Token has expired"},
		{name: "exp with exponent", token: hs256(hdr, `{"iss":"https://example.com","exp":1.8e9}`, secret)},
		{name: "exp fraction", token: hs256(hdr, `{"iss":"https://example.com","exp":1700000005.5}`, secret)},
		{name: "exp null", token: hs256(hdr, `{"iss":"https://example.com","exp":null}`, secret), wantDetail: "Token claims are malformed"},
		{name: "aud as object", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"aud":{"api":true}}`, secret), wantDetail: "Token claims are malformed"},
		{name: "aud with a number", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"aud":["api",1]}`, secret), wantDetail: "Token claims are malformed"},
		{name: "issuer with trailing slash", token: hs256(hdr, `{"iss":"https://example.com/","exp":1800000000}`, secret), wantDetail: "Token issuer is not accepted"},
		{name: "typ twice", token: hs256(`{"alg":"HS256","typ":"JWT","typ":"at+jwt"}`, good, secret), wantDetail: "Token is malformed"},
		{name: "kid not a string", token: hs256(`{"alg":"HS256","kid":1}`, good, secret), wantDetail: "Token is malformed"},
		{name: "nesting too deep", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"x":`+strings.Repeat("[", 65)+strings.Repeat("]", 65)+`}`, secret), wantDetail: "Token is malformed"},
		{name: "nbf as bool", token: withClaims(map[string]any{"nbf": true}), wantDetail: "Token claims are malformed"},
		{name: "iss as number", token: hs256(hdr, `{"iss":5,"exp":1800000000}`, secret), wantDetail: "Token claims are malformed"},
		{name: "sub as object", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"sub":{}}`, secret), wantDetail: "Token claims are malformed"},
		{name: "missing iss", token: hs256(hdr, `{"sub":"user-1","exp":1800000000}`, secret), wantDetail: "Token issuer is not accepted", wantErr: jwt.ErrTokenIssuer},
		{name: "issuer prefix", token: hs256(hdr, `{"iss":"https://example.com.evil","exp":1800000000}`, secret), wantDetail: "Token issuer is not accepted"},
		{name: "missing exp", token: hs256(hdr, `{"iss":"https://example.com"}`, secret), wantDetail: "Token has no expiration", wantErr: jwt.ErrTokenNoExpiration},
		{name: "exp case variant", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"EXP":1}`, secret), wantDetail: "Token claims are malformed"},
		{name: "duplicate exp", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"exp":1}`, secret), wantDetail: "Token claims are malformed"},
		{name: "sub folded with long s", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"sub":"user-1","ſub":"admin"}`, secret), wantDetail: "Token claims are malformed", wantErr: jwt.ErrTokenClaims},
		{name: "iss folded with long s", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"iſs":"https://evil.example"}`, secret), wantDetail: "Token claims are malformed"},
		{name: "escaped long s", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"\u017fub":"admin"}`, secret), wantDetail: "Token claims are malformed"},
		{name: "scope case variant", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"Scope":"admin"}`, secret), wantDetail: "Token claims are malformed"},
		{name: "scp case variant", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"SCP":["admin"]}`, secret), wantDetail: "Token claims are malformed"},
		{name: "duplicate scope", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"scope":"read","scope":"admin"}`, secret), wantDetail: "Token claims are malformed"},
		{name: "escaped duplicate scope", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"scope":"read","sc\u006fpe":"admin"}`, secret), wantDetail: "Token claims are malformed"},
		{name: "duplicate scp", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"scp":"read","scp":["admin"]}`, secret), wantDetail: "Token claims are malformed"},
		{name: "scope and scp together", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"scope":"read","scp":["write"]}`, secret)},
		{name: "escaped duplicate exp", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,"\u0065xp":1}`, secret), wantDetail: "Token claims are malformed"},
		{name: "payload array", token: hs256(hdr, `[1,2]`, secret), wantDetail: "Token is malformed"},
		{name: "payload trailing comma", token: hs256(hdr, `{"iss":"https://example.com","exp":1800000000,}`, secret), wantDetail: "Token is malformed"},
		{name: "payload invalid utf8", token: hs256(hdr, "{\"iss\":\"https://example.com\",\"exp\":1800000000,\"n\":\"\xff\"}", secret), wantDetail: "Token is malformed"},
		{name: "too long", token: h + "." + strings.Repeat("A", jwt.DefaultMaxTokenLength) + "." + s, wantDetail: "Token is too long",
			wantErr: jwt.ErrTokenTooLong, viaHeaderDetail: "Credential is too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Through the verifier directly…
			_, err := a.Verify(context.Background(), tt.token)
			if tt.wantDetail == "" {
				if err != nil {
					t.Fatalf("Verify: %v; want success", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify accepted the token")
			}
			if !errors.Is(err, auth.ErrInvalidCredential) {
				t.Errorf("err = %v; want an auth.ErrInvalidCredential", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v; want errors.Is %v", err, tt.wantErr)
			}
			// …and through a handler.
			rec := do(t, a.Guard(subHandler), tt.token)
			switch {
			case tt.viaHeader != 0:
				if rec.Code != tt.viaHeader {
					t.Errorf("status = %d; want %d", rec.Code, tt.viaHeader)
				}
			case tt.viaHeaderDetail != "":
				wantReject(t, rec, tt.viaHeaderDetail)
			default:
				wantReject(t, rec, tt.wantDetail)
			}
		})
	}
}

// TestKeyConfusion is the classic attack: an RS256 verifier handed an HS256
// token whose secret is the RSA public key.
func TestKeyConfusion(t *testing.T) {
	t.Parallel()
	pub := &rsaKey().PublicKey
	pemKey := pemPublic(t, pub)
	payload := claimsJSON(t, map[string]any{"sub": "admin", "exp": epoch.Add(time.Hour).Unix()})

	rs := newAuth(t, jwt.Config{Key: pub, Algorithms: []string{"RS256"}, Now: clock})
	kid := rs.JWKS().Keys[0].KID
	// Both families allowed, each with its own key.
	mixed := newAuth(t, jwt.Config{
		Keys: []jwt.Key{
			{ID: "rsa", Key: pub},
			{ID: "hmac", Key: secret64[:32]},
		},
		Algorithms: []string{"RS256", "HS256"}, Now: clock,
	})
	// A key set that (wrongly) hands back the public key for any alg.
	sloppy := newAuth(t, jwt.Config{KeySet: keySetFunc(func(string, string) (any, error) { return pub, nil }),
		Algorithms: []string{"RS256", "HS256"}, Now: clock})
	sloppyBytes := newAuth(t, jwt.Config{KeySet: keySetFunc(func(string, string) (any, error) { return pemKey, nil }),
		Algorithms: []string{"RS256", "HS256"}, Now: clock})
	// Key sets that hand back public key material as bytes, in other forms.
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	jwkKey := []byte(`{"kty":"RSA","n":"` + seg(pub.N.Bytes()) + `","e":"AQAB"}`)
	bytesSet := func(b []byte) *jwt.Auth {
		return newAuth(t, jwt.Config{KeySet: keySetFunc(func(string, string) (any, error) { return b, nil }),
			Algorithms: []string{"HS256"}, Now: clock})
	}

	tests := []struct {
		name    string
		a       *jwt.Auth
		token   string
		wantErr error
	}{
		{name: "RS256 only", a: rs, token: hs256(`{"alg":"HS256"}`, payload, pemKey), wantErr: jwt.ErrTokenAlgorithm},
		{name: "RS256 only, thumbprint kid", a: rs, token: hs256(`{"alg":"HS256","kid":"`+kid+`"}`, payload, pemKey), wantErr: jwt.ErrTokenAlgorithm},
		{name: "mixed, RSA kid", a: mixed, token: hs256(`{"alg":"HS256","kid":"rsa"}`, payload, pemKey), wantErr: jwt.ErrKeyNotFound},
		{name: "mixed, no kid", a: mixed, token: hs256(`{"alg":"HS256"}`, payload, pemKey), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "key set returns RSA for HS256", a: sloppy, token: hs256(`{"alg":"HS256"}`, payload, pemKey), wantErr: jwt.ErrKeyNotFound},
		{name: "key set returns short bytes", a: sloppyBytes, token: hs256(`{"alg":"RS256"}`, payload, pemKey), wantErr: jwt.ErrKeyNotFound},
		{name: "key set returns PEM bytes for HS256", a: sloppyBytes, token: hs256(`{"alg":"HS256"}`, payload, pemKey), wantErr: jwt.ErrKeyNotFound},
		{name: "key set returns PKCS1 PEM bytes for HS256", a: bytesSet(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})),
			token: hs256(`{"alg":"HS256"}`, payload, pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})), wantErr: jwt.ErrKeyNotFound},
		{name: "key set returns DER bytes for HS256", a: bytesSet(der), token: hs256(`{"alg":"HS256"}`, payload, der), wantErr: jwt.ErrKeyNotFound},
		{name: "key set returns a JWK for HS256", a: bytesSet(jwkKey), token: hs256(`{"alg":"HS256"}`, payload, jwkKey), wantErr: jwt.ErrKeyNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.a.Verify(context.Background(), tt.token)
			if err == nil {
				t.Fatal("key confusion token accepted")
			}
			if !errors.Is(err, tt.wantErr) || auth.StatusOf(err) != http.StatusUnauthorized {
				t.Errorf("err = %v (status %d); want 401 matching %v", err, auth.StatusOf(err), tt.wantErr)
			}
		})
	}
}

type keySetFunc func(kid, alg string) (any, error)

func (f keySetFunc) VerificationKey(_ context.Context, kid, alg string) (any, error) {
	return f(kid, alg)
}

func TestKeySetErrors(t *testing.T) {
	t.Parallel()
	tok := encode(t, newAuth(t, jwt.Config{Key: edKey(), KeyID: "k1", Algorithms: []string{"EdDSA"}, Now: clock, Expiration: time.Hour}), auth.Claims{"sub": "user-1"})
	pub := edKey().Public()
	tests := []struct {
		name       string
		set        keySetFunc
		wantStatus int
	}{
		{name: "found", set: func(kid, alg string) (any, error) {
			if kid != "k1" || alg != "EdDSA" {
				return nil, jwt.ErrKeyNotFound
			}
			return pub, nil
		}, wantStatus: 200},
		{name: "not found", set: func(string, string) (any, error) { return nil, jwt.ErrKeyNotFound }, wantStatus: 401},
		{name: "unavailable", set: func(string, string) (any, error) { return nil, auth.Unavailable("down") }, wantStatus: 503},
		{name: "unavailable sentinel", set: func(string, string) (any, error) {
			return nil, errors.Join(auth.ErrUnavailable, errors.New("dial"))
		}, wantStatus: 503},
		{name: "wrong key type", set: func(string, string) (any, error) { return &rsaKey().PublicKey, nil }, wantStatus: 401},
		{name: "private key", set: func(string, string) (any, error) { return edKey(), nil }, wantStatus: 401},
		{name: "other failure is the server's", set: func(string, string) (any, error) { return nil, errors.New("database down") }, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAuth(t, jwt.Config{KeySet: tt.set, Algorithms: []string{"EdDSA"}, Now: clock})
			rec := do(t, a.Guard(subHandler), tok)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d; want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
		})
	}
}

func TestKidSelection(t *testing.T) {
	t.Parallel()
	k1 := []byte("k1-secret-k1-secret-k1-secret-!!")
	k2 := []byte("k2-secret-k2-secret-k2-secret-!!")
	two := newAuth(t, jwt.Config{Keys: []jwt.Key{{ID: "k1", Key: k1}, {ID: "k2", Key: k2}}, Algorithms: []string{"HS256"}, Now: clock})
	rsAndHS := newAuth(t, jwt.Config{Keys: []jwt.Key{{ID: "k1", Key: k1}, {Key: &rsaKey().PublicKey}}, Algorithms: []string{"HS256", "RS256"}, Now: clock})
	declared := newAuth(t, jwt.Config{Keys: []jwt.Key{{ID: "k0", Algorithm: "HS256", Key: k2}, {ID: "k1", Algorithm: "HS384", Key: secret64[:48]}}, Algorithms: []string{"HS256", "HS384"}, Now: clock})
	exp := `,"exp":1800000000}`
	tests := []struct {
		name  string
		a     *jwt.Auth
		token string
		ok    bool
	}{
		{name: "kid k1", a: two, token: hs256(`{"alg":"HS256","kid":"k1"}`, `{"sub":"x"`+exp, k1), ok: true},
		{name: "kid k2", a: two, token: hs256(`{"alg":"HS256","kid":"k2"}`, `{"sub":"x"`+exp, k2), ok: true},
		{name: "kid k1 signed by k2", a: two, token: hs256(`{"alg":"HS256","kid":"k1"}`, `{"sub":"x"`+exp, k2)},
		{name: "no kid, two keys fit", a: two, token: hs256(`{"alg":"HS256"}`, `{"sub":"x"`+exp, k1)},
		{name: "no kid, one HMAC key", a: rsAndHS, token: hs256(`{"alg":"HS256"}`, `{"sub":"x"`+exp, k1), ok: true},
		{name: "declared alg matches", a: declared, token: hs384(`{"alg":"HS384","kid":"k1"}`, `{"sub":"x"`+exp, secret64[:48]), ok: true},
		{name: "declared alg differs", a: declared, token: hs256(`{"alg":"HS256","kid":"k1"}`, `{"sub":"x"`+exp, secret64[:48])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.a.Verify(context.Background(), tt.token)
			if (err == nil) != tt.ok {
				t.Errorf("Verify err = %v; want ok %v", err, tt.ok)
			}
		})
	}
}

func TestAudienceAndType(t *testing.T) {
	t.Parallel()
	cfg := hsConfig()
	cfg.Audience = []string{"api", "api2"}
	cfg.RequiredType = "at+jwt"
	a := newAuth(t, cfg)
	secret := cfg.Secret
	tests := []struct {
		name, header, payload string
		wantErr               error
	}{
		{name: "aud string", header: `{"alg":"HS256","typ":"at+jwt"}`, payload: `{"aud":"api","exp":1800000000}`},
		{name: "aud array", header: `{"alg":"HS256","typ":"at+jwt"}`, payload: `{"aud":["other","api2"],"exp":1800000000}`},
		{name: "aud array no match", header: `{"alg":"HS256","typ":"at+jwt"}`, payload: `{"aud":["other"],"exp":1800000000}`, wantErr: jwt.ErrTokenAudience},
		{name: "aud array with number", header: `{"alg":"HS256","typ":"at+jwt"}`, payload: `{"aud":["api",1],"exp":1800000000}`, wantErr: jwt.ErrTokenClaims},
		{name: "aud missing", header: `{"alg":"HS256","typ":"at+jwt"}`, payload: `{"exp":1800000000}`, wantErr: jwt.ErrTokenAudience},
		{name: "aud object", header: `{"alg":"HS256","typ":"at+jwt"}`, payload: `{"aud":{"api":1},"exp":1800000000}`, wantErr: jwt.ErrTokenClaims},
		{name: "typ application prefix", header: `{"alg":"HS256","typ":"application/AT+JWT"}`, payload: `{"aud":"api","exp":1800000000}`},
		{name: "typ JWT", header: `{"alg":"HS256","typ":"JWT"}`, payload: `{"aud":"api","exp":1800000000}`, wantErr: jwt.ErrTokenType},
		{name: "typ missing", header: `{"alg":"HS256"}`, payload: `{"aud":"api","exp":1800000000}`, wantErr: jwt.ErrTokenType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := a.Verify(context.Background(), hs256(tt.header, tt.payload, secret))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v; want %v", err, tt.wantErr)
			}
		})
	}
}

func TestLeeway(t *testing.T) {
	t.Parallel()
	tok := hs256(`{"alg":"HS256"}`, claimsJSON(t, map[string]any{"exp": epoch.Add(-5 * time.Second).Unix()}), secret64[:32])
	tests := []struct {
		name   string
		leeway time.Duration
		ok     bool
	}{
		{name: "default 10s", leeway: 0, ok: true},
		{name: "no leeway", leeway: jwt.NoLeeway},
		{name: "1s", leeway: time.Second},
		{name: "1m", leeway: time.Minute, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := hsConfig()
			cfg.Leeway = tt.leeway
			_, err := newAuth(t, cfg).Verify(context.Background(), tok)
			if (err == nil) != tt.ok {
				t.Errorf("Verify err = %v; want ok %v", err, tt.ok)
			}
		})
	}
}

func TestAllowMissingExpiration(t *testing.T) {
	t.Parallel()
	cfg := hsConfig()
	cfg.Expiration = 0
	cfg.AllowMissingExpiration = true
	a := newAuth(t, cfg)
	bearer, err := a.CreateAccessToken(auth.Claims{"sub": "user-1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(bearer)
	if strings.Contains(string(b), "expires_in") {
		t.Errorf("JSON = %s; want no expires_in for a token without exp", b)
	}
	if _, err := a.Verify(context.Background(), bearer.AccessToken); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestKeySetNeverLoaded: while a remote key set has never loaded, a token
// for its keys is not invalid, its keys are not there yet (503); tokens for
// local keys still verify.
func TestKeySetNeverLoaded(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }))
	t.Cleanup(down.Close)
	never, err := jwt.NewRemoteKeySet(t.Context(), down.URL, jwt.RemoteOptions{AllowInitialFailure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = never.Close() })
	a := newAuth(t, jwt.Config{KeySet: never, IssuerURL: "https://issuer.example", Algorithms: []string{"RS256"}, Now: clock})
	tok := encode(t, newAuth(t, jwt.Config{Key: rsaKey(), Algorithms: []string{"RS256"}, Now: clock, Expiration: time.Hour}), auth.Claims{"sub": "x"})
	rec := do(t, a.Guard(subHandler), tok)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status before the set loaded = %d; want 503", rec.Code)
	}
	mixed := newAuth(t, jwt.Config{KeySet: never, IssuerURL: "https://issuer.example", Secret: secret64[:32],
		Algorithms: []string{"HS256", "RS256"}, Now: clock})
	if rec := do(t, mixed.Guard(subHandler), tok); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("with a local key, status before the set loaded = %d; want 503 (body %s)", rec.Code, rec.Body)
	}
	local := hs256(`{"alg":"HS256"}`, `{"sub":"x","iss":"https://issuer.example","exp":1800000000}`, secret64[:32])
	if rec := do(t, mixed.Guard(subHandler), local); rec.Code != http.StatusOK {
		t.Errorf("local key before the set loaded: status = %d; want 200 (body %s)", rec.Code, rec.Body)
	}
}

// pemPublic returns the PKIX PEM of pub, as an attacker would download it.
func pemPublic(tb testing.TB, pub *rsa.PublicKey) []byte {
	tb.Helper()
	return pemEncode(tb, pub)
}

func TestIssuedTypeFollowsRequiredType(t *testing.T) {
	t.Parallel()
	cfg := hsConfig()
	cfg.RequiredType = "at+jwt"
	a := newAuth(t, cfg)
	tok := encode(t, a, auth.Claims{"sub": "user-1"})
	h, _, _ := splitToken(t, tok)
	if raw, _ := jwtSegment(h); !strings.Contains(raw, `"typ":"at+jwt"`) {
		t.Errorf("header = %s; want typ at+jwt", raw)
	}
	if _, err := a.Verify(context.Background(), tok); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestOptional(t *testing.T) {
	t.Parallel()
	a := newAuth(t, hsConfig())
	h := a.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := auth.From[auth.Claims](r.Context())
		if !ok {
			_, _ = w.Write([]byte("anonymous"))
			return
		}
		_, _ = w.Write([]byte(c["sub"].(string)))
	}))
	tests := []struct {
		name, token string
		wantStatus  int
		wantBody    string
	}{
		{name: "no token", wantStatus: 200, wantBody: "anonymous"},
		{name: "valid token", token: encode(t, a, auth.Claims{"sub": "user-1"}), wantStatus: 200, wantBody: "user-1"},
		{name: "invalid token is still rejected", token: "a.b.c", wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, h, tt.token)
			if rec.Code != tt.wantStatus || (tt.wantBody != "" && rec.Body.String() != tt.wantBody) {
				t.Errorf("got %d %q; want %d %q", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestKeySetMalformedKeys: a KeySet that returns a key without its
// public values gets 401 for the token, never a panic.
func TestKeySetMalformedKeys(t *testing.T) {
	t.Parallel()
	es := encode(t, newAuth(t, jwt.Config{Key: p256Key(), Algorithms: []string{"ES256"}, Now: clock, Expiration: time.Hour}), auth.Claims{"sub": "x"})
	rs := encode(t, newAuth(t, jwt.Config{Key: rsaKey(), Algorithms: []string{"RS256"}, Now: clock, Expiration: time.Hour}), auth.Claims{"sub": "x"})
	tests := []struct {
		name  string
		alg   string
		token string
		key   any
	}{
		{name: "ECDSA without a point", alg: "ES256", token: es, key: &ecdsa.PublicKey{Curve: elliptic.P256()}},
		{name: "ECDSA without Y", alg: "ES256", token: es, key: &ecdsa.PublicKey{Curve: elliptic.P256(), X: p256Key().X}},
		{name: "ECDSA off the curve", alg: "ES256", token: es, key: &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(2)}},
		{name: "RSA without a modulus", alg: "RS256", token: rs, key: &rsa.PublicKey{E: 65537}},
		{name: "RSA without an exponent", alg: "RS256", token: rs, key: &rsa.PublicKey{N: rsaKey().N}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAuth(t, jwt.Config{KeySet: keySetFunc(func(string, string) (any, error) { return tt.key, nil }),
				Algorithms: []string{tt.alg}, Now: clock})
			var rec *httptest.ResponseRecorder
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				rec = do(t, a.Guard(subHandler), tt.token)
			}()
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status = %d; want 401 (body %s)", rec.Code, rec.Body)
			}
		})
	}
}
