package jwt

import (
	"context"
	"fmt"

	"github.com/typedauth/auth"
)

// KeySet resolves the key that verifies a token. Local keys from [Config],
// a JWKS fetched once, and a remote JWKS that refreshes in the background
// are all KeySets.
//
// Implementations must be safe for concurrent use and must answer from
// memory in O(1) for a known kid.
type KeySet interface {
	// VerificationKey returns the key that verifies a token whose header
	// has the given kid and alg: an HMAC secret ([]byte) for local sets, or
	// a public key (*rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey).
	//
	// kid is "" when the token has none; the set then returns a key only
	// when exactly one of its keys can verify alg. A key that declares an
	// algorithm is returned only for that algorithm.
	//
	// An HMAC secret ([]byte) is used only for HS256, HS384 and HS512, only
	// when it is at least as long as the hash output, and never when it is
	// recognisably a public key or certificate (PEM, DER, JWK, OpenSSH):
	// such a key is treated as not found. Other types that do not fit the
	// alg, private keys included, are treated as not found too.
	//
	// It returns an error matching [ErrKeyNotFound] when no key fits (the
	// token is rejected with 401), or one matching [auth.ErrUnavailable]
	// when the keys cannot be obtained at all (503). Any other error is
	// passed through unchanged: an [*auth.Error] keeps its status, anything
	// else is answered with a generic 500, since it is a failure of the
	// server rather than of the token.
	VerificationKey(ctx context.Context, kid, alg string) (any, error)
}

// ErrKeyNotFound is returned by a [KeySet] that holds no key for a token's
// kid and alg. It is an [auth.ErrInvalidCredential].
var ErrKeyNotFound = fmt.Errorf("%w: no key for the token", auth.ErrInvalidCredential)
