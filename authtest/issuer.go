package authtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// Paths served by an [Issuer], relative to [Issuer.URL].
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks.json"
)

// Defaults of an [Issuer].
const (
	// DefaultAlgorithm is the algorithm an Issuer signs with unless
	// [WithAlgorithm] says otherwise.
	DefaultAlgorithm = "RS256"

	// DefaultLifetime is the time between iat and exp in the tokens an
	// Issuer mints unless [WithLifetime] says otherwise.
	DefaultLifetime = time.Hour

	// DefaultSubject is the sub of the tokens an Issuer mints when the
	// claims given to [Issuer.Token] have none.
	DefaultSubject = "subject"
)

// An IssuerOption configures [NewIssuer]. Options are built by the With
// functions of this package.
type IssuerOption interface {
	apply(*issuerConfig)
}

type issuerConfig struct {
	alg       string
	audience  []string
	keyID     string
	lifetime  time.Duration
	now       func() time.Time
	tokenType string
	tls       bool
}

type issuerOptionFunc func(*issuerConfig)

func (f issuerOptionFunc) apply(c *issuerConfig) { f(c) }

// WithAlgorithm makes the issuer sign with alg and generate keys for it:
// a 2048-bit RSA key for RS256, RS384, RS512, PS256, PS384 and PS512, an
// ECDSA key on P-256, P-384 or P-521 for ES256, ES384 and ES512, an Ed25519
// key for EdDSA. [NewIssuer] panics for any other algorithm.
func WithAlgorithm(alg string) IssuerOption {
	return issuerOptionFunc(func(c *issuerConfig) { c.alg = alg })
}

// WithAudience sets the aud claim of minted tokens (a string for one value,
// an array for several) and the Audience of [Issuer.Config].
func WithAudience(aud ...string) IssuerOption {
	aud = slices.Clone(aud)
	return issuerOptionFunc(func(c *issuerConfig) { c.audience = aud })
}

// WithKeyID sets the kid of the issuer's first key. Without it, and for
// every key added by [Issuer.Rotate], the kid is the key's RFC 7638
// thumbprint.
func WithKeyID(kid string) IssuerOption {
	return issuerOptionFunc(func(c *issuerConfig) { c.keyID = kid })
}

// WithLifetime sets the time between iat and exp in minted tokens (default
// [DefaultLifetime]).
func WithLifetime(d time.Duration) IssuerOption {
	return issuerOptionFunc(func(c *issuerConfig) { c.lifetime = d })
}

// WithClock sets the clock that dates minted tokens (default time.Now).
// [Issuer.Config] passes it on as the verifier's Now, so that tests with a
// fixed clock agree on both sides.
func WithClock(now func() time.Time) IssuerOption {
	return issuerOptionFunc(func(c *issuerConfig) { c.now = now })
}

// WithTokenType sets the typ header of minted tokens, such as "at+jwt"
// (RFC 9068), and the RequiredType of [Issuer.Config]. Without it tokens
// carry typ "JWT" and Config requires none.
func WithTokenType(typ string) IssuerOption {
	return issuerOptionFunc(func(c *issuerConfig) { c.tokenType = typ })
}

// WithTLS serves the issuer over https, with the self-signed certificate of
// [httptest.NewTLSServer]. The URLs of the issuer then start with https,
// and only [Issuer.Client] (which [Issuer.Config] and [Issuer.KeySet] use)
// trusts the certificate.
func WithTLS() IssuerOption {
	return issuerOptionFunc(func(c *issuerConfig) { c.tls = true })
}

// Issuer is a fake OpenID Provider running on an httptest server. It serves
//
//	GET /.well-known/openid-configuration  discovery: issuer, jwks_uri, id_token_signing_alg_values_supported
//	GET /.well-known/jwks.json             the public keys, old ones included
//
// and mints tokens signed by its current key with [Issuer.Token]. It has no
// authorization or token endpoint: tests mint tokens directly.
//
// An Issuer is safe for concurrent use. Its methods panic on error.
type Issuer struct {
	srv *httptest.Server
	cfg issuerConfig

	mu    sync.Mutex // serialises Rotate
	state atomic.Pointer[issuerState]

	keySetOnce sync.Once
	keySet     *jwt.RemoteKeySet
	keySetErr  error
	keySetCtx  context.Context
	cancel     context.CancelFunc
	closeOnce  sync.Once
}

// issuerState is one generation of keys; Rotate replaces it as a whole.
type issuerState struct {
	keys   []jwt.Key   // private keys, oldest first
	signer *jwt.Issuer // signs with the newest key and publishes them all
	jwks   http.Handler
}

// NewIssuer starts an Issuer, as [StartIssuer] does, and closes it with
// tb.Cleanup. It panics when an option is invalid or a key cannot be
// generated.
func NewIssuer(tb testing.TB, opts ...IssuerOption) *Issuer {
	tb.Helper()
	iss := StartIssuer(opts...)
	tb.Cleanup(iss.Close)
	return iss
}

// StartIssuer generates a signing key and starts an Issuer on a new
// httptest server. The caller must call [Issuer.Close] when done; tests
// should rather use [NewIssuer]. It panics when an option is invalid or a
// key cannot be generated.
func StartIssuer(opts ...IssuerOption) *Issuer {
	cfg := issuerConfig{alg: DefaultAlgorithm, lifetime: DefaultLifetime, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.lifetime <= 0 {
		panic(fmt.Sprintf("authtest: lifetime %v is not positive", cfg.lifetime))
	}
	iss := &Issuer{cfg: cfg}
	key, err := generateKey(cfg.alg)
	if err != nil {
		panic(err)
	}
	if err := iss.addKey(cfg.keyID, key); err != nil {
		panic(err)
	}
	iss.keySetCtx, iss.cancel = context.WithCancel(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DiscoveryPath, iss.serveDiscovery)
	mux.Handle("GET "+JWKSPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss.state.Load().jwks.ServeHTTP(w, r)
	}))
	if cfg.tls {
		iss.srv = httptest.NewTLSServer(mux)
	} else {
		iss.srv = httptest.NewServer(mux)
	}
	return iss
}

// Close stops the key set of [Issuer.Config], then the server. Tokens
// can still be minted afterwards, but no longer verified through the
// issuer's URLs. Close is idempotent.
func (iss *Issuer) Close() {
	iss.closeOnce.Do(func() {
		iss.cancel()
		iss.keySetOnce.Do(func() {}) // orders the read below after KeySet's write
		if iss.keySet != nil {
			_ = iss.keySet.Close()
		}
		iss.srv.Close()
	})
}

// URL returns the issuer identifier: the server's base URL, such as
// http://127.0.0.1:41234, with no trailing slash. It is the iss of minted
// tokens and the URL to give to [jwt.Discover] or [jwt.DiscoverKeySet].
func (iss *Issuer) URL() string { return iss.srv.URL }

// JWKSURL returns the URL of the issuer's JSON Web Key Set, for
// [jwt.NewRemoteKeySet] or [jwt.FetchKeySet].
func (iss *Issuer) JWKSURL() string { return iss.srv.URL + JWKSPath }

// Client returns an HTTP client for the issuer's server, which trusts its
// certificate when it was started [WithTLS].
func (iss *Issuer) Client() *http.Client { return iss.srv.Client() }

// Algorithm returns the algorithm the issuer signs with.
func (iss *Issuer) Algorithm() string { return iss.cfg.alg }

// KeyID returns the kid of the key that signs tokens now.
func (iss *Issuer) KeyID() string {
	keys := iss.state.Load().keys
	return keys[len(keys)-1].ID
}

// KeyIDs returns the kids of every published key, oldest first.
func (iss *Issuer) KeyIDs() []string {
	keys := iss.state.Load().keys
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

// Token mints a token signed by the current key. It starts from these
// claims:
//
//	iss  URL()
//	sub  DefaultSubject
//	aud  the WithAudience values, if any
//	iat  now
//	exp  now + lifetime (WithLifetime)
//
// and applies claims over them: a value given wins, and a nil value leaves
// the claim out, except iat, which is then set to now anyway. Other claims,
// such as scope, are copied as given. exp, iat and nbf may be numbers or
// time.Time values. The header carries alg, typ and the key's kid.
//
// Token panics when the claims cannot be signed, such as an exp that is
// not a number.
func (iss *Issuer) Token(claims auth.Claims) string {
	now := iss.cfg.now()
	c := auth.Claims{
		"iss": iss.URL(),
		"sub": DefaultSubject,
		"iat": now.Unix(),
		"exp": now.Add(iss.cfg.lifetime).Unix(),
	}
	switch len(iss.cfg.audience) {
	case 0:
	case 1:
		c["aud"] = iss.cfg.audience[0]
	default:
		c["aud"] = slices.Clone(iss.cfg.audience)
	}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	token, err := iss.state.Load().signer.Encode(c, 0)
	if err != nil {
		panic(fmt.Sprintf("authtest: Issuer.Token: %v", err))
	}
	return token
}

// Rotate generates a new key and makes it the signing key. The previous
// keys stay in the published JWKS, so tokens they signed still verify.
// It returns the new key's kid. Rotate panics when the key cannot be
// generated.
func (iss *Issuer) Rotate() string {
	key, err := generateKey(iss.cfg.alg)
	if err != nil {
		panic(err)
	}
	if err := iss.addKey("", key); err != nil {
		panic(err)
	}
	return iss.KeyID()
}

// Config returns a jwt.Config that verifies the issuer's tokens:
// IssuerURL, Audience (from WithAudience), Algorithms (the issuer's),
// RequiredType (from WithTokenType), Now (from WithClock) and a KeySet that
// discovers the issuer through its discovery document and follows its JWKS
// with [jwt.DiscoverKeySet]. The key set is shared by every Config of the
// issuer, downloads again at once when a token names a kid it does not
// know (so that [Issuer.Rotate] is picked up immediately), and is closed by
// [Issuer.Close]. The first call downloads the discovery document and the
// JWKS, and panics if that fails.
//
// Change the result freely; it is a copy.
func (iss *Issuer) Config() jwt.Config {
	return jwt.Config{
		IssuerURL:    iss.URL(),
		Audience:     slices.Clone(iss.cfg.audience),
		Algorithms:   []string{iss.cfg.alg},
		RequiredType: iss.cfg.tokenType,
		KeySet:       iss.KeySet(),
		Now:          iss.cfg.now,
	}
}

// KeySet returns the key set used by [Issuer.Config]: a [jwt.RemoteKeySet]
// built by [jwt.DiscoverKeySet] from the issuer's discovery document, with
// an UnknownKIDInterval of a nanosecond. It is created on first use and
// closed by [Issuer.Close]. KeySet panics if the first download fails or
// the issuer is closed.
func (iss *Issuer) KeySet() *jwt.RemoteKeySet {
	iss.keySetOnce.Do(func() {
		iss.keySet, iss.keySetErr = jwt.DiscoverKeySet(iss.keySetCtx, iss.URL(), jwt.RemoteOptions{
			Client:             iss.Client(),
			UnknownKIDInterval: time.Nanosecond,
		})
	})
	if iss.keySetErr != nil {
		panic(fmt.Sprintf("authtest: Issuer.KeySet: %v", iss.keySetErr))
	}
	if iss.keySet == nil {
		panic("authtest: Issuer.KeySet: the issuer is closed")
	}
	return iss.keySet
}

// addKey adds key, with kid or its thumbprint, and makes it the signer.
func (iss *Issuer) addKey(kid string, key crypto.Signer) error {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if kid == "" {
		// The thumbprint, as jwt computes it for a key without kid.
		one, err := jwt.NewIssuer(jwt.Config{Key: key, Algorithms: []string{iss.cfg.alg}})
		if err != nil {
			return fmt.Errorf("authtest: %w", err)
		}
		kid = one.JWKS().Keys[0].KID
	}
	var keys []jwt.Key
	if old := iss.state.Load(); old != nil {
		keys = slices.Clone(old.keys)
	}
	keys = append(keys, jwt.Key{ID: kid, Algorithm: iss.cfg.alg, Key: key})
	signer, err := jwt.NewIssuer(jwt.Config{
		Keys:                   keys,
		Algorithms:             []string{iss.cfg.alg},
		SigningKeyID:           kid,
		TokenType:              iss.cfg.tokenType,
		AllowMissingExpiration: true, // so that Token can leave exp out
		Now:                    iss.cfg.now,
	})
	if err != nil {
		return fmt.Errorf("authtest: %w", err)
	}
	iss.state.Store(&issuerState{keys: keys, signer: signer, jwks: signer.JWKSHandler()})
	return nil
}

func (iss *Issuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	doc := map[string]any{
		"issuer":                                iss.URL(),
		"jwks_uri":                              iss.JWKSURL(),
		"id_token_signing_alg_values_supported": []string{iss.cfg.alg},
		"subject_types_supported":               []string{"public"},
		"response_types_supported":              []string{"code"},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

// generateKey returns a new private key for alg.
func generateKey(alg string) (crypto.Signer, error) {
	var (
		key crypto.Signer
		err error
	)
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		key, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("authtest: unsupported algorithm %q; use one of %v", alg, slices.Sorted(maps.Keys(supported)))
	}
	if err != nil {
		return nil, fmt.Errorf("authtest: generating a %s key: %w", alg, err)
	}
	return key, nil
}

// supported lists the algorithms of generateKey, for its error message.
var supported = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true, "EdDSA": true,
}
