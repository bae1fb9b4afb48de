// Package apikey authenticates requests by an API key sent in a header.
//
// An API key carries no scopes, so [New] returns a plain
// *auth.Auth[apikey.Principal] with no Requires method: asking an API key for
// a scope is a compile error. The principal is a [Principal]: the key's
// owner, such as a client or service name, and for a stored key its id. It
// is a type of its own, so that no other stage's string can shadow it in the
// request context.
//
// A request without the key header is rejected with 401, detail
// "Invalid API Key" and the challenge "WWW-Authenticate: APIKey"; so is a
// request whose key the verifier does not know. The Auth is described for
// API documentation as an apiKey in that header.
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

// Principal is the principal of an API key Auth: who presented the key.
type Principal struct {
	// Owner names the key's owner, such as a client or service name.
	Owner string
	// KeyID identifies the key among its owner's keys, for a store that
	// keeps several (so that one can be revoked and logged apart). It is
	// empty for the keys of [Static], which are known by owner only.
	KeyID string
}

// Verifier turns a presented key into its [Principal]. It returns
// [ErrUnknownKey] (or any error matching [auth.ErrInvalidCredential]) for a
// key it does not know; any other error is an internal failure (500).
type Verifier func(ctx context.Context, key string) (Principal, error)

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

// New returns an Auth that reads an API key from a header with
// [auth.Header] and verifies it with verify. Every rejection for a missing or
// unknown key has the detail [DetailInvalid] and the challenge [Scheme]; the
// Auth is described as an apiKey in the header, with the text of
// [WithDescription]. New panics if verify is nil or the header name is empty
// or not a valid RFC 9110 field name, since both are programming errors.
func New(verify Verifier, opts ...Option) *auth.Auth[Principal] {
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
	scheme := auth.Header(c.header)
	described := scheme.Descriptions()[0]
	described.Description = c.description
	base := []auth.Option{
		auth.WithChallenge(Scheme, ""),
		auth.WithMissingDetail(DetailInvalid),
		auth.WithDescription(described),
	}
	invalid := auth.Unauthorized(DetailInvalid)
	return auth.New(scheme, func(ctx context.Context, key string) (Principal, error) {
		p, err := verify(ctx, key)
		if err != nil {
			// A verifier's "no credential" for a key it was given is a
			// rejection of that key, with the same public detail.
			if errors.Is(err, auth.ErrInvalidCredential) || errors.Is(err, auth.ErrNoCredential) {
				return Principal{}, invalid.Wrap(err)
			}
			return Principal{}, err
		}
		return p, nil
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
// the environment at start-up: keys maps each owner's name to its key. The
// principal of a key is Principal{Owner: owner}, with no KeyID. Keys are
// compared in constant time: the presented key is hashed and its digest
// compared with every stored digest, without stopping at a match, so neither
// the position nor the length of a key leaks through timing. The map is
// copied.
//
// Static fails if the map is empty, an owner's name is empty, a key is empty
// (as when its environment variable is unset) or two owners share a key,
// which would make the principal ambiguous. The error names the owners, never
// a key.
func Static(keys map[string]string) (Verifier, error) {
	type entry struct {
		owner string
		sum   digest
	}
	if len(keys) == 0 {
		return nil, errors.New("apikey: Static: no keys")
	}
	names := slices.Sorted(maps.Keys(keys)) // a deterministic order and error message
	entries := make([]entry, 0, len(keys))
	owner := make(map[digest]string, len(keys))
	for _, name := range names {
		key := keys[name]
		if name == "" {
			return nil, errors.New("apikey: Static: a key has an empty owner name")
		}
		if key == "" {
			return nil, fmt.Errorf("apikey: Static: empty key for %q", name)
		}
		sum := Digest(key)
		if other, dup := owner[sum]; dup {
			return nil, fmt.Errorf("apikey: Static: owners %q and %q share a key", other, name)
		}
		owner[sum] = name
		entries = append(entries, entry{owner: name, sum: sum})
	}
	return func(_ context.Context, key string) (Principal, error) {
		sum := Digest(key)
		found := -1
		for i := range entries {
			if subtle.ConstantTimeCompare(sum[:], entries[i].sum[:]) == 1 {
				found = i
			}
		}
		if found < 0 {
			return Principal{}, ErrUnknownKey
		}
		return Principal{Owner: entries[found].owner}, nil
	}, nil
}

// MustStatic is like [Static] but panics when Static fails. It is meant for
// keys written as literals, such as in tests; keys read from the
// environment or a file call Static and handle its error.
func MustStatic(keys map[string]string) Verifier {
	v, err := Static(keys)
	if err != nil {
		panic(err)
	}
	return v
}

// Lookup finds the principal of the key whose SHA-256 digest is sum: its
// owner and, for a store that keeps several keys per owner, the key's id. It
// returns [ErrUnknownKey] when there is none; any other error is a failure
// of the store (500). It must be safe for concurrent use.
type Lookup func(ctx context.Context, sum [sha256.Size]byte) (Principal, error)

// Hashed returns a verifier that hashes the presented key with SHA-256 and
// asks lookup for the principal of that digest, so that keys are never held
// in plain text and the lookup is a single map or index access. A key's
// digest reveals nothing usable about stored keys, so the lookup need not be
// constant-time. Hashed panics if lookup is nil.
func Hashed(lookup Lookup) Verifier {
	if lookup == nil {
		panic("apikey: Hashed: nil lookup")
	}
	return func(ctx context.Context, key string) (Principal, error) {
		return lookup(ctx, Digest(key))
	}
}

// Digests is an in-memory [Lookup] from key digests to principals, for
// [Hashed]. It must not be modified while in use.
type Digests map[[sha256.Size]byte]Principal

// Lookup returns the principal of sum, or [ErrUnknownKey].
func (d Digests) Lookup(_ context.Context, sum [sha256.Size]byte) (Principal, error) {
	if p, ok := d[sum]; ok {
		return p, nil
	}
	return Principal{}, ErrUnknownKey
}

// Unverified returns a verifier that accepts any non-empty key and returns
// Principal{Owner: key}, the key itself, leaving validation to the handler.
// It is named so that its use stands out in review: prefer [Static] or
// [Hashed].
func Unverified() Verifier {
	return func(_ context.Context, key string) (Principal, error) { return Principal{Owner: key}, nil }
}
