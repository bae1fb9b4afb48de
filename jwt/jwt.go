package jwt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

// Auth verifies JWTs. Its principal is the decoded claims map
// ([auth.Claims]), and it embeds a [auth.ScopedAuth], so Guard, Optional,
// Handler, Authenticate and Requires work as for any token auth:
//
//	a := jwt.MustNew(jwt.Config{Secret: secret, Algorithms: []string{"HS256"}, Expiration: time.Hour})
//	mux.Handle("GET /reports", a.Requires("reports:read").Guard(reports))
//
// When the Config holds local keys, the Auth also holds the [Issuer] for
// them, so the same value issues tokens (a.Encode, a.CreateAccessToken) and
// publishes its public keys (a.JWKSHandler). An Auth whose keys all come
// from a KeySet only verifies: its Issuer is nil, and the Issuer's methods
// then report that they cannot issue.
//
// An Auth is safe for concurrent use. Build one with [New]: the zero Auth is
// not usable and its methods panic.
type Auth struct {
	*auth.ScopedAuth[auth.Claims]
	*Issuer
	v     *verifier
	cache *tokenCache // nil unless WithCache
}

// Option configures [New] and [NewTyped]. Options are built by the With
// functions of this package.
type Option interface {
	apply(*options)
}

type options struct {
	scheme    auth.Scheme
	validator scopes.Validator
	authOpts  []auth.Option
	cache     *CacheOptions // WithCache
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

func buildOptions(opts []Option) *options {
	o := &options{scheme: auth.Bearer()}
	for _, op := range opts {
		if op != nil {
			op.apply(o)
		}
	}
	return o
}

// WithScheme sets where the token is read from (default [auth.Bearer]), for
// instance a session cookie:
//
//	jwt.New(cfg, jwt.WithScheme(auth.Cookie("session")))
func WithScheme(s auth.Scheme) Option {
	return optionFunc(func(o *options) { o.scheme = s })
}

// WithScopeValidator sets how required scopes are matched against the
// token's (default [scopes.Hierarchical]): [scopes.Simple]{} for verbatim
// matching, [scopes.NewHierarchical] for another action hierarchy, or a
// [scopes.Func].
func WithScopeValidator(v scopes.Validator) Option {
	return optionFunc(func(o *options) { o.validator = v })
}

// WithAuthOptions passes options to the underlying [auth.Auth]: an error
// writer, a challenge, a description. They are applied after this package's
// own, so they win.
func WithAuthOptions(opts ...auth.Option) Option {
	return optionFunc(func(o *options) { o.authOpts = append(o.authOpts, opts...) })
}

// New checks cfg and returns an Auth for it. It fails with a descriptive
// error when the configuration is inconsistent: no algorithm, an unknown
// algorithm or "none", no key, a key that fits none of the algorithms or an
// algorithm that no key can verify (such as RS256 with an HMAC secret), an
// HMAC secret shorter than its hash output, an RSA key under 2048 bits, an
// ECDSA key on the wrong curve.
func New(cfg Config, opts ...Option) (*Auth, error) {
	b, err := build(&cfg, opts)
	if err != nil {
		return nil, err
	}
	a := &Auth{Issuer: b.issuer, v: b.verifier, cache: b.cache}
	a.ScopedAuth = auth.NewScoped(b.opts.scheme, a.verify, nil, b.authOptions()...)
	return a, nil
}

// MustNew is like [New] but panics with the reason when cfg is
// inconsistent. It is meant for configurations written as literals; a
// configuration read from the environment or a file should go through New
// and its error.
func MustNew(cfg Config, opts ...Option) *Auth { return must(New(cfg, opts...)) }

// Verify checks raw and returns its claims. The token is parsed and
// validated by golang-jwt's parser (signature, alg in Config.Algorithms,
// exp, nbf and iat with Leeway, iss and aud), with the key chosen from the
// local keys, then from the KeySet. Around the parser, Verify adds
// the policy it lacks: at most MaxTokenLength bytes; strict base64url with
// exactly three segments and nothing else inside them; no crit or b64
// header parameter; typ as Config.RequiredType says; registered claims of
// the right JSON type, none of them, scope or scp twice or under a case
// variant of its name; a token without kid only when exactly one key can
// verify its alg.
//
// Every rejection is an [*auth.Error] with status 401 (invalid_token) whose
// detail says why and whose chain matches this package's cause (such as
// [ErrTokenExpired]) and golang-jwt's; except a KeySet failure matching
// [auth.ErrUnavailable], which stays 503, and any other KeySet error, which
// is returned as is (see [KeySet]). Verify does NOT check jti (replay) or
// any custom claim; when a custom claim appears twice, the last one is
// decoded (RFC 7519 §4).
func (a *Auth) Verify(ctx context.Context, raw string) (auth.Claims, error) {
	if len(raw) > a.v.maxLen {
		return nil, reject(ErrTokenTooLong, nil)
	}
	return a.verify(ctx, raw)
}

// verify is Verify without the length check, which the auth's scheme has
// made for requests.
func (a *Auth) verify(ctx context.Context, raw string) (auth.Claims, error) {
	if a.cache != nil {
		return a.verifyCached(ctx, raw) // cache.go
	}
	return a.verifyRecording(ctx, raw, nil)
}

// verifyRecording is verify without the cache, filling rec (when not nil)
// as [verifier.parseRecording] does.
func (a *Auth) verifyRecording(ctx context.Context, raw string, rec *verified) (auth.Claims, error) {
	claims := &scannedClaims{MapClaims: make(map[string]any, 8)}
	if err := a.v.parseRecording(ctx, raw, claims, rec); err != nil {
		return nil, err
	}
	return auth.Claims(claims.MapClaims), nil
}

// built is what New and NewTyped share.
type built struct {
	verifier  *verifier
	issuer    *Issuer
	opts      *options
	cache     *tokenCache
	discovery string // the key set's OpenID Connect discovery URL, if any
}

func build(cfg *Config, opts []Option) (*built, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		if d, ok := cfg.KeySet.(interface{ Algorithms() []string }); ok {
			algs = d.Algorithms()
		}
	}
	if len(algs) == 0 {
		return nil, errors.New("jwt: Config.Algorithms is empty; list the algorithms to accept, such as HS256 or RS256")
	}
	allowed, err := parseAlgorithms(algs)
	if err != nil {
		return nil, err
	}
	local, err := localKeys(cfg, allowed)
	if err != nil {
		return nil, err
	}
	if len(local) == 0 && cfg.KeySet == nil {
		return nil, errors.New("jwt: no key: set Config.Secret, Key, Keys or KeySet (FetchKeySet, ParseKeySet or NewRemoteKeySet give one)")
	}
	if cfg.KeySet == nil {
		for _, a := range allowed {
			if !slices.ContainsFunc(local, func(k *localKey) bool { return slices.Contains(k.algs, a) }) {
				return nil, fmt.Errorf("jwt: algorithm %s is allowed but no configured key can verify it", a.name)
			}
		}
	}
	switch {
	case cfg.MaxTokenLength < 0:
		return nil, errors.New("jwt: Config.MaxTokenLength is negative")
	case cfg.Expiration < 0:
		return nil, errors.New("jwt: Config.Expiration is negative")
	case slices.Contains(cfg.Audience, ""):
		return nil, errors.New("jwt: Config.Audience holds an empty string")
	}
	b := &built{verifier: newVerifier(cfg, allowed, local), opts: buildOptions(opts)}
	if d, ok := cfg.KeySet.(interface{ DiscoveryURL() string }); ok {
		b.discovery = d.DiscoveryURL()
	}
	if len(local) > 0 {
		if b.issuer, err = newIssuer(cfg, local); err != nil {
			return nil, err
		}
	}
	if b.cache, err = b.opts.newCache(b.verifier); err != nil {
		return nil, err
	}
	return b, nil
}

// authOptions are the core options: ours first, the caller's last.
func (b *built) authOptions() []auth.Option {
	return append([]auth.Option{
		auth.WithMaxCredentialLength(b.verifier.maxLen),
		auth.WithBearerFormat("JWT"),
		auth.WithOpenIDConnect(b.discovery),       // nothing without discovery
		auth.WithScopeValidator(b.opts.validator), // nil: the default
	}, b.opts.authOpts...)
}
