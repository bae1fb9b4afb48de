package jwt_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"hash"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// Keys are generated once per test binary: RSA generation dominates
// otherwise.
var (
	rsaKey     = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	rsaForeign = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	p256Key    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	p384Key    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P384()) })
	p521Key    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P521()) })
	p256Key2   = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	edKey      = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// secret64 is a 64-byte HMAC secret, long enough for HS512.
var secret64 = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")

// epoch is the fixed time of the test clock.
var epoch = time.Unix(1_700_000_000, 0)

func clock() time.Time { return epoch }

// hsConfig is an HS256 configuration with the fixed clock.
func hsConfig() jwt.Config {
	return jwt.Config{
		Secret:     secret64[:32],
		Algorithms: []string{"HS256"},
		Expiration: time.Hour,
		Now:        clock,
	}
}

func newAuth(tb testing.TB, cfg jwt.Config, opts ...jwt.Option) *jwt.Auth {
	tb.Helper()
	a, err := jwt.New(cfg, opts...)
	if err != nil {
		tb.Fatalf("jwt.New: %v", err)
	}
	return a
}

func encode(tb testing.TB, a *jwt.Auth, claims auth.Claims) string {
	tb.Helper()
	tok, err := a.Encode(claims, 0)
	if err != nil {
		tb.Fatalf("Encode(%v): %v", claims, err)
	}
	return tok
}

var seg = base64.RawURLEncoding.EncodeToString

// hs256 builds a token from raw header and payload JSON, signed with HMAC
// SHA-256 under secret.
func hs256(header, payload string, secret []byte) string {
	return hmacToken(sha256.New, header, payload, secret)
}

// hs384 is hs256 with SHA-384.
func hs384(header, payload string, secret []byte) string {
	return hmacToken(sha512.New384, header, payload, secret)
}

func hmacToken(h func() hash.Hash, header, payload string, secret []byte) string {
	signing := seg([]byte(header)) + "." + seg([]byte(payload))
	m := hmac.New(h, secret)
	m.Write([]byte(signing))
	return signing + "." + seg(m.Sum(nil))
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// setLowBit returns the base64url character c with its lowest bit set: as
// the last character of a segment, a non-canonical encoding.
func setLowBit(c byte) string {
	return string(b64Alphabet[strings.IndexByte(b64Alphabet, c)|1])
}

// pemEncode returns the PKIX PEM encoding of a public key.
func pemEncode(tb testing.TB, pub any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// claimsJSON marshals claims for hand-made tokens.
func claimsJSON(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// do serves one request with the token (if any) as a bearer credential.
func do(tb testing.TB, h http.Handler, token string) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// problem decodes a problem+json body.
type problem struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

func decodeProblem(tb testing.TB, rec *httptest.ResponseRecorder) problem {
	tb.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type = %q; want application/problem+json (body %s)", ct, rec.Body)
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		tb.Fatalf("problem body %q: %v", rec.Body, err)
	}
	return p
}

// subHandler writes the sub claim of the principal.
var subHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := auth.From[auth.Claims](r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}
	sub, _ := c["sub"].(string)
	_, _ = w.Write([]byte(sub))
})

// wantReject asserts a 401 invalid_token response whose detail is want.
func wantReject(tb testing.TB, rec *httptest.ResponseRecorder, wantDetail string) {
	tb.Helper()
	if rec.Code != http.StatusUnauthorized {
		tb.Fatalf("status = %d; want 401 (body %s)", rec.Code, rec.Body)
	}
	p := decodeProblem(tb, rec)
	if p.Detail != wantDetail {
		tb.Errorf("detail = %q; want %q", p.Detail, wantDetail)
	}
	wantHeader := `Bearer error="invalid_token", error_description="` + wantDetail + `"`
	if got := rec.Header().Get("WWW-Authenticate"); got != wantHeader {
		tb.Errorf("WWW-Authenticate = %q; want %q", got, wantHeader)
	}
}

func b64JSON(s string) string { return seg([]byte(s)) }

// splitToken returns the three segments of a token.
func splitToken(tb testing.TB, tok string) (h, p, s string) {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("token %q has %d segments", tok, len(parts))
	}
	return parts[0], parts[1], parts[2]
}

func jwtDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// jwtSegment decodes a token segment to text.
func jwtSegment(s string) (string, error) {
	b, err := jwtDecode(s)
	return string(b), err
}

func newInt(b []byte) *big.Int { return new(big.Int).SetBytes(b) }
