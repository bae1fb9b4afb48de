package jwt_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// TestRemoteDeclaredAlgorithms: without Config.Algorithms, a remote set
// accepts the asymmetric algorithms its issuer declares: those of its
// discovery document, else the alg of its keys. An explicit list wins.
func TestRemoteDeclaredAlgorithms(t *testing.T) {
	t.Parallel()
	rs := jwt.MustNewIssuer(jwt.Config{Keys: []jwt.Key{{ID: "rs", Key: rsaKey()}}, Algorithms: []string{"RS256"}, Expiration: time.Hour, Now: clock})
	es := jwt.MustNewIssuer(jwt.Config{Keys: []jwt.Key{{ID: "es", Key: p256Key()}}, Algorithms: []string{"ES256"}, Expiration: time.Hour, Now: clock})
	ed := jwt.MustNewIssuer(jwt.Config{Keys: []jwt.Key{{ID: "ed", Key: edKey()}}, Algorithms: []string{"EdDSA"}, Expiration: time.Hour, Now: clock})
	keys := jwkset.JWKSMarshal{Keys: append(append(rs.JWKS().Keys, es.JWKS().Keys...), ed.JWKS().Keys...)}
	for i := range keys.Keys {
		keys.Keys[i].ALG = "" // the algorithms come from discovery, or from the key types
	}
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA", "HS256", "none"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) { _ = json.NewEncoder(w).Encode(keys) })
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	discovered, err := jwt.DiscoverKeySet(t.Context(), srv.URL, jwt.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = discovered.Close() })
	if got := strings.Join(discovered.Algorithms(), " "); got != "RS256 ES256 EdDSA" {
		t.Errorf("discovered Algorithms() = %q; want the asymmetric ones declared", got)
	}
	fromKeys, err := jwt.NewRemoteKeySet(t.Context(), srv.URL+"/jwks", jwt.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fromKeys.Close() })
	if got := strings.Join(fromKeys.Algorithms(), " "); got != "RS256 ES256 EdDSA" {
		t.Errorf("key-derived Algorithms() = %q; want RS256 ES256 EdDSA", got)
	}

	tokens := map[string]string{}
	for alg, iss := range map[string]*jwt.Issuer{"RS256": rs, "ES256": es, "EdDSA": ed} {
		tok, err := iss.Encode(auth.Claims{"sub": "u"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		tokens[alg] = tok
	}
	tests := []struct {
		name string
		cfg  jwt.Config
		want map[string]int
	}{
		{name: "discovery", cfg: jwt.Config{KeySet: discovered, Now: clock},
			want: map[string]int{"RS256": 200, "ES256": 200, "EdDSA": 200}},
		{name: "keys", cfg: jwt.Config{KeySet: fromKeys, Now: clock},
			want: map[string]int{"RS256": 200, "ES256": 200, "EdDSA": 200}},
		{name: "explicit list wins", cfg: jwt.Config{KeySet: discovered, Algorithms: []string{"RS256"}, Now: clock},
			want: map[string]int{"RS256": 200, "ES256": 401, "EdDSA": 401}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuth(t, tt.cfg)
			for alg, want := range tt.want {
				if got := do(t, a.Guard(subHandler), tokens[alg]).Code; got != want {
					t.Errorf("%s token: status %d; want %d", alg, got, want)
				}
			}
			hs := hs256(`{"alg":"HS256"}`, `{"sub":"u","exp":1800000000}`, secret64[:32])
			if got := do(t, a.Guard(subHandler), hs).Code; got != 401 {
				t.Errorf("HS256 token: status %d; want 401 (never accepted from a remote set)", got)
			}
		})
	}
}

// TestTokenCap: the default cap is 16 KiB, so a validly signed 12 KiB
// token (an enterprise token with many group claims) is accepted, and one
// over the cap is refused before parsing.
func TestTokenCap(t *testing.T) {
	t.Parallel()
	a := newAuth(t, hsConfig())
	groups := make([]string, 300)
	for i := range groups {
		groups[i] = "group-with-a-rather-long-name-" + strings.Repeat("x", 3)
	}
	big := encode(t, a, auth.Claims{"sub": "user-1", "groups": groups})
	if len(big) < 12<<10 || len(big) > jwt.DefaultMaxTokenLength {
		t.Fatalf("token of %d bytes; want 12 KiB to 16 KiB", len(big))
	}
	if rec := do(t, a.Guard(subHandler), big); rec.Code != http.StatusOK {
		t.Errorf("a %d-byte token: status %d; want 200 (body %s)", len(big), rec.Code, rec.Body)
	}
	huge := encode(t, a, auth.Claims{"sub": "user-1", "groups": append(groups, groups...)})
	if rec := do(t, a.Guard(subHandler), huge); rec.Code != http.StatusUnauthorized {
		t.Errorf("a %d-byte token: status %d; want 401", len(huge), rec.Code)
	}
	if _, err := a.Verify(context.Background(), huge); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("Verify of a %d-byte token: %v; want too long", len(huge), err)
	}
}
