package auth0_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/validator"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/auth0"
	"github.com/typedauth/auth/jwt"
)

// The benchmarks compare, in one run, the SDK's own ValidateToken with the
// same validator behind a Guard: the difference is this package's cost per
// request (syntax check, claims hand-over, scope check, context, handler).

func BenchmarkValidateToken(b *testing.B) {
	tn := newTenant(b, false)
	for _, bc := range []struct {
		name string
		opts []validator.Option
	}{
		{name: "registered claims", opts: nil},
		{name: "CustomClaims", opts: []validator.Option{validator.WithCustomClaims(auth0.CustomClaims)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v := validatorFor(b, tn, true, bc.opts...)
			tok := mint(b, token{})
			ctx := context.Background()
			if _, err := v.ValidateToken(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.ValidateToken(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGuard(b *testing.B) {
	tn := newTenant(b, false)
	a := newAuth(b, tn, jwt.RemoteOptions{})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{name: "Guard", h: a.Guard(ok)},
		{name: "Requires", h: a.Requires("reports:read").Guard(ok)},
		{name: "New with CustomClaims", h: auth0.New(validatorFor(b, tn, true,
			validator.WithCustomClaims(auth0.CustomClaims))).Requires("reports:read").Guard(ok)},
		// The package's own cost, without the SDK's cryptography.
		{name: "New with a fake validator", h: auth0.New(&fake{res: auth.Claims{"sub": "auth0|alice", "scope": "reports:read"}}).
			Requires("reports:read").Guard(ok)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+mint(b, token{}))
			w := httptest.NewRecorder()
			bc.h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}

func BenchmarkReject(b *testing.B) {
	tn := newTenant(b, false)
	h := newAuth(b, tn, jwt.RemoteOptions{}).Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, bc := range []struct{ name, token string }{
		{name: "malformed", token: "not-a-jwt"},
		{name: "bad signature", token: mint(b, token{key: testKeys()[1]})},
		{name: "wrong issuer", token: mint(b, token{claims: claims(map[string]any{"iss": "https://evil.test/"})})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+bc.token)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusUnauthorized {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// BenchmarkGuardVsSDK alternates, in one loop, the SDK's ValidateToken
// alone (a validator built as NewTenant builds its own, with CustomClaims,
// over the tenant's keys) and a full request through NewTenant's guard with
// Requires, so that load on the machine hits both alike. It reports each
// one's time per operation and their ratio.
func BenchmarkGuardVsSDK(b *testing.B) {
	tn := newTenant(b, false)
	v := validatorFor(b, tn, true, validator.WithCustomClaims(auth0.CustomClaims))
	h := newAuth(b, tn, jwt.RemoteOptions{}).Requires("reports:read").Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tok := mint(b, token{})
	ctx := context.Background()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	if _, err := v.ValidateToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	if h.ServeHTTP(w, req); w.Code != http.StatusOK {
		b.Fatalf("status %d", w.Code)
	}
	var sdk, guard time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := v.ValidateToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		h.ServeHTTP(w, req)
		guard += time.Since(t1)
		sdk += t1.Sub(t0)
	}
	b.ReportMetric(float64(sdk.Nanoseconds())/float64(b.N), "sdk-ns/op")
	b.ReportMetric(float64(guard.Nanoseconds())/float64(b.N), "guard-ns/op")
	b.ReportMetric(float64(guard)/float64(sdk), "guard/sdk")
}
