package jwt_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// An auth whose keys came from OpenID Connect discovery is documented as an
// openIdConnect security scheme with the discovery document's URL; one whose
// keys came from a plain JWKS URL stays an HTTP bearer JWT scheme.
func TestDiscoveredKeySetDescription(t *testing.T) {
	t.Parallel()
	iss := jwt.MustNewIssuer(jwt.Config{Keys: []jwt.Key{{ID: "rs", Key: rsaKey()}}, Algorithms: []string{"RS256"}, Expiration: time.Hour, Now: clock})
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL + "/", "jwks_uri": srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) { _ = json.NewEncoder(w).Encode(iss.JWKS()) })
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	discovered, err := jwt.DiscoverKeySet(t.Context(), srv.URL+"/", jwt.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = discovered.Close() })
	wantURL := srv.URL + "/.well-known/openid-configuration"
	if got := discovered.DiscoveryURL(); got != wantURL {
		t.Errorf("DiscoveryURL() = %q; want %q", got, wantURL)
	}
	plain, err := jwt.NewRemoteKeySet(t.Context(), srv.URL+"/jwks", jwt.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })
	if got := plain.DiscoveryURL(); got != "" {
		t.Errorf("DiscoveryURL() of a set from a JWKS URL = %q; want none", got)
	}

	oidc := newAuth(t, jwt.Config{KeySet: discovered, Algorithms: []string{"RS256"}, Now: clock})
	if got, want := oidc.Descriptions(), []auth.Description{{Type: "openIdConnect", OpenIDConnectURL: wantURL}}; !reflect.DeepEqual(got, want) {
		t.Errorf("discovered: Descriptions() = %+v; want %+v", got, want)
	}
	s := auth.SecuritySchemes{}
	if got, want := s.Require(oidc.Requires("items:read")), []auth.SecurityRequirement{{"openIdConnect": {"items:read"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Require = %v; want %v", got, want)
	}
	if got, want := s["openIdConnect"], (auth.SecurityScheme{Type: "openIdConnect", OpenIDConnectURL: wantURL}); got != want {
		t.Errorf("scheme = %+v; want %+v", got, want)
	}
	// Tokens are verified as before.
	tok, err := iss.Encode(auth.Claims{"sub": "u"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := do(t, oidc.Guard(subHandler), tok).Code; got != http.StatusOK {
		t.Errorf("a token of the provider: status %d; want 200", got)
	}

	fromJWKS := newAuth(t, jwt.Config{KeySet: plain, Algorithms: []string{"RS256"}, Now: clock})
	if got, want := fromJWKS.Descriptions(), []auth.Description{{Type: "http", Scheme: "bearer", BearerFormat: "JWT"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("from a JWKS URL: Descriptions() = %+v; want %+v", got, want)
	}
	// The caller's description wins, and a token in a cookie stays an apiKey.
	own := newAuth(t, jwt.Config{KeySet: discovered, Algorithms: []string{"RS256"}, Now: clock},
		jwt.WithAuthOptions(auth.WithDescription(auth.Description{Type: "http", Scheme: "bearer", Description: "mine"})))
	if got, want := own.Descriptions(), []auth.Description{{Type: "http", Scheme: "bearer", Description: "mine"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("with WithDescription: Descriptions() = %+v; want %+v", got, want)
	}
	cookie := newAuth(t, jwt.Config{KeySet: discovered, Algorithms: []string{"RS256"}, Now: clock}, jwt.WithScheme(auth.Cookie("session")))
	if got, want := cookie.Descriptions(), []auth.Description{{Type: "apiKey", In: "cookie", Name: "session"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("in a cookie: Descriptions() = %+v; want %+v", got, want)
	}
}
