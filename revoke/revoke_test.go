package revoke_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/revoke"
)

var secret = []byte("a test secret of at least 32 bytes!!")

// newTokens returns a real JWT auth and a function minting its tokens.
func newTokens(tb testing.TB) (*jwt.Auth, func(claims auth.Claims) string) {
	tb.Helper()
	a := jwt.MustNew(jwt.Config{Secret: secret, Algorithms: []string{"HS256"}, Expiration: time.Hour})
	return a, func(claims auth.Claims) string {
		tb.Helper()
		tok, err := a.Encode(claims, time.Hour)
		if err != nil {
			tb.Fatal(err)
		}
		return tok
	}
}

type problem struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// get serves GET / with the bearer token to h and returns the recorder and
// its problem body (zero when the request succeeded).
func get(tb testing.TB, h http.Handler, token string) (*httptest.ResponseRecorder, problem) {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var p problem
	if w.Code != http.StatusOK {
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			tb.Errorf("Content-Type = %q; want application/problem+json", ct)
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			tb.Fatalf("body %q: %v", w.Body, err)
		}
	}
	return w, p
}

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c := auth.MustFrom[auth.Claims](r.Context())
	w.Write([]byte("hello " + c["sub"].(string)))
})

func TestStageClaims(t *testing.T) {
	ctx := context.Background()
	tokens, mint := newTokens(t)
	list := revoke.NewMemory()
	h := auth.Then(tokens, revoke.Stage(list, revoke.FromClaims)).Guard(hello)

	now := time.Now()
	keep := mint(auth.Claims{"sub": "alice", "jti": "t-keep"})
	gone := mint(auth.Claims{"sub": "alice", "jti": "t-gone"})
	old := mint(auth.Claims{"sub": "bob", "jti": "t-old", "iat": now.Add(-30 * time.Minute).Unix()})
	fresh := mint(auth.Claims{"sub": "bob", "jti": "t-fresh", "iat": now.Unix()})
	for _, tok := range []string{keep, gone, old, fresh} {
		if w, _ := get(t, h, tok); w.Code != http.StatusOK {
			t.Fatalf("before any revocation: status %d; want 200 (%s)", w.Code, w.Body)
		}
	}

	if err := list.RevokeToken(ctx, "t-gone", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := list.RevokeSubject(ctx, "bob", now.Add(-10*time.Minute), now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, token string
		wantStatus  int
	}{
		{name: "not revoked", token: keep, wantStatus: http.StatusOK},
		{name: "revoked by jti", token: gone, wantStatus: http.StatusUnauthorized},
		{name: "subject revoked, issued before", token: old, wantStatus: http.StatusUnauthorized},
		{name: "subject revoked, issued after", token: fresh, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, p := get(t, h, tt.token)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d; want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantStatus == http.StatusOK {
				return
			}
			if p.Detail != revoke.DetailRevoked {
				t.Errorf("detail = %q; want %q", p.Detail, revoke.DetailRevoked)
			}
			ch := w.Header().Get("WWW-Authenticate")
			if !strings.Contains(ch, `error="invalid_token"`) || !strings.Contains(ch, revoke.DetailRevoked) {
				t.Errorf("WWW-Authenticate = %q; want invalid_token with the detail", ch)
			}
		})
	}
}

func TestStageRejectsUnidentifiedToken(t *testing.T) {
	tokens, mint := newTokens(t)
	h := auth.Then(tokens, revoke.Stage[auth.Claims](revoke.NewMemory(), nil)).Guard(hello)
	w, p := get(t, h, mint(auth.Claims{"scope": "a"}))
	if w.Code != http.StatusUnauthorized || p.Detail != revoke.DetailUnidentified {
		t.Fatalf("got %d %q; want 401 %q", w.Code, p.Detail, revoke.DetailUnidentified)
	}
}

func TestSubjectRevocationWithoutIssuedAt(t *testing.T) {
	ctx := context.Background()
	list := revoke.NewMemory()
	now := time.Now()
	if err := list.RevokeSubject(ctx, "carol", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := list.Revoked(ctx, revoke.Token{Subject: "carol"})
	if err != nil || !got {
		t.Fatalf("Revoked(no iat) = %v, %v; want true: nothing proves it was issued after", got, err)
	}
}

// failing is a Checker whose store is down.
type failing struct{ err error }

func (f failing) Revoked(context.Context, revoke.Token) (bool, error) { return false, f.err }

func TestStageCheckerFailure(t *testing.T) {
	tokens, mint := newTokens(t)
	tok := mint(auth.Claims{"sub": "alice", "jti": "x"})
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
	}{
		{name: "plain error", err: errors.New("connection refused"), wantStatus: http.StatusServiceUnavailable, wantDetail: revoke.DetailUnavailable},
		{name: "auth error keeps its status", err: auth.Unavailable("Revocation list is loading"), wantStatus: http.StatusServiceUnavailable, wantDetail: "Revocation list is loading"},
		{name: "internal", err: &auth.Error{Status: http.StatusInternalServerError, Detail: "boom"}, wantStatus: http.StatusInternalServerError, wantDetail: "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := auth.Then(tokens, revoke.Stage(failing{tt.err}, revoke.FromClaims)).Guard(hello)
			w, p := get(t, h, tok)
			if w.Code != tt.wantStatus || p.Detail != tt.wantDetail {
				t.Fatalf("got %d %q; want %d %q", w.Code, p.Detail, tt.wantStatus, tt.wantDetail)
			}
			if strings.Contains(w.Body.String(), "connection refused") {
				t.Errorf("the cause leaked to the client: %s", w.Body)
			}
		})
	}
}

// Typed claims name their token through Identified.
type session struct {
	ID, User string
	Issued   time.Time
}

func (s session) RevocationToken() revoke.Token {
	return revoke.Token{ID: s.ID, Subject: s.User, IssuedAt: s.Issued}
}

// ticket has no method: an accessor reads it.
type ticket struct{ Serial, Holder string }

func TestStageTypedPrincipals(t *testing.T) {
	ctx := context.Background()
	list := revoke.NewMemory()
	if err := list.RevokeToken(ctx, "s-2", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	sessions := auth.New(auth.Bearer(), func(_ context.Context, raw string) (session, error) {
		return session{ID: raw, User: "u"}, nil
	})
	hs := auth.Then(sessions, revoke.Stage[session](list, nil)).Handler(func(w http.ResponseWriter, r *http.Request, s session) {
		w.Write([]byte(s.ID))
	})
	tickets := auth.New(auth.Bearer(), func(_ context.Context, raw string) (ticket, error) {
		return ticket{Serial: raw, Holder: "h"}, nil
	})
	ht := auth.Then(tickets, revoke.Stage(list, func(t ticket) revoke.Token {
		return revoke.Token{ID: t.Serial, Subject: t.Holder}
	})).Handler(func(w http.ResponseWriter, r *http.Request, t ticket) { w.Write([]byte(t.Serial)) })

	// A method expression is an accessor too.
	hm := auth.Then(sessions, revoke.Stage(list, session.RevocationToken)).Handler(func(w http.ResponseWriter, r *http.Request, s session) {
		w.Write([]byte(s.ID))
	})

	for _, h := range []http.Handler{hs, ht, hm} {
		if w, _ := get(t, h, "s-1"); w.Code != http.StatusOK || w.Body.String() != "s-1" {
			t.Errorf("s-1: %d %s; want 200 s-1", w.Code, w.Body)
		}
		if w, p := get(t, h, "s-2"); w.Code != http.StatusUnauthorized || p.Detail != revoke.DetailRevoked {
			t.Errorf("s-2: %d %q; want 401 %q", w.Code, p.Detail, revoke.DetailRevoked)
		}
	}
}

func TestStageKeepsScopesWhenRescoped(t *testing.T) {
	ctx := context.Background()
	tokens, mint := newTokens(t)
	list := revoke.NewMemory()
	checked := auth.Scoped(auth.Then(tokens, revoke.Stage[auth.Claims](list, nil)), nil)
	h := checked.Requires("reports:read").Guard(hello)

	reader := mint(auth.Claims{"sub": "a", "jti": "r", "scope": "reports:read"})
	other := mint(auth.Claims{"sub": "a", "jti": "o", "scope": "mail:read"})
	if w, _ := get(t, h, reader); w.Code != http.StatusOK {
		t.Fatalf("reader: %d; want 200", w.Code)
	}
	if w, _ := get(t, h, other); w.Code != http.StatusForbidden {
		t.Fatalf("missing scope: %d; want 403", w.Code)
	}
	if err := list.RevokeToken(ctx, "r", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if w, p := get(t, h, reader); w.Code != http.StatusUnauthorized || p.Detail != revoke.DetailRevoked {
		t.Fatalf("revoked reader: %d %q; want 401 %q", w.Code, p.Detail, revoke.DetailRevoked)
	}
}

func TestStagePanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{name: "nil checker", f: func() { revoke.Stage[auth.Claims](nil, nil) }},
		{name: "nil *Memory", f: func() { revoke.Stage[auth.Claims]((*revoke.Memory)(nil), nil) }},
		{name: "unreadable principal", f: func() { revoke.Stage[ticket](revoke.NewMemory(), nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f()
		})
	}
}

func TestMemoryExpiry(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	m := revoke.NewMemory(revoke.WithClock(clock))

	if err := m.RevokeToken(ctx, "a", clock().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeToken(ctx, "a", clock().Add(time.Second)); err != nil { // never shortens
		t.Fatal(err)
	}
	if err := m.RevokeSubject(ctx, "s", clock(), clock().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeSubject(ctx, "s", clock().Add(-time.Hour), clock().Add(time.Second)); err != nil { // never narrows
		t.Fatal(err)
	}
	old := revoke.Token{ID: "a", Subject: "s", IssuedAt: clock().Add(-time.Minute)}
	for _, tok := range []revoke.Token{{ID: "a"}, {Subject: "s", IssuedAt: clock().Add(-time.Minute)}} {
		if got, _ := m.Revoked(ctx, tok); !got {
			t.Errorf("Revoked(%+v) = false before expiry", tok)
		}
	}
	advance(2 * time.Minute)
	if got, _ := m.Revoked(ctx, old); got {
		t.Error("Revoked after the entries expired")
	}
	if err := m.RevokeToken(ctx, "b", clock().Add(time.Minute)); err != nil { // a write sweeps
		t.Fatal(err)
	}
	if n := m.Len(); n != 1 {
		t.Errorf("Len after sweep = %d; want 1", n)
	}
	if err := m.RevokeToken(ctx, "", clock()); !errors.Is(err, revoke.ErrEmpty) {
		t.Errorf("RevokeToken(\"\") = %v; want ErrEmpty", err)
	}
	if err := m.RevokeSubject(ctx, "", clock(), clock()); !errors.Is(err, revoke.ErrEmpty) {
		t.Errorf("RevokeSubject(\"\") = %v; want ErrEmpty", err)
	}
}

func TestFromClaims(t *testing.T) {
	tests := []struct {
		name   string
		claims auth.Claims
		want   revoke.Token
	}{
		{name: "all", claims: auth.Claims{"jti": "j", "sub": "s", "iat": float64(100)}, want: revoke.Token{ID: "j", Subject: "s", IssuedAt: time.Unix(100, 0)}},
		{name: "json.Number", claims: auth.Claims{"iat": json.Number("200")}, want: revoke.Token{IssuedAt: time.Unix(200, 0)}},
		{name: "int64", claims: auth.Claims{"iat": int64(300)}, want: revoke.Token{IssuedAt: time.Unix(300, 0)}},
		{name: "wrong types", claims: auth.Claims{"jti": 1, "sub": true, "iat": "100"}, want: revoke.Token{}},
		{name: "NaN iat", claims: auth.Claims{"iat": math.NaN()}, want: revoke.Token{}},
		{name: "huge iat", claims: auth.Claims{"iat": 1e300}, want: revoke.Token{}},
		{name: "bad json.Number", claims: auth.Claims{"iat": json.Number("x")}, want: revoke.Token{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := revoke.FromClaims(tt.claims)
			if got.ID != tt.want.ID || got.Subject != tt.want.Subject || !got.IssuedAt.Equal(tt.want.IssuedAt) {
				t.Errorf("FromClaims(%v) = %+v; want %+v", tt.claims, got, tt.want)
			}
		})
	}
}

// FuzzFromClaims feeds FromClaims the claims a verifier decodes from a
// token's JSON payload: it never panics, and a subject revocation treats a
// token without a readable iat as issued before it.
func FuzzFromClaims(f *testing.F) {
	f.Add(`{"jti":"a","sub":"b","iat":1700000000}`)
	f.Add(`{"iat":1e309}`)
	f.Add(`{"iat":-1e20,"sub":"x"}`)
	f.Add(`{"iat":"soon","jti":7}`)
	f.Fuzz(func(t *testing.T, payload string) {
		var c auth.Claims
		if json.Unmarshal([]byte(payload), &c) != nil {
			return
		}
		tok := revoke.FromClaims(c)
		if _, ok := c["iat"].(float64); !ok && !tok.IssuedAt.IsZero() {
			t.Errorf("iat %v of type %T read as %v", c["iat"], c["iat"], tok.IssuedAt)
		}
		if tok.IssuedAt.IsZero() && !revoke.IssuedBefore(tok, time.Unix(0, 0)) {
			t.Error("a token without iat counts as issued after a subject revocation")
		}
	})
}

// A verifier that caches verified tokens still has its tokens checked for
// revocation on every request: the stage runs after verification, cached or
// not.
func TestStageRunsOnCachedVerification(t *testing.T) {
	var mu sync.Mutex
	verified := map[string]auth.Claims{}
	var verifications int
	cachingVerify := func(_ context.Context, raw string) (auth.Claims, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := verified[raw]; ok {
			return c, nil
		}
		verifications++
		c := auth.Claims{"jti": raw, "sub": "alice"}
		verified[raw] = c
		return c, nil
	}
	list := revoke.NewMemory()
	h := auth.Then(auth.New(auth.Bearer(), cachingVerify), revoke.Stage(list, revoke.FromClaims)).Guard(hello)
	for range 3 {
		if w, _ := get(t, h, "cached-token"); w.Code != http.StatusOK {
			t.Fatalf("status %d; want 200", w.Code)
		}
	}
	if err := list.RevokeToken(context.Background(), "cached-token", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if w, p := get(t, h, "cached-token"); w.Code != http.StatusUnauthorized || p.Detail != revoke.DetailRevoked {
		t.Errorf("revoked token served from the verification cache: %d %q; want 401 %q", w.Code, p.Detail, revoke.DetailRevoked)
	}
	if verifications != 1 {
		t.Errorf("%d verifications; want 1 (the others from the cache)", verifications)
	}
}
