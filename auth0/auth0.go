package auth0

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/jwks"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	jose "gopkg.in/go-jose/go-jose.v2"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

// Defaults of [NewTenant].
const (
	// DefaultCacheTTL is how long fetched signing keys are used before they
	// are refreshed in the background (see [WithCacheTTL]).
	DefaultCacheTTL = 5 * time.Minute
	// DefaultUnknownKIDInterval is the least time between two downloads
	// of the tenant's JWKS made because a token named a kid that the cached
	// set does not hold (see [WithUnknownKIDInterval]).
	DefaultUnknownKIDInterval = time.Minute
	// DefaultTimeout bounds one fetch of the tenant's JWKS (see
	// [WithTimeout]).
	DefaultTimeout = 10 * time.Second
	// MaxJWKSSize is the largest JWKS body, in bytes, that is read; a
	// larger one is a key server failure (503).
	MaxJWKSSize = 1 << 20
	// JWKSPath is where an Auth0 tenant publishes its signing keys.
	JWKSPath = "/.well-known/jwks.json"
)

// Option configures [New] and [NewTenant]. Options are built by the With
// functions of this package; other packages cannot implement it.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// tenantOption configures the validator that NewTenant builds; New, which is
// given a validator, refuses it.
type tenantOption struct {
	name string
	f    func(*config)
}

func (o tenantOption) apply(c *config) {
	c.tenantOnly = append(c.tenantOnly, o.name)
	o.f(c)
}

type config struct {
	scheme   auth.Scheme
	authOpts []auth.Option

	tenantOnly []string
	baseURL    string
	client     *http.Client
	timeout    time.Duration
	cacheTTL   time.Duration
	unknownKID time.Duration
	skew       time.Duration
}

// WithScheme sets where the token is read from (default [auth.Bearer]), as
// the seed's scheme argument does. A nil scheme keeps the default.
func WithScheme(s auth.Scheme) Option {
	return optionFunc(func(c *config) {
		if s != nil {
			c.scheme = s
		}
	})
}

// WithAuthOptions passes options of package auth to the Auth: an error
// writer, a challenge realm, the longest credential, a description.
func WithAuthOptions(opts ...auth.Option) Option {
	opts = append([]auth.Option(nil), opts...)
	return optionFunc(func(c *config) { c.authOpts = append(c.authOpts, opts...) })
}

// WithScopeValidator sets how [auth.ScopedAuth.Requires] matches required
// scopes against the granted ones (default [scopes.Hierarchical]). It is
// short for WithAuthOptions(auth.WithScopeValidator(v)).
func WithScopeValidator(v scopes.Validator) Option {
	return WithAuthOptions(auth.WithScopeValidator(v))
}

// WithBaseURL fetches the signing keys from baseURL + [JWKSPath] instead of
// https://DOMAIN/.well-known/jwks.json, for a custom domain in front of the
// tenant, a proxy or a test server. The issuer that tokens must name stays
// https://DOMAIN/. A plain http URL is accepted because the keys could be
// served on loopback; over a network it lets anyone on the path replace the
// keys, so use https there. Redirects are followed, to any host, but never
// from https to plain http. For [NewTenant] only.
func WithBaseURL(baseURL string) Option {
	return tenantOption{name: "WithBaseURL", f: func(c *config) { c.baseURL = baseURL }}
}

// WithHTTPClient sets the client that fetches the signing keys (default: a
// client with [DefaultTimeout]). The client is not modified: requests go
// through a copy whose transport wraps c's, so that an HTTP error status or
// an oversized body is a failure (503) rather than an empty key set, and
// whose redirect policy refuses to go from https to plain http before
// consulting c's own. Its Timeout is kept unless [WithTimeout] is given or
// it is zero. For [NewTenant] only.
func WithHTTPClient(c *http.Client) Option {
	return tenantOption{name: "WithHTTPClient", f: func(cfg *config) { cfg.client = c }}
}

// WithTimeout bounds one fetch of the signing keys (default
// [DefaultTimeout]). While a fetch is pending, requests that need the keys
// wait for it; a fetch that times out is answered with 503. For
// [NewTenant] only.
func WithTimeout(d time.Duration) Option {
	return tenantOption{name: "WithTimeout", f: func(c *config) { c.timeout = d }}
}

// WithCacheTTL sets how long fetched signing keys are used before they are
// refreshed (default [DefaultCacheTTL]). After it, the next request triggers
// a refresh in the background and is verified with the keys in hand; if the
// refresh fails, the keys are dropped and the next request fetches them
// again. A key rotated in before the TTL ends is picked up earlier, when a
// token names it (see [WithUnknownKIDInterval]). For [NewTenant] only.
func WithCacheTTL(d time.Duration) Option {
	return tenantOption{name: "WithCacheTTL", f: func(c *config) { c.cacheTTL = d }}
}

// WithUnknownKIDInterval sets the least time between two downloads of the
// tenant's JWKS made because a token's kid is not in the cached set
// (default [DefaultUnknownKIDInterval]). Such a token makes the Auth
// download the set again, unless it did so for an unknown kid less than d
// ago, and verify the token against the new set: a key the tenant rotated
// in is accepted at once rather than after [WithCacheTTL]. Concurrent
// requests share one download; tokens with made-up kids therefore cost the
// tenant at most one request per d, and are rejected as [ErrUnknownKey].
// If the download fails (see [ErrKeysUnavailable]) or yields no usable
// key, the cached keys are kept and go on verifying the tokens they sign,
// and the request that waited for the download is answered with 503;
// within d after it, tokens of unknown kids are rejected as unknown
// without a download. For [NewTenant] only.
func WithUnknownKIDInterval(d time.Duration) Option {
	return tenantOption{name: "WithUnknownKIDInterval", f: func(c *config) { c.unknownKID = d }}
}

// WithAllowedClockSkew tolerates clocks that differ by up to d when
// checking exp, nbf and iat (default 0). For [NewTenant] only.
func WithAllowedClockSkew(d time.Duration) Option {
	return tenantOption{name: "WithAllowedClockSkew", f: func(c *config) { c.skew = d }}
}

func newConfig(opts []Option) *config {
	c := &config{scheme: auth.Bearer()}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// description is the OpenAPI description of every Auth of this package;
// a WithAuthOptions(auth.WithDescription(…)) replaces it.
var description = auth.WithDescription(auth.Description{
	Type:         "http",
	Scheme:       "bearer",
	BearerFormat: "JWT",
	Description:  "Auth0 access token",
})

// New returns an Auth that verifies tokens with v, the validator of Auth0's
// Go SDK, as the seed's Auth0(api_client) does. The principal is the
// token's claims, registered and custom alike, in one map (claims["sub"]);
// the scopes that [auth.ScopedAuth.Requires] checks are those of [Scopes].
//
// Build v with [validator.WithCustomClaims]([CustomClaims]) to get the
// custom claims; without it the principal holds the registered claims and
// the JSON form of v's own custom claims, which costs an extra encoding per
// request. Build it with a key func wrapped by [KeyFunc], so that a key
// server failure is answered with 503; without it, network, timeout and JSON
// errors are still recognised, but a key func that fails otherwise makes
// tokens look invalid (401).
//
// Tokens without an exp claim are rejected ([ErrNoExpiry]), whatever v
// accepts. Rejections are [*auth.Error]s: 401 invalid_token with a fixed
// detail for each reason (see [ErrTokenExpired] and its siblings), 503 when
// the keys cannot be fetched. New panics if v is nil or if given an option that
// configures the validator NewTenant builds (such as [WithBaseURL]): set
// that up in v instead.
//
// The Auth is safe for concurrent use if v is.
func New(v *validator.Validator, opts ...Option) *auth.ScopedAuth[auth.Claims] {
	if v == nil {
		panic("auth0: New: nil validator")
	}
	c := newConfig(opts)
	if len(c.tenantOnly) > 0 {
		panic(fmt.Sprintf("auth0: New: %s configures the validator of NewTenant; build it into the validator given to New",
			strings.Join(c.tenantOnly, ", ")))
	}
	return build(v, "", nil, c)
}

// NewTenant returns an Auth for the access tokens that the Auth0 tenant at
// domain (such as "your-tenant.auth0.com", or a custom domain) issues for
// the API audience: RS256 tokens whose iss is "https://DOMAIN/" and whose
// aud contains audience, signed by a key of the tenant's JWKS at
// https://DOMAIN/.well-known/jwks.json. The keys are fetched on the first
// request by the SDK's [jwks.Provider] and cached (see [WithCacheTTL]); a
// token whose kid is not in the cached set has them fetched again, at most
// once per [WithUnknownKIDInterval]. Requests that arrive while a fetch is
// pending share it. Everything else is as for [New].
//
// NewTenant returns an error if domain is not a bare host name (with an
// optional port), if audience is empty, or if an option is invalid. It
// fetches nothing: a tenant that cannot be reached shows as 503 responses.
func NewTenant(domain, audience string, opts ...Option) (*auth.ScopedAuth[auth.Claims], error) {
	c := newConfig(opts)
	if err := checkDomain(domain); err != nil {
		return nil, err
	}
	if audience == "" {
		return nil, errors.New("auth0: the audience is empty; give the identifier of the API")
	}
	issuer := &url.URL{Scheme: "https", Host: domain, Path: "/"}
	base := issuer.String()
	if c.baseURL != "" {
		u, err := url.Parse(c.baseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("auth0: WithBaseURL(%q): want an http or https URL with a host and no query", c.baseURL)
		}
		base = u.String()
	}
	jwksURL, err := url.Parse(strings.TrimSuffix(base, "/") + JWKSPath)
	if err != nil {
		return nil, fmt.Errorf("auth0: building the JWKS URL: %w", err)
	}
	if c.timeout < 0 || c.cacheTTL < 0 || c.unknownKID < 0 || c.skew < 0 {
		return nil, errors.New("auth0: WithTimeout, WithCacheTTL, WithUnknownKIDInterval and WithAllowedClockSkew take durations that are not negative")
	}
	provider := jwks.NewProvider(issuer,
		jwks.WithCustomJWKSURI(jwksURL),
		jwks.WithCustomClient(fetchClient(c.client, c.timeout)))
	keys := &tenantKeys{
		download: provider.KeyFunc,
		ttl:      cmp.Or(c.cacheTTL, DefaultCacheTTL),
		interval: cmp.Or(c.unknownKID, DefaultUnknownKIDInterval),
	}
	v, err := validator.New(KeyFunc(keys.keyFunc), validator.RS256, issuer.String(), []string{audience},
		validator.WithCustomClaims(CustomClaims),
		validator.WithAllowedClockSkew(c.skew))
	if err != nil {
		return nil, fmt.Errorf("auth0: building the validator: %w", err)
	}
	return build(v, string(validator.RS256), keys.refresh, c), nil
}

// checkDomain accepts a host name with an optional port, as Auth0 shows the
// domain of a tenant, and nothing that looks like a URL.
func checkDomain(domain string) error {
	if domain == "" {
		return errors.New("auth0: the domain is empty; give the tenant's domain, such as your-tenant.auth0.com")
	}
	u, err := url.Parse("https://" + domain)
	if err != nil || u.Host != domain || u.Hostname() == "" || strings.ContainsAny(domain, "/?#@ ") {
		return fmt.Errorf("auth0: domain %q is not a host name such as your-tenant.auth0.com (no scheme, no path)", domain)
	}
	return nil
}

// errNoExpiry is the fixed rejection of a token without exp.
var errNoExpiry = rejectNoExpiry.with(nil)

// build wires v into a ScopedAuth. alg is the algorithm v accepts, if known.
// refresh, if not nil, is called when no key of v's set has the token's kid
// (go-jose then reports [jose.ErrUnsupportedKeyType]); unless it fails, the
// token is verified once more.
func build(v *validator.Validator, alg string, refresh func(context.Context) error, c *config) *auth.ScopedAuth[auth.Claims] {
	verify := func(ctx context.Context, raw string) (auth.Claims, error) {
		if !compact(raw) {
			return nil, errNotCompact
		}
		res, err := v.ValidateToken(ctx, raw)
		if err != nil && refresh != nil && errors.Is(err, jose.ErrUnsupportedKeyType) {
			if rerr := refresh(ctx); rerr != nil {
				return nil, rejectUnavailable.with(&keyFetchError{err: rerr})
			}
			res, err = v.ValidateToken(ctx, raw)
		}
		if err != nil {
			return nil, classify(err, raw, alg)
		}
		vc, ok := res.(*validator.ValidatedClaims)
		if !ok || vc == nil {
			return nil, errNoClaims
		}
		if vc.RegisteredClaims.Expiry == 0 {
			return nil, errNoExpiry
		}
		claims, err := claimsOf(vc)
		if err != nil {
			if errors.Is(err, ErrInvalidClaims) {
				return nil, rejectClaims.with(err)
			}
			return nil, err
		}
		return claims, nil
	}
	opts := append([]auth.Option{description}, c.authOpts...)
	return auth.NewScoped(c.scheme, verify, Scopes, opts...)
}

// fetchClient returns the client that fetches the JWKS: a copy of c (or a
// new client) whose transport turns HTTP error statuses and oversized bodies
// into errors.
func fetchClient(c *http.Client, timeout time.Duration) *http.Client {
	var fc http.Client
	if c != nil {
		fc = *c
	}
	if timeout > 0 {
		fc.Timeout = timeout
	} else if fc.Timeout == 0 {
		fc.Timeout = DefaultTimeout
	}
	fc.Transport = &checkedTransport{base: fc.Transport}
	fc.CheckRedirect = noDowngrade(fc.CheckRedirect)
	return &fc
}

// maxRedirects is net/http's default limit, kept when the caller's client
// has no CheckRedirect of its own.
const maxRedirects = 10

// errDowngrade is the cause of a 503 when a JWKS fetch over https is
// redirected to a URL that is not https.
var errDowngrade = errors.New("auth0: JWKS redirect from https to plain http refused")

// noDowngrade returns a redirect policy that refuses to leave https once a
// fetch has used it, then defers to next (or to net/http's limit).
func noDowngrade(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			for _, v := range via {
				if v.URL.Scheme == "https" {
					return errDowngrade
				}
			}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("auth0: stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// checkedTransport fails a JWKS fetch whose response is neither 200 nor a
// redirect, or whose body exceeds MaxJWKSSize. The SDK decodes any body it is given, and the
// error body of a failing server may decode to an empty key set, which
// would turn an outage into 401s.
type checkedTransport struct {
	base http.RoundTripper
}

// StatusError is the cause of a 503 when the tenant answered the JWKS
// request with a status other than 200 OK or a redirect. Find it with
// [errors.As] in the error of a rejected request.
type StatusError struct {
	// StatusCode is the status the key server answered with.
	StatusCode int
}

// Error names the status the key server answered with.
func (e *StatusError) Error() string {
	return fmt.Sprintf("auth0: JWKS request answered with HTTP %d", e.StatusCode)
}

func (t *checkedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 3 {
		return resp, nil // the client follows redirects or fails on them
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &StatusError{StatusCode: resp.StatusCode}
	}
	if resp.ContentLength > MaxJWKSSize {
		resp.Body.Close()
		return nil, errTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: MaxJWKSSize}
	return resp, nil
}

var errTooLarge = fmt.Errorf("auth0: JWKS larger than %d bytes", MaxJWKSSize)

// limitedBody fails reads past its limit rather than truncating silently.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
