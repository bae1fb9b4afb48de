package jwt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// benchCase is one algorithm with the key that signs and the public key that
// verifies.
type benchCase struct {
	alg      string
	sign     func() any
	verify   func() any
	isSecret bool
}

var benchCases = []benchCase{
	{alg: "HS256", sign: func() any { return secret64[:32] }, verify: func() any { return secret64[:32] }, isSecret: true},
	{alg: "RS256", sign: func() any { return rsaKey() }, verify: func() any { return &rsaKey().PublicKey }},
	{alg: "ES256", sign: func() any { return p256Key() }, verify: func() any { return &p256Key().PublicKey }},
	{alg: "EdDSA", sign: func() any { return edKey() }, verify: func() any { return edKey().Public() }},
}

const (
	benchIssuer   = "https://issuer.example"
	benchAudience = "https://api.example"
)

// benchSetup returns a verifying Auth and a token typical of an access
// token: iss, aud, sub, scope, iat, exp and a kid for asymmetric keys.
func benchSetup(b *testing.B, bc benchCase) (*jwt.Auth, string) {
	b.Helper()
	cfg := jwt.Config{
		Algorithms: []string{bc.alg},
		IssuerURL:  benchIssuer,
		Audience:   []string{benchAudience},
		Expiration: time.Hour,
		Now:        clock,
	}
	if bc.isSecret {
		cfg.Secret = bc.sign().([]byte)
	} else {
		cfg.Key = bc.sign()
	}
	issuer := newAuth(b, cfg)
	tok := encode(b, issuer, auth.Claims{
		"sub": "user-1", "aud": benchAudience, "scope": "items:read items:write", "email": "user@example.com",
	})
	if !bc.isSecret {
		cfg.Key = bc.verify()
	}
	return newAuth(b, cfg), tok
}

func BenchmarkVerify(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.alg, func(b *testing.B) {
			a, tok := benchSetup(b, bc)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// discardWriter is a reusable ResponseWriter that keeps the status only.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

func BenchmarkGuard(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.alg, func(b *testing.B) {
			a, tok := benchSetup(b, bc)
			serve := newGuard(b, a, tok)
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}

// newGuard returns the guarded handler of BenchmarkGuard and a function
// serving one request through it.
func newGuard(b *testing.B, a *jwt.Auth, tok string) func() {
	ok := false
	h := a.Requires("items:read").Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok = auth.From[auth.Claims](r.Context())
	}))
	req := httptest.NewRequest(http.MethodGet, "/items", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := &discardWriter{h: make(http.Header)}
	return func() {
		ok = false
		h.ServeHTTP(w, req)
		if !ok {
			b.Fatalf("request rejected: status %d", w.status)
		}
	}
}

// newBaseline returns a function parsing tok with a bare, pre-built
// golang-jwt parser doing the same checks.
func newBaseline(b *testing.B, bc benchCase, tok string) func() {
	key := bc.verify()
	keyfunc := func(*gojwt.Token) (any, error) { return key, nil }
	p := gojwt.NewParser(
		gojwt.WithValidMethods([]string{bc.alg}),
		gojwt.WithIssuer(benchIssuer),
		gojwt.WithAudience(benchAudience),
		gojwt.WithExpirationRequired(),
		gojwt.WithLeeway(jwt.DefaultLeeway),
		gojwt.WithTimeFunc(clock),
		gojwt.WithIssuedAt(),
		gojwt.WithStrictDecoding(),
	)
	return func() {
		if _, err := p.ParseWithClaims(tok, gojwt.MapClaims{}, keyfunc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuardVsBaseline alternates one Guard request and one baseline
// parse of the same token, timing each, so that a change in machine load
// affects both alike. It reports their ratio as guard/baseline (1.00 means
// equal cost; below 1 means Guard is cheaper).
func BenchmarkGuardVsBaseline(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.alg, func(b *testing.B) {
			a, tok := benchSetup(b, bc)
			guard, base := newGuard(b, a, tok), newBaseline(b, bc, tok)
			var tg, tb time.Duration
			first := true
			for b.Loop() {
				// Alternate which goes first, so that neither always
				// finds the caches warmed by the other.
				if first = !first; first {
					t0 := time.Now()
					guard()
					t1 := time.Now()
					base()
					tb += time.Since(t1)
					tg += t1.Sub(t0)
				} else {
					t0 := time.Now()
					base()
					t1 := time.Now()
					guard()
					tg += time.Since(t1)
					tb += t1.Sub(t0)
				}
			}
			b.ReportMetric(float64(tg)/float64(tb), "guard/baseline")
		})
	}
}

// BenchmarkBaseline is the reference: a bare, pre-built golang-jwt parser
// with the same checks on the same token.
func BenchmarkBaseline(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.alg, func(b *testing.B) {
			_, tok := benchSetup(b, bc)
			parse := newBaseline(b, bc, tok)
			b.ReportAllocs()
			for b.Loop() {
				parse()
			}
		})
	}
}

// BenchmarkVerifyTyped decodes the same HS256 token into a struct and
// validates it.
func BenchmarkVerifyTyped(b *testing.B) {
	type claims struct {
		jwt.RegisteredClaims
		Email string `json:"email" validate:"required,email"`
	}
	_, tok := benchSetup(b, benchCases[0])
	cfg := jwt.Config{Secret: secret64[:32], Algorithms: []string{"HS256"}, IssuerURL: benchIssuer,
		Audience: []string{benchAudience}, Now: clock}
	typed, err := jwt.NewTyped[claims](cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := typed.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
