// Package apikey authenticates requests by an API key sent in a header.
//
// An API key carries no scopes, so [New] returns a plain *auth.Auth[string]
// with no Requires method: asking an API key for a scope is a compile error.
// The principal is the name of the key's owner as the verifier reports it,
// such as a client or service name.
//
// A request without the key header is rejected with 401, detail
// "Invalid API Key" and the challenge "WWW-Authenticate: APIKey"; so is a
// request whose key the verifier does not know.
//
// Two verifiers ship: [Static], for a few keys from configuration, compared
// in constant time; and [Hashed], for keys kept only as SHA-256 digests in a
// store of your own, looked up in O(1).
package apikey

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/typedauth/auth"
)

// DefaultHeader is the header API keys are read from unless [WithHeader]
// names another.
const DefaultHeader = "X-Api-Key"

// Scheme is the WWW-Authenticate scheme sent with 401 responses.
const Scheme = "APIKey"

// DetailInvalid is the public detail of every API key rejection.
const DetailInvalid = "Invalid API Key"

// ErrUnknownKey is returned by verifiers for a key they do not know. It is an
// [auth.ErrInvalidCredential].
var ErrUnknownKey = fmt.Errorf("%w: unknown API key", auth.ErrInvalidCredential)

// Verifier turns a presented key into the name of its owner. It returns
// [ErrUnknownKey] (or any error matching [auth.ErrInvalidCredential]) for a
// key it does not know; any other error is an internal failure (500).
type Verifier func(ctx context.Context, key string) (string, error)

// Option configures [New]. A nil Option is ignored.
type Option func(*config)

type config struct {
	header      string
	description string
	opts        []auth.Option
}

// WithHeader reads the key from the named header instead of [DefaultHeader].
func WithHeader(name string) Option {
	return func(c *config) { c.header = name }
}

// WithDescription sets the description of the OpenAPI security scheme
// reported by the Auth's Description method.
func WithDescription(text string) Option {
	return func(c *config) { c.description = text }
}

// WithAuthOptions passes options, such as [auth.WithErrorWriter], through to
// the underlying [auth.New].
func WithAuthOptions(opts ...auth.Option) Option {
	return func(c *config) { c.opts = append(c.opts, opts...) }
}

// New returns an Auth that reads an API key from a header and verifies it
// with verify. Every rejection for a missing or unknown key has the detail
// [DetailInvalid]. New panics if verify is nil or the header name is empty
// or not a valid RFC 9110 field name.
func New(verify Verifier, opts ...Option) *auth.Auth[string] {
	if verify == nil {
		panic("apikey: New: nil verifier")
	}
	c := config{header: DefaultHeader}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.header == "" {
		panic("apikey: New: empty header name")
	}
	if !validHeaderName(c.header) {
		panic(fmt.Sprintf("apikey: New: invalid header name %q", c.header))
	}
	base := []auth.Option{
		auth.WithChallenge(Scheme, ""),
		auth.WithMissingDetail(DetailInvalid),
		auth.WithDescription(auth.Description{Type: "apiKey", In: "header", Name: http.CanonicalHeaderKey(c.header), Description: c.description}),
	}
	invalid := auth.Unauthorized(DetailInvalid)
	return auth.New(auth.Header(c.header), func(ctx context.Context, key string) (string, error) {
		name, err := verify(ctx, key)
		if err != nil {
			// A verifier's "no credential" for a key it was given is a
			// rejection of that key, with the same public detail.
			if errors.Is(err, auth.ErrInvalidCredential) || errors.Is(err, auth.ErrNoCredential) {
				return "", invalid.Wrap(err)
			}
			return "", err
		}
		return name, nil
	}, append(base, c.opts...)...)
}

// validHeaderName reports whether name is an RFC 9110 field name (a token).
func validHeaderName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return name != ""
}

// digest is the SHA-256 digest of a key.
type digest = [sha256.Size]byte

// Digest returns the SHA-256 digest of key, the form in which [Hashed]
// expects keys to be stored. Hash keys when you issue them and keep only the
// digest.
func Digest(key string) [sha256.Size]byte { return sha256.Sum256([]byte(key)) }

// Static returns a verifier for a fixed set of keys, such as keys read from
// the environment at start-up: keys maps each owner's name to its key. Keys
// are compared in constant time: the presented key is hashed and its digest
// compared with every stored digest, without stopping at a match, so neither
// the position nor the length of a key leaks through timing. Static panics if
// a key is empty or two owners share a key, which would make the principal
// ambiguous. The map is copied.
func Static(keys map[string]string) Verifier {
	type entry struct {
		name string
		sum  digest
	}
	names := slices.Sorted(maps.Keys(keys)) // a deterministic order and panic message
	entries := make([]entry, 0, len(keys))
	owner := make(map[digest]string, len(keys))
	for _, name := range names {
		key := keys[name]
		if key == "" {
			panic(fmt.Sprintf("apikey: Static: empty key for %q", name))
		}
		sum := Digest(key)
		if other, dup := owner[sum]; dup {
			panic(fmt.Sprintf("apikey: Static: owners %q and %q share a key", other, name))
		}
		owner[sum] = name
		entries = append(entries, entry{name: name, sum: sum})
	}
	return func(_ context.Context, key string) (string, error) {
		sum := Digest(key)
		found := -1
		for i := range entries {
			if subtle.ConstantTimeCompare(sum[:], entries[i].sum[:]) == 1 {
				found = i
			}
		}
		if found < 0 {
			return "", ErrUnknownKey
		}
		return entries[found].name, nil
	}
}

// Lookup finds the owner of the key whose SHA-256 digest is sum. It returns
// [ErrUnknownKey] when there is none; any other error is a failure of the
// store (500). It must be safe for concurrent use.
type Lookup func(ctx context.Context, sum [sha256.Size]byte) (string, error)

// Hashed returns a verifier that hashes the presented key with SHA-256 and
// asks lookup for the owner of that digest, so that keys are never held in
// plain text and the lookup is a single map or index access. A key's digest
// reveals nothing usable about stored keys, so the lookup need not be
// constant-time.
func Hashed(lookup Lookup) Verifier {
	if lookup == nil {
		panic("apikey: Hashed: nil lookup")
	}
	return func(ctx context.Context, key string) (string, error) {
		return lookup(ctx, Digest(key))
	}
}

// Digests is an in-memory [Lookup] from key digests to owners, for [Hashed].
// It must not be modified while in use.
type Digests map[[sha256.Size]byte]string

// Lookup returns the owner of sum, or [ErrUnknownKey].
func (d Digests) Lookup(_ context.Context, sum [sha256.Size]byte) (string, error) {
	if name, ok := d[sum]; ok {
		return name, nil
	}
	return "", ErrUnknownKey
}

// Unverified returns a verifier that accepts any non-empty key and returns
// the key itself as the principal, leaving validation to the handler as the
// seed's APIKeyAuth does. It is named so that its use stands out in review:
// prefer [Static] or [Hashed].
func Unverified() Verifier {
	return func(_ context.Context, key string) (string, error) { return key, nil }
}
