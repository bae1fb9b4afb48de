package authtest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/authtest"
	"github.com/typedauth/auth/jwt"
)

// response is what a test reads back from a handler.
type response struct {
	status    int
	challenge string
	ctype     string
	body      string
}

// get sends GET url with token as a bearer token (none when empty).
func get(tb testing.TB, url, token string) response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{
		status:    res.StatusCode,
		challenge: res.Header.Get("WWW-Authenticate"),
		ctype:     res.Header.Get("Content-Type"),
		body:      string(body),
	}
}

// subject answers 200 with the sub of the claims in the request's context.
var subject = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	claims := auth.MustFrom[auth.Claims](r.Context())
	fmt.Fprint(w, claims["sub"])
})

// decodeSegment decodes the header (0) or payload (1) of a compact JWS.
func decodeSegment(tb testing.TB, token string, i int) map[string]any {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d segments, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestIssuerGuardsHandler(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			iss := authtest.NewIssuer(t, authtest.WithAlgorithm(alg), authtest.WithAudience("https://api.example.com"))
			other := authtest.NewIssuer(t, authtest.WithAlgorithm(alg), authtest.WithAudience("https://api.example.com"))
			tokens := jwt.MustNew(iss.Config())
			srv := httptest.NewServer(tokens.Requires("reports:read").Guard(subject))
			t.Cleanup(srv.Close)

			now := time.Now()
			tests := []struct {
				name       string
				token      string
				wantStatus int
				wantBody   string // for 200
				wantError  string // error= of the challenge, "" for a bare one
			}{
				{name: "valid", token: iss.Token(auth.Claims{"sub": "alice", "scope": "reports:read"}), wantStatus: 200, wantBody: "alice"},
				{name: "default subject", token: iss.Token(auth.Claims{"scope": "reports:read"}), wantStatus: 200, wantBody: authtest.DefaultSubject},
				{name: "missing token", token: "", wantStatus: 401},
				{name: "missing scope", token: iss.Token(auth.Claims{"scope": "reports:write"}), wantStatus: 403, wantError: "insufficient_scope"},
				{name: "expired", token: iss.Token(auth.Claims{"scope": "reports:read", "iat": now.Add(-2 * time.Hour), "exp": now.Add(-time.Hour)}), wantStatus: 401, wantError: "invalid_token"},
				{name: "no exp", token: iss.Token(auth.Claims{"scope": "reports:read", "exp": nil}), wantStatus: 401, wantError: "invalid_token"},
				{name: "wrong audience", token: iss.Token(auth.Claims{"scope": "reports:read", "aud": "https://other.example.com"}), wantStatus: 401, wantError: "invalid_token"},
				{name: "no audience", token: iss.Token(auth.Claims{"scope": "reports:read", "aud": nil}), wantStatus: 401, wantError: "invalid_token"},
				{name: "wrong issuer", token: iss.Token(auth.Claims{"scope": "reports:read", "iss": "https://evil.example.com"}), wantStatus: 401, wantError: "invalid_token"},
				{name: "other issuer's key", token: other.Token(auth.Claims{"scope": "reports:read", "iss": iss.URL()}), wantStatus: 401, wantError: "invalid_token"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					res := get(t, srv.URL, tt.token)
					if res.status != tt.wantStatus {
						t.Fatalf("status = %d, want %d (body %s)", res.status, tt.wantStatus, res.body)
					}
					if tt.wantStatus == 200 {
						if res.body != tt.wantBody {
							t.Errorf("body = %q, want %q", res.body, tt.wantBody)
						}
						return
					}
					if res.ctype != "application/problem+json" {
						t.Errorf("Content-Type = %q, want application/problem+json", res.ctype)
					}
					if !strings.HasPrefix(res.challenge, "Bearer") {
						t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", res.challenge)
					}
					if got := strings.Contains(res.challenge, "error="); got != (tt.wantError != "") {
						t.Errorf("WWW-Authenticate = %q, want error %q", res.challenge, tt.wantError)
					}
					if tt.wantError != "" && !strings.Contains(res.challenge, `error="`+tt.wantError+`"`) {
						t.Errorf("WWW-Authenticate = %q, want error %q", res.challenge, tt.wantError)
					}
				})
			}
		})
	}
}

func TestIssuerDiscoveryAndJWKS(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t, authtest.WithAlgorithm("ES256"), authtest.WithKeyID("k1"))
	d, err := jwt.Discover(t.Context(), nil, iss.URL())
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if d.Issuer != iss.URL() || d.JWKSURI != iss.JWKSURL() {
		t.Errorf("Discover = issuer %q jwks_uri %q, want %q %q", d.Issuer, d.JWKSURI, iss.URL(), iss.JWKSURL())
	}
	if !slices.Equal(d.IDTokenSigningAlgs, []string{"ES256"}) {
		t.Errorf("id_token_signing_alg_values_supported = %v, want [ES256]", d.IDTokenSigningAlgs)
	}

	res := get(t, iss.JWKSURL(), "")
	if res.status != 200 {
		t.Fatalf("GET jwks: status %d", res.status)
	}
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal([]byte(res.body), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KID != "k1" || set.Keys[0].ALG != "ES256" || set.Keys[0].KTY != "EC" {
		t.Errorf("jwks = %+v, want one EC ES256 key with kid k1", set.Keys)
	}
	if strings.Contains(res.body, `"d"`) {
		t.Errorf("jwks publishes private material: %s", res.body)
	}

	// A verifier built on a JWKS fetched once accepts the issuer's tokens.
	ks, err := jwt.FetchKeySet(t.Context(), nil, iss.JWKSURL())
	if err != nil {
		t.Fatalf("FetchKeySet: %v", err)
	}
	a := jwt.MustNew(jwt.Config{KeySet: ks, Algorithms: []string{"ES256"}, IssuerURL: iss.URL()})
	token := iss.Token(auth.Claims{"sub": "bob"})
	if kid := decodeSegment(t, token, 0)["kid"]; kid != "k1" {
		t.Errorf("token kid = %v, want k1", kid)
	}
	claims, err := a.Verify(t.Context(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if claims["sub"] != "bob" {
		t.Errorf("sub = %v, want bob", claims["sub"])
	}
}

func TestIssuerRotate(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t, authtest.WithAlgorithm("EdDSA"))

	// Two verifiers: the issuer's Config (discovery, immediate refresh on
	// an unknown kid) and a RemoteKeySet with default options, whose first
	// unknown kid triggers a download.
	viaConfig := jwt.MustNew(iss.Config())
	remote, err := jwt.NewRemoteKeySet(t.Context(), iss.JWKSURL(), jwt.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = remote.Close() })
	viaRemote := jwt.MustNew(jwt.Config{KeySet: remote, Algorithms: []string{"EdDSA"}, IssuerURL: iss.URL()})
	srvConfig := httptest.NewServer(viaConfig.Guard(subject))
	t.Cleanup(srvConfig.Close)
	srvRemote := httptest.NewServer(viaRemote.Guard(subject))
	t.Cleanup(srvRemote.Close)

	first := iss.KeyID()
	old := iss.Token(auth.Claims{"sub": "old"})
	kid := iss.Rotate()
	if kid == first || kid != iss.KeyID() {
		t.Fatalf("Rotate = %q, KeyID = %q, first = %q; want a new kid that signs", kid, iss.KeyID(), first)
	}
	if got, want := iss.KeyIDs(), []string{first, kid}; !slices.Equal(got, want) {
		t.Errorf("KeyIDs = %v, want %v", got, want)
	}
	fresh := iss.Token(auth.Claims{"sub": "new"})
	if got := decodeSegment(t, fresh, 0)["kid"]; got != kid {
		t.Errorf("new token kid = %v, want %q", got, kid)
	}

	for _, srv := range []*httptest.Server{srvConfig, srvRemote} {
		for _, tt := range []struct{ token, sub string }{{fresh, "new"}, {old, "old"}} {
			if res := get(t, srv.URL, tt.token); res.status != 200 || res.body != tt.sub {
				t.Errorf("token of %s: status %d body %q, want 200 %q", tt.sub, res.status, res.body, tt.sub)
			}
		}
	}

	// A second rotation is picked up at once through Config's key set.
	iss.Rotate()
	if res := get(t, srvConfig.URL, iss.Token(auth.Claims{"sub": "third"})); res.status != 200 || res.body != "third" {
		t.Errorf("after the second rotation: status %d body %q, want 200 third", res.status, res.body)
	}
}

func TestIssuerTokenClaims(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	iss := authtest.NewIssuer(t,
		authtest.WithClock(clock),
		authtest.WithLifetime(10*time.Minute),
		authtest.WithAudience("a1", "a2"),
		authtest.WithTokenType("at+jwt"),
	)
	tests := []struct {
		name   string
		claims auth.Claims
		want   map[string]any // JSON-decoded values
		absent []string
	}{
		{
			name:   "defaults",
			claims: nil,
			want: map[string]any{
				"iss": iss.URL(), "sub": authtest.DefaultSubject, "aud": []any{"a1", "a2"},
				"iat": float64(now.Unix()), "exp": float64(now.Add(10 * time.Minute).Unix()),
			},
		},
		{
			name:   "explicit values win",
			claims: auth.Claims{"sub": "alice", "aud": "a2", "iss": "https://elsewhere", "exp": now.Add(time.Minute), "scope": "a:b"},
			want: map[string]any{
				"iss": "https://elsewhere", "sub": "alice", "aud": "a2",
				"iat": float64(now.Unix()), "exp": float64(now.Add(time.Minute).Unix()), "scope": "a:b",
			},
		},
		{
			name:   "nil leaves a claim out",
			claims: auth.Claims{"sub": nil, "aud": nil, "exp": nil, "iss": nil},
			want:   map[string]any{"iat": float64(now.Unix())},
			absent: []string{"sub", "aud", "exp", "iss"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := iss.Token(tt.claims)
			header := decodeSegment(t, token, 0)
			if header["typ"] != "at+jwt" || header["alg"] != "RS256" || header["kid"] != iss.KeyID() {
				t.Errorf("header = %v, want typ at+jwt, alg RS256, kid %s", header, iss.KeyID())
			}
			payload := decodeSegment(t, token, 1)
			for k, want := range tt.want {
				got, _ := json.Marshal(payload[k])
				w, _ := json.Marshal(want)
				if string(got) != string(w) {
					t.Errorf("claim %s = %s, want %s", k, got, w)
				}
			}
			for _, k := range tt.absent {
				if v, ok := payload[k]; ok {
					t.Errorf("claim %s = %v, want absent", k, v)
				}
			}
		})
	}

	// Config's verifier shares the clock and requires the type.
	a := jwt.MustNew(iss.Config())
	if _, err := a.Verify(t.Context(), iss.Token(auth.Claims{"aud": "a1"})); err != nil {
		t.Errorf("Verify(default token) = %v, want nil", err)
	}
	if _, err := a.Verify(t.Context(), iss.Token(auth.Claims{"exp": nil})); !errors.Is(err, jwt.ErrTokenNoExpiration) {
		t.Errorf("Verify(token without exp) = %v, want %v", err, jwt.ErrTokenNoExpiration)
	}
	plain := jwt.MustNew(jwt.Config{KeySet: iss.KeySet(), Algorithms: []string{"RS256"}, RequiredType: "JWT", Now: clock})
	if _, err := plain.Verify(t.Context(), iss.Token(nil)); !errors.Is(err, jwt.ErrTokenType) {
		t.Errorf("Verify(at+jwt token) with RequiredType JWT = %v, want %v", err, jwt.ErrTokenType)
	}
}

func TestIssuerConcurrentUse(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t, authtest.WithAlgorithm("ES256"))
	a := jwt.MustNew(iss.Config())
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			if i%10 == 0 {
				iss.Rotate()
			}
			if _, err := a.Verify(context.Background(), iss.Token(nil)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Verify during rotation: %v", err)
	}
	if n := len(iss.KeyIDs()); n != 5 {
		t.Errorf("len(KeyIDs) = %d, want 5", n)
	}
}

func TestIssuerPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    func()
	}{
		{name: "unknown algorithm", f: func() { authtest.NewIssuer(t, authtest.WithAlgorithm("HS256")) }},
		{name: "none", f: func() { authtest.NewIssuer(t, authtest.WithAlgorithm("none")) }},
		{name: "zero lifetime", f: func() { authtest.NewIssuer(t, authtest.WithLifetime(0)) }},
		{name: "bad exp", f: func() { authtest.NewIssuer(t, authtest.WithAlgorithm("EdDSA")).Token(auth.Claims{"exp": "tomorrow"}) }},
		{name: "KeySet after Close", f: func() {
			iss := authtest.StartIssuer(authtest.WithAlgorithm("EdDSA"))
			iss.Close()
			iss.Close() // idempotent
			iss.KeySet()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "authtest: ") {
					t.Errorf("panic %q, want an authtest: message", msg)
				}
			}()
			tt.f()
		})
	}
}

func TestIssuerClose(t *testing.T) {
	t.Parallel()
	iss := authtest.StartIssuer(authtest.WithAlgorithm("EdDSA"))
	a := jwt.MustNew(iss.Config())
	iss.Close()
	if _, err := http.Get(iss.JWKSURL()); err == nil {
		t.Error("GET jwks after Close succeeded, want an error")
	}
	// Keys already loaded keep verifying.
	if _, err := a.Verify(t.Context(), iss.Token(nil)); err != nil {
		t.Errorf("Verify after Close = %v, want nil", err)
	}
}

func TestIssuerTLS(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t, authtest.WithTLS(), authtest.WithAlgorithm("EdDSA"))
	if !strings.HasPrefix(iss.URL(), "https://") || !strings.HasPrefix(iss.JWKSURL(), "https://") {
		t.Fatalf("URL = %s, JWKSURL = %s; want https", iss.URL(), iss.JWKSURL())
	}
	a := jwt.MustNew(iss.Config())
	if _, err := a.Verify(t.Context(), iss.Token(nil)); err != nil {
		t.Errorf("Verify = %v, want nil", err)
	}
	// Fetching the set once, with the issuer's client, which trusts the
	// certificate, then constructing.
	keys, err := jwt.FetchKeySet(t.Context(), iss.Client(), iss.JWKSURL())
	if err != nil {
		t.Fatalf("FetchKeySet = %v, want nil", err)
	}
	cfg := iss.Config()
	cfg.KeySet = keys
	b := jwt.MustNew(cfg)
	if _, err := b.Verify(t.Context(), iss.Token(nil)); err != nil {
		t.Errorf("Verify with the fetched set = %v, want nil", err)
	}
	// A client that does not trust the certificate cannot discover it.
	if _, err := jwt.Discover(t.Context(), nil, iss.URL()); !errors.Is(err, jwt.ErrKeySetUnavailable) {
		t.Errorf("Discover with the default client = %v, want %v", err, jwt.ErrKeySetUnavailable)
	}
}
