package jwt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

// Auth verifies and issues JWTs. Its principal is the decoded claims map
// ([auth.Claims]), and it embeds a [auth.ScopedAuth], so Guard, Optional,
// Handler, Authenticate and Requires work as for any token auth:
//
//	a := jwt.MustNew(jwt.Config{Secret: secret, Algorithms: []string{"HS256"}, Expiration: time.Hour})
//	mux.Handle("GET /reports", a.Requires("reports:read").Guard(reports))
//
// An Auth is safe for concurrent use; [Auth.FetchJWKS] may run while it
// serves. Build one with [New]: the zero Auth is not usable and its methods
// panic.
type Auth struct {
	*auth.ScopedAuth[auth.Claims]
	*engine
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
	scopesOf  any
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

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

// WithScopesOf tells [NewTyped] how to read the scopes of a principal of
// type P, for types that neither implement [auth.Scoper] nor embed
// [RegisteredClaims]. NewTyped fails if P is not its principal type.
func WithScopesOf[P any](f func(P) scopes.Set) Option {
	return optionFunc(func(o *options) { o.scopesOf = f })
}

func buildOptions(opts []Option) *options {
	o := &options{scheme: auth.Bearer()}
	for _, op := range opts {
		if op != nil {
			op.apply(o)
		}
	}
	return o
}

// New checks cfg and returns an Auth for it. It fails with a descriptive
// error when the configuration is inconsistent: no algorithm, an unknown
// algorithm or "none", no key, a key that fits none of the algorithms or an
// algorithm that no key can verify (such as RS256 with an HMAC secret), an
// HMAC secret shorter than its hash output, an RSA key under 2048 bits, an
// ECDSA key on the wrong curve.
func New(cfg Config, opts ...Option) (*Auth, error) {
	e, err := newEngine(&cfg)
	if err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	if o.scopesOf != nil {
		return nil, errors.New("jwt: New: WithScopesOf is for NewTyped; claims scopes are read from scope and scp")
	}
	a := &Auth{engine: e}
	a.ScopedAuth = auth.NewScoped(o.scheme, a.Verify, nil, e.authOptions(o)...)
	return a, nil
}

// MustNew is like [New] but panics with the reason when cfg is
// inconsistent. It is meant for configurations written as literals at
// start up.
func MustNew(cfg Config, opts ...Option) *Auth {
	a, err := New(cfg, opts...)
	if err != nil {
		panic(err)
	}
	return a
}

// Verify checks raw and returns its claims. A token is accepted only when:
// it is a compact JWS of at most MaxTokenLength bytes in strict base64url;
// its header has no crit or b64 parameter; its alg is in Config.Algorithms;
// a key chosen by kid and alg verifies its signature; its registered claims
// have the right JSON types; no registered claim, scope or scp appears
// twice or under a case variant of its name; it has not expired, is valid
// already and was not issued in the future (with Leeway); its iss and aud
// match Config; and its typ matches Config.RequiredType when set.
//
// Every rejection is an [*auth.Error] with status 401 (invalid_token) whose
// detail says why, except a KeySet failure matching [auth.ErrUnavailable],
// which stays 503, and any other KeySet error, which is returned as is (see
// [KeySet]). Verify does NOT check jti (replay) or any custom claim; when a
// custom claim appears twice, the last one is decoded (RFC 7519 §4).
func (a *Auth) Verify(ctx context.Context, raw string) (auth.Claims, error) {
	payload, err := a.check(ctx, raw)
	if err != nil {
		return nil, err
	}
	return decodeClaims(payload)
}

// authOptions are the core options: ours first, the caller's last.
func (e *engine) authOptions(o *options) []auth.Option {
	opts := []auth.Option{
		auth.WithMaxCredentialLength(e.maxLen),
		auth.WithBearerFormat("JWT"),
	}
	if o.validator != nil {
		opts = append(opts, auth.WithScopeValidator(o.validator))
	}
	return append(opts, o.authOpts...)
}

func newEngine(cfg *Config) (*engine, error) {
	allowed, err := parseAlgorithms(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	local, err := buildLocalKeys(cfg, allowed)
	if err != nil {
		return nil, err
	}
	switch {
	case local == nil && cfg.KeySet == nil && !cfg.AwaitJWKS:
		return nil, errors.New("jwt: no key: set Config.Secret, Key, Keys or KeySet, or AwaitJWKS to fetch keys at start up")
	case cfg.AwaitJWKS && cfg.IssuerURL == "":
		return nil, errors.New("jwt: Config.AwaitJWKS needs Config.IssuerURL, the base URL of FetchJWKS")
	}
	if cfg.KeySet == nil && !cfg.AwaitJWKS {
		for _, a := range allowed {
			fits := false
			for _, ent := range local.entries {
				fits = fits || ent.fits(a)
			}
			if !fits {
				return nil, fmt.Errorf("jwt: algorithm %s is allowed but no configured key can verify it", a.name)
			}
		}
	}
	if cfg.MaxTokenLength < 0 {
		return nil, errors.New("jwt: Config.MaxTokenLength is negative")
	}
	for _, aud := range cfg.Audience {
		if aud == "" {
			return nil, errors.New("jwt: Config.Audience holds an empty string")
		}
	}
	if cfg.Expiration < 0 {
		return nil, errors.New("jwt: Config.Expiration is negative")
	}
	e := &engine{
		allowed:     allowed,
		issuer:      cfg.IssuerURL,
		audience:    append([]string(nil), cfg.Audience...),
		now:         cfg.Now,
		requireExp:  !cfg.AllowMissingExpiration,
		awaitJWKS:   cfg.AwaitJWKS && cfg.KeySet == nil,
		requiredTyp: normalizeType(cfg.RequiredType),
		maxLen:      cfg.MaxTokenLength,
		local:       local,
		expiration:  cfg.Expiration,
		tokenType:   cfg.TokenType,
		client:      cfg.HTTPClient,
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.maxLen == 0 {
		e.maxLen = DefaultMaxTokenLength
	}
	switch {
	case cfg.Leeway == 0:
		e.leeway = DefaultLeeway.Seconds()
	case cfg.Leeway > 0:
		e.leeway = cfg.Leeway.Seconds()
	}
	if e.tokenType == "" {
		e.tokenType = "JWT"
		if cfg.RequiredType != "" {
			e.tokenType = cfg.RequiredType // so that issued tokens verify
		}
	}
	if err := e.chooseSigner(cfg.SigningKeyID); err != nil {
		return nil, err
	}
	if err := e.buildJWKS(); err != nil {
		return nil, err
	}
	e.keys.Store(&keyring{local: local, set: cfg.KeySet})
	return e, nil
}

// chooseSigner picks the key that issues tokens. A configuration without a
// usable signing key is valid (it only verifies); Encode then reports why.
func (e *engine) chooseSigner(id string) error {
	var signers []*keyEntry
	if e.local != nil {
		for _, ent := range e.local.entries {
			if ent.sign != nil {
				signers = append(signers, ent)
			}
		}
	}
	switch {
	case id != "":
		for _, ent := range signers {
			if ent.id == id {
				e.signer = ent
			}
		}
		if e.signer == nil {
			return fmt.Errorf("jwt: Config.SigningKeyID %q names no private key or secret", id)
		}
	case len(signers) == 1:
		e.signer = signers[0]
	case len(signers) == 0:
		e.signErr = errors.New("jwt: cannot issue tokens: no private key or secret is configured")
		return nil
	default:
		e.signErr = errors.New("jwt: cannot issue tokens: several keys can sign; set Config.SigningKeyID")
		return nil
	}
	e.signAlg = e.signer.algs[0]
	return nil
}
