package jwt

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/MicahParks/jwkset"
	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
)

// BearerAccessToken is the response of a token endpoint (RFC 6749 §5.1). It
// marshals to {"token_type":"bearer","access_token":"…","expires_in":3600}.
type BearerAccessToken struct {
	// TokenType is always "bearer".
	TokenType string `json:"token_type"`
	// AccessToken is the signed JWT.
	AccessToken string `json:"access_token"`
	// ExpiresIn is the token's lifetime in seconds, exp − iat. It is zero,
	// and omitted from JSON, when the token has no exp.
	ExpiresIn int64 `json:"expires_in,omitempty"`
}

// Issuer signs tokens and publishes the public keys that verify them. It is
// the issuing half of a service: [Auth] and [TypedAuth] hold the Issuer of
// their local keys, so an auth that issues and verifies stays one value,
// and a service that only issues (a token endpoint whose tokens other
// services verify) builds one alone with [NewIssuer].
//
// The methods of a nil *Issuer report that no key can issue (Encode) or
// publish nothing (JWKS), so that an Auth whose keys all come from a KeySet
// answers clearly. An Issuer is safe for concurrent use.
type Issuer struct {
	signer     *localKey
	signErr    error
	issuer     string
	expiration time.Duration
	tokenType  string
	requireExp bool
	now        func() time.Time
	jwks       jwkset.JWKSMarshal
	jwksBody   []byte
}

// errNoIssuer is the error of the issuing methods of a nil *Issuer.
var errNoIssuer = errors.New("jwt: cannot issue tokens: no private key or secret is configured")

// NewIssuer returns the Issuer of cfg's local keys (Secret, Key, Keys), for
// a service that issues tokens without verifying them; cfg.KeySet is not
// used. Config.Algorithms, IssuerURL, Expiration, AllowMissingExpiration,
// SigningKeyID, TokenType (or RequiredType) and Now apply as for [New]. It
// fails when cfg has no local key or is inconsistent.
func NewIssuer(cfg Config) (*Issuer, error) {
	cfg.KeySet = nil
	b, err := build(&cfg, nil)
	if err != nil {
		return nil, err
	}
	return b.issuer, nil
}

// MustNewIssuer is like [NewIssuer] but panics with the reason when cfg is
// inconsistent, for configurations written as literals.
func MustNewIssuer(cfg Config) *Issuer { return must(NewIssuer(cfg)) }

func newIssuer(cfg *Config, keys []*localKey) (*Issuer, error) {
	iss := &Issuer{
		issuer:     cfg.IssuerURL,
		expiration: cfg.Expiration,
		tokenType:  cmp.Or(cfg.TokenType, cfg.RequiredType, "JWT"), // RequiredType: so that issued tokens verify
		requireExp: !cfg.AllowMissingExpiration,
		now:        cfg.Now,
	}
	signers := slices.DeleteFunc(slices.Clone(keys), func(k *localKey) bool { return k.sign == nil })
	switch id := cfg.SigningKeyID; {
	case id != "":
		i := slices.IndexFunc(signers, func(k *localKey) bool { return k.id == id })
		if i < 0 {
			return nil, fmt.Errorf("jwt: Config.SigningKeyID %q names no private key or secret", id)
		}
		iss.signer = signers[i]
	case len(signers) == 1:
		iss.signer = signers[0]
	case len(signers) == 0:
		iss.signErr = errNoIssuer
	default:
		iss.signErr = errors.New("jwt: cannot issue tokens: several keys can sign; set Config.SigningKeyID")
	}
	iss.buildJWKS(keys)
	return iss, nil
}

// Encode signs claims with the configured signing key and returns the
// compact token. It fills in the claims that claims lack and never
// overrides those it holds:
//
//   - iat is the current time (Config.Now);
//   - iss is Config.IssuerURL, when set;
//   - exp is iat + expiresIn, or iat + Config.Expiration when expiresIn is
//     zero; no exp is set when both are zero.
//
// The caller's map is not modified. The header carries alg, typ
// (Config.TokenType, default "JWT") and the signing key's kid.
//
// Encode fails when no private key or secret is configured, when exp or iat
// are given but are not numbers, and when the token would have no exp while
// verification requires one (so that Encode never issues a token its own
// Auth rejects for that reason).
func (e *Issuer) Encode(claims auth.Claims, expiresIn time.Duration) (string, error) {
	s, _, err := e.encode(claims, expiresIn)
	return s, err
}

// CreateAccessToken is [Issuer.Encode] returning the token endpoint's
// response, whose ExpiresIn is the effective lifetime of the token (exp −
// iat, whatever set them).
func (e *Issuer) CreateAccessToken(claims auth.Claims, expiresIn time.Duration) (BearerAccessToken, error) {
	s, lifetime, err := e.encode(claims, expiresIn)
	if err != nil {
		return BearerAccessToken{}, err
	}
	return BearerAccessToken{TokenType: "bearer", AccessToken: s, ExpiresIn: lifetime}, nil
}

func (e *Issuer) encode(claims auth.Claims, expiresIn time.Duration) (string, int64, error) {
	if e == nil {
		return "", 0, errNoIssuer
	}
	if e.signer == nil {
		return "", 0, e.signErr
	}
	if expiresIn < 0 {
		return "", 0, errors.New("jwt: Encode: negative expiresIn")
	}
	m := make(gojwt.MapClaims, len(claims)+3)
	maps.Copy(m, claims)
	for _, k := range [...]string{"iat", "exp", "nbf"} {
		if t, ok := m[k].(time.Time); ok {
			m[k] = t.Unix() // a time.Time would marshal as a string
		}
	}
	if _, ok := m["iat"]; !ok {
		m["iat"] = e.now().Unix()
	}
	if _, ok := m["iss"]; !ok && e.issuer != "" {
		m["iss"] = e.issuer
	}
	iat, ok := numeric(m["iat"])
	if !ok {
		return "", 0, errors.New("jwt: Encode: claim iat is not a number")
	}
	if _, ok := m["exp"]; !ok {
		if expiresIn = cmp.Or(expiresIn, e.expiration); expiresIn > 0 {
			m["exp"] = int64(iat) + int64(math.Ceil(expiresIn.Seconds()))
		}
	}
	var lifetime int64
	if v, ok := m["exp"]; ok {
		exp, ok := numeric(v)
		if !ok {
			return "", 0, errors.New("jwt: Encode: claim exp is not a number")
		}
		lifetime = int64(math.Round(exp - iat))
	} else if e.requireExp {
		return "", 0, errors.New("jwt: Encode: the token would have no exp; set Config.Expiration, pass expiresIn or an exp claim (or Config.AllowMissingExpiration)")
	}
	t := gojwt.NewWithClaims(e.signer.algs[0].method, m)
	t.Header["typ"] = e.tokenType
	if e.signer.id != "" {
		t.Header["kid"] = e.signer.id
	}
	s, err := t.SignedString(e.signer.sign)
	if err != nil {
		return "", 0, fmt.Errorf("jwt: Encode: %w", err)
	}
	return s, lifetime, nil
}

// numeric returns v as seconds when it is a JSON number in any Go form: an
// integer or finite float of any size, a json.Number or a *NumericDate
// (encode has turned a time.Time into seconds).
func numeric(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case *gojwt.NumericDate:
		if n == nil {
			return 0, false
		}
		return float64(n.Unix()), true
	}
	switch r := reflect.ValueOf(v); {
	case r.CanInt():
		return float64(r.Int()), true
	case r.CanUint():
		return float64(r.Uint()), true
	case r.CanFloat():
		f := r.Float()
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
