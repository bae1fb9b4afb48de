package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// wellKnownPath is appended to an issuer URL to find its OpenID Provider
// configuration (OpenID Connect Discovery 1.0 §4).
const wellKnownPath = "/.well-known/openid-configuration"

// ErrIssuerMismatch means a discovery document names an issuer other than
// the URL it was fetched for (OpenID Connect Discovery 1.0 §4.3). Such a
// document must not be used: it would let one issuer vouch for another.
var ErrIssuerMismatch = errors.New("jwt: discovery document issuer does not match the issuer URL")

// Discovery is the part of an OpenID Provider configuration (OpenID
// Connect Discovery 1.0 §3) that token verification uses. Fields a
// provider leaves out are empty.
type Discovery struct {
	// Issuer is the provider's issuer identifier, equal to the issuer URL
	// it was discovered from: the value to expect in the iss claim.
	Issuer string `json:"issuer"`
	// JWKSURI is the URL of the provider's JSON Web Key Set.
	JWKSURI string `json:"jwks_uri"`
	// AuthorizationEndpoint is the URL of the authorization endpoint.
	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	// TokenEndpoint is the URL of the token endpoint.
	TokenEndpoint string `json:"token_endpoint,omitempty"`
	// UserinfoEndpoint is the URL of the UserInfo endpoint.
	UserinfoEndpoint string `json:"userinfo_endpoint,omitempty"`
	// IDTokenSigningAlgs lists the algorithms the provider signs ID tokens
	// with (id_token_signing_alg_values_supported).
	IDTokenSigningAlgs []string `json:"id_token_signing_alg_values_supported,omitempty"`
	// ScopesSupported lists the scopes the provider supports.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
}

// Discover fetches the OpenID Provider configuration of issuerURL, at
// issuerURL (without a trailing slash) + "/.well-known/openid-configuration".
//
// The download is bounded like [FetchKeySet]'s: ctx and
// [DefaultFetchTimeout], a [DefaultMaxBodyBytes] body, status 200, and
// redirects only to https. A nil client means a client with a
// [DefaultFetchTimeout] timeout.
//
// It checks what a verifier relies on:
//   - issuerURL is https (http is accepted on loopback hosts, so that
//     tests can use httptest servers); otherwise [ErrInsecureURL];
//   - the document's issuer equals issuerURL exactly, trailing slash
//     included (Discovery §4.3); otherwise [ErrIssuerMismatch];
//   - jwks_uri is present and https (again http only on loopback hosts);
//     otherwise [ErrInsecureURL].
//
// It does not check the other endpoints, which token verification does not
// use. Download and parse failures match [ErrKeySetUnavailable] (503).
func Discover(ctx context.Context, client *http.Client, issuerURL string) (*Discovery, error) {
	return discover(ctx, issuerURL, oneShot(client))
}

// discover is Discover with the client, limits and InsecureAllowHTTP of o.
func discover(ctx context.Context, issuerURL string, o *RemoteOptions) (*Discovery, error) {
	// The document's URL has the issuer URL's scheme and host: checking it
	// checks both.
	u, err := checkFetchURL(strings.TrimSuffix(issuerURL, "/")+wellKnownPath, o.InsecureAllowHTTP)
	if err != nil {
		return nil, err
	}
	body, err := fetchDocument(ctx, u, o)
	if err != nil {
		return nil, err
	}
	d, err := parseDiscovery(body, issuerURL, o.InsecureAllowHTTP)
	if err != nil {
		return nil, fmt.Errorf("jwt: discovery document at %s: %w", u.Redacted(), err)
	}
	return d, nil
}

// parseDiscovery decodes a discovery document and checks it against the
// issuer URL it was fetched for.
func parseDiscovery(body []byte, issuerURL string, allowHTTP bool) (*Discovery, error) {
	var d Discovery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeySetUnavailable, err)
	}
	if d.Issuer != issuerURL {
		return nil, fmt.Errorf("%w: got %q, want %q", ErrIssuerMismatch, d.Issuer, issuerURL)
	}
	if d.JWKSURI == "" {
		return nil, fmt.Errorf("%w: no jwks_uri", ErrKeySetUnavailable)
	}
	if _, err := checkFetchURL(d.JWKSURI, allowHTTP); err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	return &d, nil
}

// DiscoverKeySet discovers issuerURL's configuration as [Discover] does and
// returns a [RemoteKeySet] for its jwks_uri, built with opts. The discovery
// download uses opts.Client, opts.FetchTimeout and opts.MaxBodyBytes, and
// opts.InsecureAllowHTTP relaxes the https rule for both URLs. Discovery
// happens once: a provider that moves its jwks_uri needs a new set.
//
// The asymmetric algorithms of the document's
// id_token_signing_alg_values_supported become the set's
// [RemoteKeySet.Algorithms], which a [Config] without Algorithms accepts.
//
// A failed discovery is returned even when opts.AllowInitialFailure is set,
// since without it there is no key set URL to retry.
//
// The set remembers where it was discovered ([RemoteKeySet.DiscoveryURL]),
// so that an auth built on it is documented for API documentation as an
// OpenID Connect security scheme with that URL rather than a plain bearer
// token.
func DiscoverKeySet(ctx context.Context, issuerURL string, opts RemoteOptions) (*RemoteKeySet, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	d, err := discover(ctx, issuerURL, &opts)
	if err != nil {
		return nil, err
	}
	var declared []*algorithm
	for _, name := range d.IDTokenSigningAlgs {
		if a := lookupAlgorithm(name); a != nil && a.kind != kindHMAC && !slices.Contains(declared, a) {
			declared = append(declared, a)
		}
	}
	ks, err := newRemoteKeySet(ctx, d.JWKSURI, opts, declared)
	if err != nil {
		return nil, err
	}
	ks.discovery = strings.TrimSuffix(issuerURL, "/") + wellKnownPath
	return ks, nil
}
