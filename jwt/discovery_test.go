package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// issuerTestServer serves a discovery document and a key set. The document
// is built by doc from the server's own URL once it is known.
type issuerTestServer struct {
	*httptest.Server
	discoveryPath atomic.Value // path of the last discovery request
}

func newIssuerTestServer(tb testing.TB, jwks []byte, doc func(base string) map[string]any) *issuerTestServer {
	tb.Helper()
	s := &issuerTestServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			s.discoveryPath.Store(r.URL.Path)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(doc(s.URL))
		case r.URL.Path == "/jwks":
			w.Write(jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	tb.Cleanup(s.Close)
	return s
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	jwks := jwksJSON(t, jwkOf(t, k.p256.Public(), map[string]any{"kid": "ec"}))
	standard := func(issuerSuffix string) func(string) map[string]any {
		return func(base string) map[string]any {
			return map[string]any{
				"issuer":                                base + issuerSuffix,
				"jwks_uri":                              base + "/jwks",
				"authorization_endpoint":                base + "/authorize",
				"token_endpoint":                        base + "/token",
				"id_token_signing_alg_values_supported": []string{"ES256"},
				"response_types_supported":              []string{"code"},
			}
		}
	}
	tests := []struct {
		name     string
		doc      func(base string) map[string]any
		suffix   string // appended to the server URL to make the issuer URL
		wantPath string
		wantErr  error // nil: success
	}{
		{name: "issuer at the root", doc: standard(""), wantPath: "/.well-known/openid-configuration"},
		{name: "issuer with a trailing slash", doc: standard("/"), suffix: "/", wantPath: "/.well-known/openid-configuration"},
		{name: "issuer with a path", doc: standard("/realms/main"), suffix: "/realms/main", wantPath: "/realms/main/.well-known/openid-configuration"},
		{name: "issuer mismatch", doc: func(string) map[string]any {
			return map[string]any{"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"}
		}, wantErr: ErrIssuerMismatch},
		{name: "trailing slash mismatch", doc: standard("/"), wantErr: ErrIssuerMismatch},
		{name: "missing trailing slash", doc: standard(""), suffix: "/", wantErr: ErrIssuerMismatch},
		{name: "no issuer", doc: func(base string) map[string]any { return map[string]any{"jwks_uri": base + "/jwks"} }, wantErr: ErrIssuerMismatch},
		{name: "plain http jwks_uri", doc: func(base string) map[string]any {
			return map[string]any{"issuer": base, "jwks_uri": "http://keys.example.com/jwks"}
		}, wantErr: ErrInsecureURL},
		{name: "jwks_uri with another scheme", doc: func(base string) map[string]any {
			return map[string]any{"issuer": base, "jwks_uri": "ftp://keys.example.com/jwks"}
		}, wantErr: ErrInsecureURL},
		{name: "no jwks_uri", doc: func(base string) map[string]any { return map[string]any{"issuer": base} }, wantErr: ErrKeySetUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newIssuerTestServer(t, jwks, tt.doc)
			issuer := srv.URL + tt.suffix
			d, err := Discover(context.Background(), nil, issuer)
			if tt.wantErr != nil {
				if d != nil || !errors.Is(err, tt.wantErr) {
					t.Fatalf("Discover(%q) = %+v, %v; want %v", issuer, d, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover(%q) = %v", issuer, err)
			}
			if d.Issuer != issuer || d.JWKSURI != srv.URL+"/jwks" || d.TokenEndpoint != srv.URL+"/token" {
				t.Errorf("Discover(%q) = %+v; want the served document", issuer, d)
			}
			if len(d.IDTokenSigningAlgs) != 1 || d.IDTokenSigningAlgs[0] != "ES256" {
				t.Errorf("IDTokenSigningAlgs = %v; want [ES256]", d.IDTokenSigningAlgs)
			}
			if got, _ := srv.discoveryPath.Load().(string); got != tt.wantPath {
				t.Errorf("discovery requested %q; want %q", got, tt.wantPath)
			}
		})
	}
}

func TestDiscoverFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		issuer  string // used instead of the server when set
		wantErr error
	}{
		{name: "plain http issuer", issuer: "http://login.example.com", wantErr: ErrInsecureURL},
		{name: "garbage", handler: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{nope")) }, wantErr: ErrKeySetUnavailable},
		{name: "status 404", handler: http.NotFound, wantErr: ErrKeySetUnavailable},
		{name: "status 500", handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }, wantErr: ErrKeySetUnavailable},
		{name: "too large", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"issuer":"` + strings.Repeat("a", int(DefaultMaxBodyBytes)) + `"}`))
		}, wantErr: ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			issuer := tt.issuer
			if issuer == "" {
				srv := httptest.NewServer(tt.handler)
				t.Cleanup(srv.Close)
				issuer = srv.URL
			}
			if d, err := Discover(context.Background(), nil, issuer); d != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Discover(%q) = %+v, %v; want %v", issuer, d, err, tt.wantErr)
			}
		})
	}
}

func TestDiscoverKeySet(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	jwks := jwksJSON(t, jwkOf(t, k.p256.Public(), map[string]any{"kid": "ec"}))
	srv := newIssuerTestServer(t, jwks, func(base string) map[string]any {
		return map[string]any{"issuer": base, "jwks_uri": base + "/jwks"}
	})
	ks, err := DiscoverKeySet(context.Background(), srv.URL, RemoteOptions{})
	if err != nil {
		t.Fatalf("DiscoverKeySet = %v", err)
	}
	defer ks.Close()
	if ks.URL() != srv.URL+"/jwks" {
		t.Errorf("URL() = %q; want the discovered jwks_uri", ks.URL())
	}
	wantKey(t, ks, "ec", "ES256", k.p256.Public())

	mismatch := newIssuerTestServer(t, jwks, func(base string) map[string]any {
		return map[string]any{"issuer": base + "/other", "jwks_uri": base + "/jwks"}
	})
	if ks, err := DiscoverKeySet(context.Background(), mismatch.URL, RemoteOptions{AllowInitialFailure: true}); ks != nil || !errors.Is(err, ErrIssuerMismatch) {
		t.Fatalf("DiscoverKeySet with a mismatched issuer = %v, %v; want ErrIssuerMismatch", ks, err)
	}
	if ks, err := DiscoverKeySet(context.Background(), srv.URL, RemoteOptions{MaxBodyBytes: -1}); ks != nil || err == nil {
		t.Fatalf("DiscoverKeySet with negative options = %v, %v; want an error", ks, err)
	}
}

// FuzzParseDiscovery feeds arbitrary documents to the discovery parser. It
// must never panic, and a document it accepts must name the expected
// issuer and an https (or loopback) jwks_uri.
func FuzzParseDiscovery(f *testing.F) {
	const issuer = "https://login.example.com"
	f.Add([]byte(`{"issuer":"https://login.example.com","jwks_uri":"https://login.example.com/jwks"}`))
	f.Add([]byte(`{"issuer":"https://login.example.com","jwks_uri":"http://127.0.0.1:8080/jwks"}`))
	f.Add([]byte(`{"issuer":"https://login.example.com","jwks_uri":"http://keys.example.com/jwks"}`))
	f.Add([]byte(`{"issuer":"https://login.example.com/","jwks_uri":"https://login.example.com/jwks"}`))
	f.Add([]byte(`{"issuer":"https://login.example.com","jwks_uri":"https://[::1"}`))
	f.Add([]byte(`{"issuer":"https://login.example.com","jwks_uri":""}`))
	f.Add([]byte(`{"issuer":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := parseDiscovery(body, issuer, false)
		if err != nil {
			if d != nil {
				t.Fatalf("parseDiscovery returned a document with error %v", err)
			}
			return
		}
		if d.Issuer != issuer {
			t.Fatalf("accepted issuer %q; want %q", d.Issuer, issuer)
		}
		u, err := url.Parse(d.JWKSURI)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname()))) {
			t.Fatalf("accepted jwks_uri %q", d.JWKSURI)
		}
	})
}
