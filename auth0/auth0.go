package auth0

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/validator"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/scopes"
)

const (
	// JWKSPath is where an Auth0 tenant publishes its signing keys.
	JWKSPath = "/.well-known/jwks.json"
	// DefaultRefreshInterval is the time between two background downloads
	// of the tenant's keys unless [WithKeySetOptions] says otherwise; it
	// bounds how long a key the tenant has revoked keeps verifying tokens.
	DefaultRefreshInterval = 5 * time.Minute
)

// Validator validates a raw access token and returns its claims. The
// validator of Auth0's Go SDK, [*validator.Validator], is one; so is a fake
// in a test of a protected handler, which needs no key server:
//
//	type fake struct{}
//
//	func (fake) ValidateToken(ctx context.Context, token string) (any, error) {
//		if token != "good" {
//			return nil, jwt.ErrTokenExpired
//		}
//		return auth.Claims{"sub": "auth0|alice", "scope": "reports:read"}, nil
//	}
//
// ValidateToken returns a [*validator.ValidatedClaims], as the SDK does, or
// the claims themselves as an [auth.Claims] or a map[string]any. Its errors
// may be the SDK's or any error matching one of the causes of package jwt
// (such as [jwt.ErrTokenExpired]); see [New].
type Validator interface {
	ValidateToken(ctx context.Context, token string) (any, error)
}

// Auth verifies Auth0 access tokens. It embeds an [auth.ScopedAuth] whose
// principal is the token's claims, so Guard, Optional, Handler, Verify,
// Authenticate and Requires work as for any token auth, and it is an
// [auth.Source] for [auth.Then] and [auth.AnyOf]. It is safe for concurrent
// use if its Validator is.
type Auth struct {
	*auth.ScopedAuth[auth.Claims]
	keys *jwt.RemoteKeySet // NewTenant's; nil for New
}

var _ auth.Source[auth.Claims] = (*Auth)(nil)

// KeySet returns the tenant's key set, for a readiness probe
// (KeySet().Loaded()); nil for an Auth built by [New].
func (a *Auth) KeySet() *jwt.RemoteKeySet {
	if a == nil {
		return nil
	}
	return a.keys
}

// Close stops the background refresh of the tenant's keys (see
// [jwt.RemoteKeySet.Close]); the keys already loaded keep verifying. It
// does nothing for an Auth built by [New].
func (a *Auth) Close() error {
	if a == nil || a.keys == nil {
		return nil
	}
	return a.keys.Close()
}

// Option configures [New] and [NewTenant].
type Option interface {
	TenantOption
	apply(*config)
}

// TenantOption configures [NewTenant]. Every [Option] is one; the options
// that only make sense for the validator NewTenant builds ([WithBaseURL],
// [WithKeySetOptions], [WithAllowedClockSkew]) are TenantOptions only, so
// that giving one to New does not compile.
type TenantOption interface {
	applyTenant(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config)       { f(c) }
func (f optionFunc) applyTenant(c *config) { f(c) }

type tenantOption func(*config)

func (f tenantOption) applyTenant(c *config) { f(c) }

type config struct {
	scheme   auth.Scheme
	authOpts []auth.Option

	baseURL string
	keySet  jwt.RemoteOptions
	skew    time.Duration
}

// WithScheme sets where the token is read from (default [auth.Bearer]). A
// nil scheme keeps the default.
func WithScheme(s auth.Scheme) Option {
	return optionFunc(func(c *config) {
		if s != nil {
			c.scheme = s
		}
	})
}

// WithAuthOptions passes options of package auth to the Auth: an error
// writer (which sees the cause of every rejection, for logs), a challenge
// realm, the longest credential, a description.
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
// https://DOMAIN/. baseURL must be https, or http on a loopback host, as
// for every remote key set of package jwt (see
// [jwt.RemoteOptions.InsecureAllowHTTP]).
func WithBaseURL(baseURL string) TenantOption {
	return tenantOption(func(c *config) { c.baseURL = baseURL })
}

// WithKeySetOptions configures the tenant's key set, a [jwt.RemoteKeySet]:
// its HTTP client, refresh and unknown-kid intervals, wait, timeout and
// size caps, whether a first download that fails is fatal, and a hook for
// download failures. A zero RefreshInterval means
// [DefaultRefreshInterval]; every other zero field means jwt's default.
func WithKeySetOptions(o jwt.RemoteOptions) TenantOption {
	return tenantOption(func(c *config) { c.keySet = o })
}

// WithAllowedClockSkew tolerates clocks that differ by up to d when
// checking exp, nbf and iat (default 0).
func WithAllowedClockSkew(d time.Duration) TenantOption {
	return tenantOption(func(c *config) { c.skew = d })
}

func newConfig[O TenantOption](opts []O) *config {
	c := &config{scheme: auth.Bearer()}
	for _, o := range opts {
		if any(o) != nil {
			o.applyTenant(c)
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

// New returns an Auth that verifies tokens with v: the validator of
// Auth0's Go SDK, built by hand for other algorithms or several audiences,
// or a fake in tests. The principal is the token's claims, registered and
// custom alike, in one map (claims["sub"]); the scopes that
// [auth.ScopedAuth.Requires] checks are those of [Scopes].
//
// Build an SDK validator with [validator.WithCustomClaims]([CustomClaims])
// to get the custom claims, and with its key func wrapped by [KeyFunc], so
// that a key server failure is answered with 503.
//
// Rejections speak package jwt's language: a token rejected for a reason
// jwt knows (expired, not yet valid, wrong issuer or audience, unknown key,
// bad signature, malformed, malformed claims, no exp) gets the 401 jwt
// gives for it ([jwt.Rejection]), and the error matches jwt's cause
// ([jwt.ErrTokenExpired], …), golang-jwt's and the SDK's own. SDK errors
// are recognised by their sentinels and types, never by their text. An
// error recognised as none of these is a 401 "Token is invalid" matching
// [ErrInvalidToken], with the error in its chain for the error writer (see
// [WithAuthOptions]). Tokens without an exp claim are rejected whatever v
// accepts; v's own [*auth.Error]s are kept as they are.
//
// Credentials for an SDK validator must look like a compact JWS (three
// base64url parts) or are rejected as malformed before it sees them; other
// validators get every credential the scheme reads.
//
// New panics if v is nil.
func New(v Validator, opts ...Option) *Auth {
	sdk, isSDK := v.(*validator.Validator)
	if v == nil || isSDK && sdk == nil {
		panic("auth0: New: nil validator")
	}
	return &Auth{ScopedAuth: build(v.ValidateToken, isSDK, newConfig(opts))}
}

// NewTenant returns an Auth for the access tokens that the Auth0 tenant at
// domain (such as "your-tenant.auth0.com", or a custom domain) issues for
// the API audience: RS256 tokens with a kid, whose iss is "https://DOMAIN/"
// and whose aud contains audience, signed by a key of the tenant's JWKS at
// https://DOMAIN/.well-known/jwks.json. The SDK's validator checks them;
// the keys come from a [jwt.RemoteKeySet], with its rules: downloaded
// before NewTenant returns, refreshed in the background (every
// [DefaultRefreshInterval]), kept when a download fails, downloaded again
// (rate limited) when a token names an unknown kid, https only. Once the
// keys have loaded, a token whose kid the tenant does not publish is a 401,
// even while the tenant is down; 503 only while no download has ever
// succeeded. Everything else is as for [New].
//
// ctx bounds the first download and the life of the key set: cancel it,
// or call [Auth.Close], to stop the refresh. NewTenant returns an error if
// domain is not a bare host name (with an optional port), if audience is
// empty, if an option is invalid, or if the first download fails (matching
// [jwt.ErrKeySetUnavailable]) unless [jwt.RemoteOptions.AllowInitialFailure]
// is set.
func NewTenant(ctx context.Context, domain, audience string, opts ...TenantOption) (*Auth, error) {
	c := newConfig(opts)
	if err := checkDomain(domain); err != nil {
		return nil, err
	}
	if audience == "" {
		return nil, errors.New("auth0: the audience is empty; give the identifier of the API")
	}
	if c.skew < 0 {
		return nil, errors.New("auth0: WithAllowedClockSkew takes a duration that is not negative")
	}
	issuer := (&url.URL{Scheme: "https", Host: domain, Path: "/"}).String()
	base := issuer
	if c.baseURL != "" {
		u, err := url.Parse(c.baseURL)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("auth0: WithBaseURL(%q): want an https URL (http on loopback) with a host and no query", c.baseURL)
		}
		base = u.String()
	}
	if c.keySet.RefreshInterval == 0 {
		c.keySet.RefreshInterval = DefaultRefreshInterval
	}
	keys, err := jwt.NewRemoteKeySet(ctx, strings.TrimSuffix(base, "/")+JWKSPath, c.keySet)
	if err != nil {
		return nil, fmt.Errorf("auth0: the tenant's signing keys: %w", err)
	}
	v, err := validator.New(tenantKey(keys), validator.RS256, issuer, []string{audience},
		validator.WithCustomClaims(CustomClaims), validator.WithAllowedClockSkew(c.skew))
	if err != nil {
		_ = keys.Close()
		return nil, fmt.Errorf("auth0: building the validator: %w", err)
	}
	validate := func(ctx context.Context, raw string) (any, error) {
		h, err := decodeHeader(raw)
		if err != nil {
			return nil, err
		}
		return v.ValidateToken(context.WithValue(ctx, headerKey{}, h), raw)
	}
	return &Auth{ScopedAuth: build(validate, true, c), keys: keys}, nil
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

// build wires a validation func into a ScopedAuth; jws asks for the
// compact JWS syntax first.
func build(validate func(context.Context, string) (any, error), jws bool, c *config) *auth.ScopedAuth[auth.Claims] {
	verify := func(ctx context.Context, raw string) (auth.Claims, error) {
		if jws && !compact(raw) {
			return nil, rejectMalformed.Wrap(errNotCompact)
		}
		res, err := validate(ctx, raw)
		if err != nil {
			return nil, classify(err)
		}
		return claimsOf(res)
	}
	opts := append([]auth.Option{description}, c.authOpts...)
	return auth.NewScoped(c.scheme, verify, Scopes, opts...)
}
