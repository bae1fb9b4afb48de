package jwt

import "time"

// DefaultLeeway is the clock skew tolerated when checking exp, nbf and iat
// unless [Config.Leeway] says otherwise.
const DefaultLeeway = 10 * time.Second

// NoLeeway, as [Config.Leeway], asks for no tolerance of clock skew at all.
// Any negative Leeway means the same.
const NoLeeway time.Duration = -1

// DefaultMaxTokenLength is the longest token, in bytes, that [Auth.Verify]
// parses unless [Config.MaxTokenLength] says otherwise.
const DefaultMaxTokenLength = 16 << 10

// Config holds everything needed to verify and issue tokens. It is plain
// data: [New] reads it once and checks that it is consistent, and later
// changes to it have no effect.
//
// Keys come from any mix of [Config.Secret], [Config.Key], [Config.Keys] and
// [Config.KeySet]; at least one is required. Private keys and secrets can
// issue and verify; public keys only verify. To verify with an issuer's
// keys fetched once at start-up, fetch them first ([FetchKeySet], or
// [ParseKeySet] for a file or an environment variable) and put the set in
// KeySet.
type Config struct {
	// Secret is an HMAC secret for HS256, HS384 or HS512. It must be at least
	// as long as the hash output: 32 bytes for HS256, 48 for HS384, 64 for
	// HS512. Generate it with crypto/rand; never derive it from a password.
	// [New] refuses bytes that are recognisably a public key or certificate
	// (PEM, DER, JWK, OpenSSH), the key confusion of RFC 8725 §2.1.
	Secret []byte

	// Key is an asymmetric key: *rsa.PrivateKey, *rsa.PublicKey (RS*, PS*;
	// 2048 to 8192 bits), *ecdsa.PrivateKey, *ecdsa.PublicKey (ES256 on
	// P-256, ES384 on P-384, ES512 on P-521), ed25519.PrivateKey or
	// ed25519.PublicKey (EdDSA).
	Key any

	// KeyID is the kid of Secret or Key. Tokens naming another kid are not
	// verified with it. When empty, an asymmetric key gets its RFC 7638
	// thumbprint as kid (in issued tokens and in the published JWKS) and a
	// secret gets none.
	KeyID string

	// Keys is a local key set, for rotation or several issuers. Each key
	// is chosen by the kid of a token's header in O(1).
	Keys []Key

	// KeySet resolves keys that live elsewhere: a [RemoteKeySet] that
	// follows an issuer's rotation, or a [MemoryKeySet] loaded once. It is
	// asked only when the local keys have none for a token.
	KeySet KeySet

	// Algorithms lists the accepted signature algorithms: HS256, HS384,
	// HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512,
	// EdDSA; "none" can never be enabled. Every algorithm needs a key that
	// can verify it (unless keys come from KeySet) and every local key needs
	// an algorithm. It is required, except with a KeySet that declares its
	// issuer's algorithms ([RemoteKeySet.Algorithms]): these are then
	// accepted. An explicit list always wins.
	Algorithms []string

	// IssuerURL, when set, is required as the iss claim of every verified
	// token and set as iss on issued tokens. iss is compared byte for byte (RFC 7519 §4.1.1): a
	// trailing slash matters, so "https://tenant.example/" does not accept
	// tokens whose iss is "https://tenant.example".
	IssuerURL string

	// Audience, when set, requires every verified token's aud claim (a
	// string or an array of strings) to name at least one of these values.
	// It is not set on issued tokens: put "aud" in the claims.
	Audience []string

	// Expiration is the default lifetime of issued tokens (exp = iat +
	// Expiration). Zero means issued tokens carry no exp unless one is
	// given, which verification rejects unless AllowMissingExpiration.
	Expiration time.Duration

	// AllowMissingExpiration accepts tokens without an exp claim. Such
	// tokens never expire: enable it only for tokens that are revoked by
	// other means.
	AllowMissingExpiration bool

	// Leeway is the clock skew tolerated when checking exp, nbf and iat.
	// Zero means [DefaultLeeway] (10 s); [NoLeeway] (or any negative value)
	// means none.
	Leeway time.Duration

	// SigningKeyID picks the key that issues tokens when several can; it
	// names a kid of Keys, or KeyID. When empty, the only key that can sign
	// does.
	SigningKeyID string

	// TokenType is the typ header of issued tokens: by default
	// RequiredType when set, else "JWT". Use "at+jwt" for RFC 9068 access
	// tokens.
	TokenType string

	// RequiredType, when set, is the typ header every verified token must
	// carry, such as "at+jwt" (RFC 9068). It is compared case-insensitively
	// and an "application/" prefix is ignored (RFC 8725 §3.11).
	RequiredType string

	// MaxTokenLength is the longest token in bytes that is parsed; longer
	// ones are rejected first. Zero means [DefaultMaxTokenLength].
	MaxTokenLength int

	// Now is the clock; nil means time.Now. Tests set a fixed clock here.
	Now func() time.Time
}

// Key is one key of a local key set ([Config.Keys]).
type Key struct {
	// ID is the key's kid. When empty, an asymmetric key gets its RFC 7638
	// thumbprint; a secret gets none and verifies only tokens without kid.
	// IDs must be unique.
	ID string
	// Algorithm, when set, is the only algorithm the key is used with. It
	// must be in Config.Algorithms.
	Algorithm string
	// Key is a secret ([]byte) or one of the asymmetric keys listed at
	// [Config.Key].
	Key any
}
