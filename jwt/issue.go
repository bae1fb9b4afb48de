package jwt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

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

// Encode signs claims with the configured signing key and returns the
// compact token. Like Python's dict.setdefault, it fills in what claims lack
// and never overrides what they hold:
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
func (e *engine) Encode(claims auth.Claims, expiresIn time.Duration) (string, error) {
	s, _, err := e.encode(claims, expiresIn)
	return s, err
}

// CreateAccessToken is [Auth.Encode] returning the token endpoint's
// response, whose ExpiresIn is the effective lifetime of the token (exp −
// iat, whatever set them).
func (e *engine) CreateAccessToken(claims auth.Claims, expiresIn time.Duration) (BearerAccessToken, error) {
	s, lifetime, err := e.encode(claims, expiresIn)
	if err != nil {
		return BearerAccessToken{}, err
	}
	return BearerAccessToken{TokenType: "bearer", AccessToken: s, ExpiresIn: lifetime}, nil
}

func (e *engine) encode(claims auth.Claims, expiresIn time.Duration) (string, int64, error) {
	if e.signer == nil {
		return "", 0, e.signErr
	}
	if expiresIn < 0 {
		return "", 0, errors.New("jwt: Encode: negative expiresIn")
	}
	m := make(gojwt.MapClaims, len(claims)+3)
	for k, v := range claims {
		m[k] = v
	}
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
		if expiresIn == 0 {
			expiresIn = e.expiration
		}
		if expiresIn > 0 {
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
	t := gojwt.NewWithClaims(e.signAlg.method, m)
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

// numeric returns v as seconds when it is a JSON number in any Go form.
func numeric(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case float32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case time.Time:
		return float64(n.Unix()), true
	case *gojwt.NumericDate:
		if n == nil {
			return 0, false
		}
		return float64(n.Unix()), true
	}
	return 0, false
}
