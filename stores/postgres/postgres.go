// Package authpostgres keeps API keys in PostgreSQL, shared by every replica
// of a service.
//
// A key is created with a random secret that is shown once, to whoever
// created it, and stored only as its SHA-256 digest. It looks like
//
//	tak_3x7kq2mzd4hfw6pa_n5…(52 characters)
//
// a prefix, a public key ID and the secret. A presented key is found by its
// ID through the table's primary key (one index lookup, whatever the number
// of keys) and its digest compared in constant time. Each key has an owner,
// optional scopes, a creation time, an optional expiry, a revocation time
// and a last-used time.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	if err := authpostgres.Migrate(ctx, pool, ""); err != nil { ... }
//	keys, err := authpostgres.New(authpostgres.Config{Pool: pool})
//	...
//	defer keys.Close()
//	mux.Handle("GET /reports", keys.Auth().Guard(reports))               // any valid key
//	mux.Handle("POST /reports", keys.ScopedAuth().Requires("reports:write").Guard(upload))
//
// # Caching and revocation
//
// Each Store caches the keys it has checked for [Config.CacheTTL] (default
// 30 s) and listens for revocations with LISTEN/NOTIFY on a connection of its
// own: [Store.Revoke] on any replica notifies every other, which drops the
// key from its cache, so that a revoked key stops working everywhere within
// a second. The cache is trusted only while that listener is known to be
// current: it runs a query every [Config.MaxStaleness]/4, and notifications
// sent before it have arrived by the time it returns. When the listener is
// older than MaxStaleness (default 1 s), every check goes to the database;
// when the database cannot be reached, checks fail with 503, never by
// accepting a key. After reconnecting, the listener empties the cache.
//
// # Unknown keys
//
// A key whose ID is not in the table costs a database lookup, and a client
// can make up as many well-formed IDs as it likes. Lookups of IDs the Store
// has not yet found in the table share [Config.MaxUnseenLookups]
// connections (half the pool by default), so that such a flood gets 503 and
// leaves the rest of the pool to the keys seen before. A key created on
// another replica takes that path on its first check here, so it works at
// once as before, unless a flood is under way. Made-up IDs are not cached
// as absent: each is new, so such a cache would not spare a lookup.
package authpostgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/scopes"
)

// DefaultTable is the table of API keys unless [Config.Table] names another.
const DefaultTable = "typedauth_api_keys"

// DefaultKeyPrefix starts every key a Store creates unless
// [Config.KeyPrefix] says otherwise.
const DefaultKeyPrefix = "tak"

// Defaults of [Config].
const (
	DefaultCacheTTL         = 30 * time.Second
	DefaultMaxStaleness     = time.Second
	DefaultLastUsedInterval = time.Minute
	DefaultQueryTimeout     = 2 * time.Second
)

const (
	idBytes     = 10 // 16 base32 characters: the public key ID
	secretBytes = 32 // 52 base32 characters
	idLen       = 16
	secretLen   = 52
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Config configures [New].
type Config struct {
	// Pool is the connection pool. Required. The Store also opens one
	// connection of its own, with the pool's settings, to listen for
	// revocations.
	Pool *pgxpool.Pool
	// Table names the table of keys, optionally schema-qualified
	// ("auth.api_keys"); it also names the notification channel (one
	// longer than PostgreSQL's 63 bytes is named by a digest of it). Each
	// part is a lowercase SQL identifier. Default: [DefaultTable].
	Table string
	// KeyPrefix starts every created key, to make keys recognisable (in
	// secret scanners, in logs); letters and digits. Default:
	// [DefaultKeyPrefix].
	KeyPrefix string
	// CacheTTL is how long a checked key is cached; a negative value turns
	// the cache off. Default: [DefaultCacheTTL].
	CacheTTL time.Duration
	// MaxCacheEntries bounds the cache. Default: 100,000.
	MaxCacheEntries int
	// MaxStaleness is how old the revocation listener may be before the
	// cache is bypassed. Default: [DefaultMaxStaleness].
	MaxStaleness time.Duration
	// LastUsedInterval is how often, at most, a key's last-used time is
	// written. Default: [DefaultLastUsedInterval].
	LastUsedInterval time.Duration
	// QueryTimeout bounds each query of a check. Default:
	// [DefaultQueryTimeout].
	QueryTimeout time.Duration
	// MaxUnseenLookups bounds the database lookups in flight for key IDs
	// this Store has not yet found in the table, as every unknown ID a
	// client makes up is. Further such lookups wait, within QueryTimeout,
	// for one to end, and fail with 503 if none does: a flood of made-up
	// keys holds at most this many connections, and checks of keys seen
	// before never queue behind it. Default: half the pool's MaxConns, at
	// least 1.
	MaxUnseenLookups int
	// Now returns the current time, to judge expiry. Default: [time.Now].
	Now func() time.Time
	// OnError, when set, is told of every background failure (the listener,
	// last-used writes), for logs. It must not block.
	OnError func(error)
}

// Key describes a stored API key. It never holds the secret.
type Key struct {
	// ID is the key's public identifier, part of the key itself.
	ID string
	// Owner names who the key belongs to.
	Owner string
	// Scopes are the scopes the key grants; none by default.
	Scopes []string
	// CreatedAt is when the key was created.
	CreatedAt time.Time
	// ExpiresAt is when the key stops working; zero for never.
	ExpiresAt time.Time
	// RevokedAt is when the key was revoked; zero if it was not.
	RevokedAt time.Time
	// LastUsedAt is when the key was last accepted, to within
	// [Config.LastUsedInterval]; zero if never.
	LastUsedAt time.Time
}

// NewKey describes a key to create.
type NewKey struct {
	// Owner names who the key belongs to. Required.
	Owner string
	// Scopes the key grants, each a valid scope (see scopes.Check).
	Scopes []string
	// ExpiresAt is when the key stops working; zero for never.
	ExpiresAt time.Time
}

// Errors of checks. Each is an [auth.ErrInvalidCredential] (401 with
// [apikey.DetailInvalid], whatever the reason, so that a caller learns
// nothing about other keys).
var (
	ErrMalformedKey = fmt.Errorf("%w: malformed API key", apikey.ErrUnknownKey)
	ErrRevoked      = fmt.Errorf("%w: API key revoked", auth.ErrInvalidCredential)
	ErrExpired      = fmt.Errorf("%w: API key expired", auth.ErrInvalidCredential)
)

// ErrNotFound is returned by [Store.Revoke] for an unknown key ID.
var ErrNotFound = errors.New("authpostgres: no such key")

// DetailUnavailable is the public detail of the 503 when the database
// cannot be reached.
const DetailUnavailable = "API keys cannot be checked right now"

var errUnavailable = auth.Unavailable(DetailUnavailable)

var errTooManyUnseen = errors.New("authpostgres: too many lookups of key IDs not seen before (Config.MaxUnseenLookups)")

// Store keeps API keys in PostgreSQL. It is safe for concurrent use. Build
// one with [New] and stop it with [Store.Close].
type Store struct {
	pool         *pgxpool.Pool
	table        string // sanitized, for SQL
	channel      string // raw, for pg_notify
	prefix       string
	cacheTTL     time.Duration
	maxEntries   int
	maxStaleness time.Duration
	lastUsed     time.Duration
	queryTimeout time.Duration
	now          func() time.Time
	onError      func(error)
	start        time.Time

	mu    sync.Mutex
	cache map[string]*cached
	gen   uint64 // bumped by every invalidation; fills from older reads are dropped
	// seen holds the IDs found in the table (bounded by maxEntries), whose
	// lookups skip the unseen semaphore. It only chooses the queue: it is
	// never taken as proof that a key is valid.
	seen   map[string]struct{}
	unseen chan struct{} // one token per lookup in flight of an ID not in seen

	touchMu sync.Mutex
	touched map[string]time.Time // id → last-used time to write
	written map[string]time.Time // id → last written (or queued) last-used time

	current atomic.Int64 // monotonic ns up to which notifications are applied, 0 if none
	cancel  context.CancelFunc
	done    chan struct{}
}

// cached is a key's row as of a read.
type cached struct {
	key    Key
	hash   [sha256.Size]byte
	loaded int64 // monotonic ns
}

// maxChannel is the longest channel name PostgreSQL takes (NAMEDATALEN - 1).
const maxChannel = 63

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$`)
var prefixRE = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)

// tableIdent checks a table name and returns it sanitized for SQL.
func tableIdent(table string) (string, error) {
	if table == "" {
		table = DefaultTable
	}
	if !identRE.MatchString(table) {
		return "", fmt.Errorf("authpostgres: table name %q is not a lowercase SQL identifier", table)
	}
	return pgx.Identifier(strings.Split(table, ".")).Sanitize(), nil
}

// Migrate creates the table of keys and its indexes in the table named
// table ("" for [DefaultTable]) when they do not exist. It is safe to call
// from every replica at start-up, concurrently: it holds an advisory lock.
// The index on owners is named after the table (dots as underscores) with
// "_owner_idx", or, when that would pass PostgreSQL's 63 bytes, by a digest
// of the table's name, as the notification channel is.
func Migrate(ctx context.Context, pool *pgxpool.Pool, table string) error {
	t, err := tableIdent(table)
	if err != nil {
		return err
	}
	if table == "" {
		table = DefaultTable
	}
	idxName := strings.ReplaceAll(table, ".", "_") + "_owner_idx"
	if len(idxName) > maxChannel {
		// PostgreSQL would truncate it, and two tables sharing the first
		// 63 bytes would share the name: the second index would never be
		// created (IF NOT EXISTS).
		sum := sha256.Sum256([]byte(table))
		idxName = "typedauth_api_keys_" + hex.EncodeToString(sum[:16]) + "_owner"
	}
	idx := pgx.Identifier{idxName}.Sanitize()
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "typedauth migrate "+table); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
CREATE TABLE IF NOT EXISTS `+t+` (
	id           text PRIMARY KEY,
	secret_hash  bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
	owner        text NOT NULL CHECK (owner <> ''),
	scopes       text[] NOT NULL DEFAULT '{}',
	created_at   timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz,
	revoked_at   timestamptz,
	last_used_at timestamptz
);
CREATE INDEX IF NOT EXISTS `+idx+` ON `+t+` (owner, created_at);
COMMENT ON COLUMN `+t+`.secret_hash IS 'SHA-256 of the whole key; the key itself is never stored';`)
		if err != nil {
			return fmt.Errorf("authpostgres: migrate %s: %w", table, err)
		}
		return nil
	})
}

// New returns a Store over the table of cfg (created by [Migrate]) and
// starts its revocation listener in the background. It does not wait for
// the listener: until it is connected, every check goes to the database.
func New(cfg Config) (*Store, error) {
	if cfg.Pool == nil {
		return nil, errors.New("authpostgres: Config.Pool is nil")
	}
	t, err := tableIdent(cfg.Table)
	if err != nil {
		return nil, err
	}
	s := &Store{
		pool: cfg.Pool, table: t, channel: cfg.Table, prefix: cfg.KeyPrefix,
		cacheTTL: cfg.CacheTTL, maxEntries: cfg.MaxCacheEntries, maxStaleness: cfg.MaxStaleness,
		lastUsed: cfg.LastUsedInterval, queryTimeout: cfg.QueryTimeout, now: cfg.Now, onError: cfg.OnError,
		start: time.Now(), cache: map[string]*cached{}, seen: map[string]struct{}{}, touched: map[string]time.Time{}, written: map[string]time.Time{},
		done: make(chan struct{}),
	}
	if s.channel == "" {
		s.channel = DefaultTable
	}
	if len(s.channel) > maxChannel {
		// pg_notify refuses longer names, and LISTEN would truncate them.
		sum := sha256.Sum256([]byte(s.channel))
		s.channel = "typedauth_api_keys_" + hex.EncodeToString(sum[:16])
	}
	if s.prefix == "" {
		s.prefix = DefaultKeyPrefix
	}
	if !prefixRE.MatchString(s.prefix) {
		return nil, fmt.Errorf("authpostgres: key prefix %q: want 1 to 16 letters and digits", s.prefix)
	}
	if s.cacheTTL == 0 {
		s.cacheTTL = DefaultCacheTTL
	}
	if s.maxEntries <= 0 {
		s.maxEntries = 100_000
	}
	if s.maxStaleness <= 0 {
		s.maxStaleness = DefaultMaxStaleness
	}
	if s.lastUsed <= 0 {
		s.lastUsed = DefaultLastUsedInterval
	}
	if s.queryTimeout <= 0 {
		s.queryTimeout = DefaultQueryTimeout
	}
	unseen := cfg.MaxUnseenLookups
	if unseen <= 0 {
		unseen = max(int(cfg.Pool.Config().MaxConns)/2, 1)
	}
	s.unseen = make(chan struct{}, unseen)
	if s.now == nil {
		s.now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(ctx)
	return s, nil
}

// Close stops the listener and writes pending last-used times. It does not
// close the pool.
func (s *Store) Close() error {
	s.cancel()
	<-s.done
	s.current.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), s.queryTimeout)
	defer cancel()
	s.flushLastUsed(ctx)
	return nil
}

// Ready waits until the revocation listener is connected and current, or
// ctx ends. Checks work before that, without the cache.
func (s *Store) Ready(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !s.fresh() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("authpostgres: listener not connected: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

func (s *Store) mono() int64 { return int64(time.Since(s.start)) + 1 }

func (s *Store) fresh() bool {
	c := s.current.Load()
	return c != 0 && s.mono()-c <= int64(s.maxStaleness)
}

func (s *Store) report(err error) {
	if s.onError != nil && err != nil {
		s.onError(err)
	}
}

// Create stores a new key and returns it, in plain text, with its
// description. The plain key is not kept anywhere: give it to its owner now.
func (s *Store) Create(ctx context.Context, nk NewKey) (string, Key, error) {
	if nk.Owner == "" {
		return "", Key{}, errors.New("authpostgres: Create: empty owner")
	}
	for _, sc := range nk.Scopes {
		if err := scopes.Check(sc); err != nil {
			return "", Key{}, fmt.Errorf("authpostgres: Create: %w", err)
		}
	}
	raw := make([]byte, idBytes+secretBytes)
	rand.Read(raw) // never fails (crypto/rand)
	id := b32.EncodeToString(raw[:idBytes])
	plain := s.prefix + "_" + id + "_" + b32.EncodeToString(raw[idBytes:])
	sum := sha256.Sum256([]byte(plain))
	var expires *time.Time
	if !nk.ExpiresAt.IsZero() {
		expires = &nk.ExpiresAt
	}
	sc := append([]string{}, nk.Scopes...)
	k := Key{ID: id, Owner: nk.Owner, Scopes: sc, ExpiresAt: nk.ExpiresAt}
	err := s.pool.QueryRow(ctx, `INSERT INTO `+s.table+` (id, secret_hash, owner, scopes, expires_at)
VALUES ($1, $2, $3, $4, $5) RETURNING created_at`, id, sum[:], nk.Owner, sc, expires).Scan(&k.CreatedAt)
	if err != nil {
		return "", Key{}, fmt.Errorf("authpostgres: Create: %w", err)
	}
	return plain, k, nil
}

// List returns the keys of owner, or every key when owner is "", oldest
// first. It never returns secrets or their digests.
func (s *Store) List(ctx context.Context, owner string) ([]Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, owner, scopes, created_at, expires_at, revoked_at, last_used_at
FROM `+s.table+` WHERE $1 = '' OR owner = $1 ORDER BY created_at, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("authpostgres: List: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Key, error) {
		var k Key
		var exp, rev, used *time.Time
		err := row.Scan(&k.ID, &k.Owner, &k.Scopes, &k.CreatedAt, &exp, &rev, &used)
		k.ExpiresAt, k.RevokedAt, k.LastUsedAt = deref(exp), deref(rev), deref(used)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("authpostgres: List: %w", err)
	}
	return keys, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// Revoke revokes the key with the given ID on every replica: it stops
// working here at once and on the others as soon as they are notified
// (within [Config.MaxStaleness]). Revoking a revoked key keeps its first
// revocation time. It returns [ErrNotFound] for an unknown ID.
func (s *Store) Revoke(ctx context.Context, id string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE `+s.table+` SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		// Delivered to every listener when the transaction commits.
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, id)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("authpostgres: Revoke: %w", err)
	}
	s.invalidate(id)
	return nil
}

// parse splits a presented key into its ID, or reports it malformed.
func (s *Store) parse(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+"_")
	if !ok || len(rest) != idLen+1+secretLen || rest[idLen] != '_' {
		return "", false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if i != idLen && !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return "", false
		}
	}
	return rest[:idLen], true
}

// Lookup checks a presented key and returns its description, which the
// caller owns (its Scopes are a copy of the cached key's). It fails with
// an error matching [auth.ErrInvalidCredential] for a malformed, unknown,
// wrong, revoked or expired key, and with a 503 [*auth.Error] when the
// database cannot be reached or does not answer in time: within
// [Config.QueryTimeout], within ctx's deadline (a server's deadline on the
// request), or while the pool has no free connection. When ctx is
// cancelled (the client went away), it fails with ctx's error instead,
// which matches [context.Canceled].
func (s *Store) Lookup(ctx context.Context, key string) (Key, error) {
	id, ok := s.parse(key)
	if !ok {
		return Key{}, ErrMalformedKey
	}
	sum := sha256.Sum256([]byte(key))
	c, err := s.row(ctx, id)
	if err != nil {
		return Key{}, err
	}
	if c == nil || subtle.ConstantTimeCompare(sum[:], c.hash[:]) != 1 {
		return Key{}, apikey.ErrUnknownKey
	}
	if !c.key.RevokedAt.IsZero() {
		return Key{}, ErrRevoked
	}
	now := s.now()
	if !c.key.ExpiresAt.IsZero() && !now.Before(c.key.ExpiresAt) {
		return Key{}, ErrExpired
	}
	s.touch(id, now)
	k := c.key
	k.Scopes = slices.Clone(k.Scopes) // the caller's own: c is shared by every request
	return k, nil
}

// row returns the row of id from the cache when it may be trusted, and from
// the database otherwise; nil if there is none.
func (s *Store) row(ctx context.Context, id string) (*cached, error) {
	if s.cacheTTL > 0 && s.fresh() {
		s.mu.Lock()
		c := s.cache[id]
		s.mu.Unlock()
		if c != nil && s.mono()-c.loaded < int64(s.cacheTTL) {
			return c, nil
		}
	}
	s.mu.Lock()
	gen := s.gen
	_, seen := s.seen[id]
	s.mu.Unlock()
	qctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	if !seen {
		// Possibly a made-up ID: wait for a share of the pool of its own,
		// so that a flood of them never starves keys seen before.
		select {
		case s.unseen <- struct{}{}:
			defer func() { <-s.unseen }()
		case <-qctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, ctx.Err()
			}
			return nil, errUnavailable.Wrap(errTooManyUnseen)
		}
	}
	loaded := s.mono()
	c := &cached{loaded: loaded}
	var hash []byte
	var exp, rev, used *time.Time
	err := s.pool.QueryRow(qctx, `SELECT secret_hash, owner, scopes, created_at, expires_at, revoked_at, last_used_at
FROM `+s.table+` WHERE id = $1`, id).Scan(&hash, &c.key.Owner, &c.key.Scopes, &c.key.CreatedAt, &exp, &rev, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			// The caller gave up (a client that went away): no one
			// reads the answer, and the database is not to blame.
			return nil, ctx.Err()
		}
		// Any deadline, the store's or the caller's, and any failure
		// of the database or the pool: the key cannot be checked now.
		return nil, errUnavailable.Wrap(err)
	}
	if len(hash) != sha256.Size {
		return nil, nil
	}
	copy(c.hash[:], hash)
	c.key.ID = id
	c.key.ExpiresAt, c.key.RevokedAt, c.key.LastUsedAt = deref(exp), deref(rev), deref(used)
	if !seen && c.key.RevokedAt.IsZero() {
		s.mu.Lock()
		if len(s.seen) >= s.maxEntries {
			clear(s.seen)
		}
		s.seen[id] = struct{}{}
		s.mu.Unlock()
	}
	if s.cacheTTL > 0 {
		s.mu.Lock()
		if s.gen == gen { // no invalidation since the read began
			if len(s.cache) >= s.maxEntries {
				for k := range s.cache { // drop an arbitrary entry
					delete(s.cache, k)
					break
				}
			}
			s.cache[id] = c
		}
		s.mu.Unlock()
	}
	return c, nil
}

// invalidate drops id from the cache ("" drops every entry).
func (s *Store) invalidate(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	if id == "" {
		clear(s.cache)
		return
	}
	delete(s.cache, id)
}

// touch records that id was used at now, for the next last-used write.
func (s *Store) touch(id string, now time.Time) {
	s.touchMu.Lock()
	defer s.touchMu.Unlock()
	if w, ok := s.written[id]; ok && now.Sub(w) < s.lastUsed {
		return
	}
	if len(s.written) >= s.maxEntries {
		clear(s.written)
	}
	s.written[id] = now
	s.touched[id] = now
}

// flushLastUsed writes the recorded last-used times.
func (s *Store) flushLastUsed(ctx context.Context) {
	s.touchMu.Lock()
	if len(s.touched) == 0 {
		s.touchMu.Unlock()
		return
	}
	ids := make([]string, 0, len(s.touched))
	times := make([]time.Time, 0, len(s.touched))
	for id, t := range s.touched {
		ids = append(ids, id)
		times = append(times, t)
	}
	clear(s.touched)
	s.touchMu.Unlock()
	_, err := s.pool.Exec(ctx, `UPDATE `+s.table+` AS k SET last_used_at = v.at
FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)
WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`, ids, times)
	if err != nil {
		s.report(fmt.Errorf("authpostgres: write last-used times: %w", err))
	}
}

// Verify is an [apikey.Verifier]: it checks key with [Store.Lookup] and
// returns its owner and ID.
func (s *Store) Verify(ctx context.Context, key string) (apikey.Principal, error) {
	k, err := s.Lookup(ctx, key)
	if err != nil {
		return apikey.Principal{}, err
	}
	return apikey.Principal{Owner: k.Owner, KeyID: k.ID}, nil
}

// Auth returns an API key Auth over the store: the key is read from the
// header of [apikey.WithHeader] (default X-Api-Key), and the principal is
// an [apikey.Principal]. Unknown, revoked and expired keys get 401; a
// database that cannot be reached, 503.
func (s *Store) Auth(opts ...apikey.Option) *auth.Auth[apikey.Principal] {
	return apikey.New(s.Verify, opts...)
}

// Scoped is the principal of [Store.ScopedAuth]: who presented the key, and
// the scopes it grants.
type Scoped struct {
	apikey.Principal
	// Granted lists the key's scopes: the request's own copy, which a
	// handler may change without affecting other requests.
	Granted []string
}

// Scopes returns the key's scopes, so that Requires can check them.
func (p Scoped) Scopes() scopes.Set { return scopes.Of(p.Granted...) }

// ScopedAuth returns [Store.Auth] with the key's scopes, so that Requires
// narrows it to keys that grant given scopes (403 otherwise):
//
//	keys.ScopedAuth().Requires("reports:write")
//
// The handler finds both a [Scoped] and an [apikey.Principal] in the
// request context.
func (s *Store) ScopedAuth(opts ...apikey.Option) *auth.ScopedAuth[Scoped] {
	return auth.Scoped(auth.Then(s.Auth(opts...), func(ctx context.Context, p apikey.Principal) (Scoped, error) {
		c, err := s.row(ctx, p.KeyID) // from the cache that Verify just filled, when it may be trusted
		if err != nil {
			return Scoped{}, err
		}
		if c == nil || !c.key.RevokedAt.IsZero() {
			return Scoped{}, apikey.ErrUnknownKey // revoked or deleted in between
		}
		return Scoped{Principal: p, Granted: slices.Clone(c.key.Scopes)}, nil
	}), nil)
}

// run keeps the revocation listener connected and writes last-used times.
func (s *Store) run(ctx context.Context) {
	defer close(s.done)
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
		connected, err := s.listen(ctx)
		s.current.Store(0)
		if ctx.Err() != nil {
			return
		}
		s.report(fmt.Errorf("authpostgres: listener: %w", err))
		if connected {
			backoff = 0
		}
		backoff = min(max(2*backoff, 10*time.Millisecond), time.Second)
	}
}

// listen connects, listens and applies notifications until the connection
// fails or ctx ends. It reports whether it got as far as listening.
func (s *Store) listen(ctx context.Context) (bool, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		if n.Channel == s.channel {
			s.invalidate(n.Payload)
		}
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > s.queryTimeout {
		cfg.ConnectTimeout = s.queryTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := s.exec(ctx, conn, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return false, err
	}
	// Whatever was cached before may have been revoked while no one
	// listened: start afresh.
	s.invalidate("")
	s.current.Store(s.mono())
	heartbeat := max(s.maxStaleness/4, time.Millisecond)
	lastBeat := time.Now()
	nextFlush := lastBeat.Add(time.Second)
	for {
		if wait := heartbeat - time.Since(lastBeat); wait > 0 {
			wctx, cancel := context.WithTimeout(ctx, wait)
			err := conn.PgConn().WaitForNotification(wctx)
			cancel()
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			if err != nil && !pgconn.Timeout(err) {
				return true, err
			}
			continue // a notification (applied by OnNotification), or time for a beat
		}
		// Every notification sent before this query has been delivered
		// (and applied) by the time it returns.
		lastBeat = time.Now()
		sent := s.mono()
		if _, err := s.exec(ctx, conn, "SELECT 1"); err != nil {
			return true, err
		}
		s.current.Store(sent)
		if time.Now().After(nextFlush) {
			nextFlush = time.Now().Add(time.Second)
			fctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
			s.flushLastUsed(fctx)
			cancel()
		}
	}
}

func (s *Store) exec(ctx context.Context, conn *pgx.Conn, sql string) (pgconn.CommandTag, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	return conn.Exec(ctx, sql)
}
