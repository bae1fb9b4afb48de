// Package authredis shares token revocations between the replicas of a
// service through Redis. A [*Store] is a [revoke.Store]: use it with
// [revoke.Stage] on any token auth.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	revocations, err := authredis.New(authredis.Config{Client: rdb})
//	...
//	defer revocations.Close()
//	api := auth.Then(tokens, revoke.Stage(revocations, revoke.FromClaims))
//
// # How it works
//
// Each revocation is a Redis key that expires when the tokens it concerns
// expire, written together with a message on a pub/sub channel. Every Store
// keeps the whole (unexpired) revocation list in memory: it loads it when it
// subscribes, applies the messages as they arrive, and loads it again after
// every reconnection, so that a revocation published while a replica was
// disconnected is not missed. A reload adds to the view and never removes
// from it: a revocation a replica has seen stays until it expires, even if
// Redis has since lost it. Checks read only the local view: they cost a
// map lookup, never a round trip.
//
// # When Redis is unreachable
//
// The local view is trusted only while it is known to be current: the Store
// pings Redis over its subscription every [Config.MaxStaleness]/4, and the
// view counts as current up to the moment of the last ping that came back
// (all messages published before it have arrived by then). When the view is
// older than MaxStaleness (default 1 s), because Redis is down, restarting
// or unreachable, checks fail with an error matching [auth.ErrUnavailable]
// and [revoke.Stage] answers 503: a token that may have been revoked is never
// accepted. Set [Config.WhenUnavailable] to [InsecureServeLocalView] to
// answer from the last view instead. The Store reconnects by itself, with
// backoff, and serves again as soon as it has reloaded the list.
//
// Revocations must survive a Redis restart: run Redis with persistence
// (appendonly yes) or with replicas, or a restart forgets them for every
// Store started afterwards (running Stores keep what they have seen). They
// must not be evicted either: every revocation key has an expiry, so under
// memory pressure any maxmemory-policy but noeviction (volatile-ttl and
// volatile-lru first) may drop them, and Stores started afterwards never
// see them; use noeviction, or a Redis of its own for revocations.
package authredis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/typedauth/auth"
	"github.com/typedauth/auth/revoke"
)

// DefaultPrefix prefixes the keys and names the channel of a Store unless
// [Config.Prefix] says otherwise.
const DefaultPrefix = "typedauth:revoke:"

// DefaultMaxStaleness is how old the local view may be before checks fail,
// unless [Config.MaxStaleness] says otherwise.
const DefaultMaxStaleness = time.Second

// Policy says what a Store answers while its view of Redis is out of date.
type Policy int

const (
	// Reject fails every check with an error matching
	// [auth.ErrUnavailable] (503 from [revoke.Stage]). It is the default.
	Reject Policy = iota
	// InsecureServeLocalView answers from the revocations known when Redis
	// was last reachable. Revocations made while this replica was cut off
	// are not seen until it reconnects: tokens revoked then are accepted.
	// Use it only where availability matters more than revocation.
	InsecureServeLocalView
)

// Config configures [New].
type Config struct {
	// Client is the Redis client. Required. The Store uses it for its
	// subscription (a connection of its own) and for loads and writes.
	// Redis 6.2 or later.
	Client *redis.Client
	// Prefix prefixes every key of the Store, and Prefix+"events" names its
	// pub/sub channel. Stores that share revocations use the same prefix.
	// Default: [DefaultPrefix].
	Prefix string
	// MaxStaleness is how old the local view may be before checks fail
	// (see [Config.WhenUnavailable]); it bounds how long a revocation
	// takes to be seen by every replica. Default: [DefaultMaxStaleness].
	MaxStaleness time.Duration
	// WhenUnavailable says what checks answer while the view is older than
	// MaxStaleness. Default: [Reject].
	WhenUnavailable Policy
	// Now returns the current time, to judge whether entries have expired.
	// Default: [time.Now].
	Now func() time.Time
	// OnError, when set, is told of every failure of the background
	// subscription (lost connections, failed loads), for logs. It must not
	// block.
	OnError func(error)
}

// ErrStale is the cause of a failed check while the view of Redis is out of
// date. It matches [auth.ErrUnavailable].
var ErrStale = fmt.Errorf("%w: revocation list out of date: Redis unreachable", auth.ErrUnavailable)

// Store is a [revoke.Store] whose revocations live in Redis and are seen by
// every Store on the same prefix. It is safe for concurrent use. Build one
// with [New] and stop it with [Store.Close].
type Store struct {
	client       *redis.Client
	prefix       string
	channel      string
	maxStaleness time.Duration
	policy       Policy
	now          func() time.Time
	onError      func(error)

	mu       sync.RWMutex
	tokens   map[string]int64 // jti → expiry (Unix ms)
	subjects map[string]entry // sub → revocation

	// current is the monotonic time (ns since start) up to which the view
	// is known to hold every revocation, or 0 while it is not loaded.
	current atomic.Int64
	start   time.Time

	cancel context.CancelFunc
	done   chan struct{}
}

// entry is a subject revocation: tokens issued before Before (Unix ms) are
// revoked until Expires (Unix ms).
type entry struct{ Before, Expires int64 }

var _ revoke.Store = (*Store)(nil)

// New returns a Store and starts its subscription in the background. It
// does not wait for Redis: until the revocation list is loaded, checks fail
// as when Redis is unreachable. Call [Store.Ready] to wait for it.
func New(cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, errors.New("authredis: Config.Client is nil")
	}
	if cfg.MaxStaleness < 0 {
		return nil, errors.New("authredis: Config.MaxStaleness is negative")
	}
	if cfg.WhenUnavailable != Reject && cfg.WhenUnavailable != InsecureServeLocalView {
		return nil, fmt.Errorf("authredis: unknown Config.WhenUnavailable %d", cfg.WhenUnavailable)
	}
	s := &Store{
		client:       cfg.Client,
		prefix:       cfg.Prefix,
		maxStaleness: cfg.MaxStaleness,
		policy:       cfg.WhenUnavailable,
		now:          cfg.Now,
		onError:      cfg.OnError,
		tokens:       map[string]int64{},
		subjects:     map[string]entry{},
		start:        time.Now(),
		done:         make(chan struct{}),
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	s.channel = s.prefix + "events"
	if s.maxStaleness == 0 {
		s.maxStaleness = DefaultMaxStaleness
	}
	if s.now == nil {
		s.now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(ctx)
	return s, nil
}

// Close stops the subscription and waits for it to end. It does not close
// the Redis client. Checks fail after Close.
func (s *Store) Close() error {
	s.cancel()
	<-s.done
	s.current.Store(0)
	return nil
}

// Ready waits until the revocation list is loaded and current, or ctx ends.
func (s *Store) Ready(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !s.fresh() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("authredis: revocation list not loaded: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// mono returns the monotonic time since the Store started, never 0.
func (s *Store) mono() int64 { return int64(time.Since(s.start)) + 1 }

// fresh reports whether the view is loaded and no older than maxStaleness.
func (s *Store) fresh() bool {
	c := s.current.Load()
	return c != 0 && s.mono()-c <= int64(s.maxStaleness)
}

// Revoked reports whether t is revoked according to the local view. While
// the view is out of date it fails with [ErrStale], unless the policy is
// [InsecureServeLocalView].
func (s *Store) Revoked(_ context.Context, t revoke.Token) (bool, error) {
	if !s.fresh() && s.policy == Reject {
		return false, ErrStale
	}
	now := s.now().UnixMilli()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if t.ID != "" {
		if exp, ok := s.tokens[t.ID]; ok && now < exp {
			return true, nil
		}
	}
	if t.Subject != "" {
		if e, ok := s.subjects[t.Subject]; ok && now < e.Expires &&
			(t.IssuedAt.IsZero() || t.IssuedAt.UnixMilli() < e.Before) {
			return true, nil
		}
	}
	return false, nil
}

// revokeScript records a revocation, never narrowing one already there, and
// publishes it, in one step. KEYS[1] is the entry's key; ARGV: kind ("t" or
// "s"), before and expires (Unix ms), channel, name (jti or subject).
var revokeScript = redis.NewScript(`
local before, expires = tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = redis.call('GET', KEYS[1])
if cur then
  local b, e = string.match(cur, '^(%d+) (%d+)$')
  if b then
    before = math.max(before, tonumber(b))
    expires = math.max(expires, tonumber(e))
  end
end
local value = string.format('%d %d', before, expires)
redis.call('SET', KEYS[1], value, 'PXAT', expires)
redis.call('PUBLISH', ARGV[4], ARGV[1] .. ' ' .. value .. ' ' .. ARGV[5])
return value
`)

// RevokeToken revokes the token whose jti is id until expires (the token's
// exp plus the leeway of its verifier: see [revoke.Revoker]), on every Store
// of the prefix. A revocation that has already
// expired is not recorded. It fails if Redis cannot be reached: then the
// token is not revoked.
func (s *Store) RevokeToken(ctx context.Context, id string, expires time.Time) error {
	if id == "" {
		return revoke.ErrEmpty
	}
	return s.write(ctx, "t", id, 0, expires.UnixMilli())
}

// RevokeSubject revokes, on every Store of the prefix, every token of
// subject issued before before, until expires (the latest expiry of those
// tokens plus the leeway of their verifier). A revocation already recorded for subject is never narrowed. It
// fails if Redis cannot be reached: then nothing is revoked.
func (s *Store) RevokeSubject(ctx context.Context, subject string, before, expires time.Time) error {
	if subject == "" {
		return revoke.ErrEmpty
	}
	return s.write(ctx, "s", subject, before.UnixMilli(), expires.UnixMilli())
}

func (s *Store) write(ctx context.Context, kind, name string, before, expires int64) error {
	if expires <= s.now().UnixMilli() {
		return nil // the tokens concerned have expired already
	}
	value, err := revokeScript.Run(ctx, s.client, []string{s.key(kind, name)}, kind, before, expires, s.channel, name).Text()
	if err != nil {
		return fmt.Errorf("authredis: revoke: %w", err)
	}
	// Seen here at once, without waiting for our own message.
	s.apply(kind + " " + value + " " + name)
	return nil
}

func (s *Store) key(kind, name string) string { return s.prefix + kind + ":" + name }

// apply adds the revocation described by a message ("t|s before expires
// name") to the view. Malformed messages are ignored.
func (s *Store) apply(msg string) {
	kind, rest, _ := strings.Cut(msg, " ")
	b, rest, _ := strings.Cut(rest, " ")
	e, name, ok := strings.Cut(rest, " ")
	before, err1 := strconv.ParseInt(b, 10, 64)
	expires, err2 := strconv.ParseInt(e, 10, 64)
	if !ok || err1 != nil || err2 != nil || name == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(s.tokens, s.subjects, kind, name, before, expires)
}

// add merges a revocation into the maps, never narrowing one.
func (s *Store) add(tokens map[string]int64, subjects map[string]entry, kind, name string, before, expires int64) {
	switch kind {
	case "t":
		if expires > tokens[name] {
			tokens[name] = expires
		}
	case "s":
		e := subjects[name]
		e.Before = max(e.Before, before)
		e.Expires = max(e.Expires, expires)
		subjects[name] = e
	}
}

// Len returns the number of revocations in the local view, expired ones not
// yet dropped included.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tokens) + len(s.subjects)
}

func (s *Store) report(err error) {
	if s.onError != nil && err != nil {
		s.onError(err)
	}
}

// run keeps the subscription alive, reloading the list after every
// (re)subscription and pinging to prove that the view is current.
func (s *Store) run(ctx context.Context) {
	defer close(s.done)
	heartbeat := max(s.maxStaleness/4, time.Millisecond)
	backoff := newBackoff(10*time.Millisecond, time.Second)
	prune := time.Now().Add(time.Minute)
	for ctx.Err() == nil {
		ps := s.client.Subscribe(ctx, s.channel)
		s.listen(ctx, ps, heartbeat, backoff, &prune)
		ps.Close()
	}
}

// listen serves one subscription until it is judged dead or ctx ends.
//
// It pings every heartbeat without waiting for earlier answers (Redis answers
// in order, after every message published before the ping), so that a slow
// answer delays the proof that the view is current by one heartbeat at most.
func (s *Store) listen(ctx context.Context, ps *redis.PubSub, heartbeat time.Duration, backoff *backoff, prune *time.Time) {
	const maxPings = 16
	var (
		pings       []int64 // mono send times of the pings not yet answered, oldest first
		lastPing    int64
		subscribed  bool
		deadAfter   = int64(2 * s.maxStaleness)
		lastHeardOK = s.mono()
	)
	for ctx.Err() == nil {
		now := s.mono()
		if subscribed && now-lastPing >= int64(heartbeat) && len(pings) < maxPings {
			if err := ps.Ping(ctx); err != nil {
				s.current.Store(0)
				s.report(fmt.Errorf("authredis: ping: %w", err))
				backoff.wait(ctx)
				return
			}
			pings, lastPing = append(pings, now), now
		}
		if len(pings) > 0 && now-pings[0] > deadAfter || !subscribed && now-lastHeardOK > deadAfter {
			// No answer: the connection hangs. Start afresh.
			s.current.Store(0)
			s.report(errors.New("authredis: subscription does not answer; reconnecting"))
			return
		}
		wait := heartbeat
		if subscribed {
			wait = max(time.Duration(lastPing+int64(heartbeat)-s.mono()), time.Millisecond)
		}
		msg, err := ps.ReceiveTimeout(ctx, wait)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if ctx.Err() != nil {
				return
			}
			// The connection is lost; go-redis reconnects and
			// resubscribes on the next receive, and the confirmation
			// triggers a reload.
			s.current.Store(0)
			subscribed, pings = false, nil
			s.report(fmt.Errorf("authredis: subscription: %w", err))
			backoff.wait(ctx)
			lastHeardOK = s.mono()
			continue
		}
		lastHeardOK = s.mono()
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			s.current.Store(0)
			loadStart := s.mono()
			if err := s.load(ctx); err != nil {
				s.report(fmt.Errorf("authredis: load: %w", err))
				backoff.wait(ctx)
				return // resubscribe, and load again
			}
			backoff.reset()
			subscribed, pings, lastPing = true, nil, s.mono()
			s.current.Store(loadStart)
		case *redis.Message:
			s.apply(m.Payload)
		case *redis.Pong:
			if len(pings) > 0 {
				if subscribed {
					s.current.Store(pings[0])
				}
				pings = pings[1:]
			}
		}
		if time.Now().After(*prune) {
			*prune = time.Now().Add(time.Minute)
			s.dropExpired()
		}
	}
}

// load adds the revocations stored in Redis to the view. It never drops an
// entry of the view: nothing can un-revoke a token, so a Redis that lost a
// revocation (a failover to a replica that missed the write, a restart
// without persistence) does not make the replicas that saw it forget it;
// entries leave the view at their own expiry.
func (s *Store) load(ctx context.Context) error {
	tokens, subjects := map[string]int64{}, map[string]entry{}
	pattern := escapeGlob(s.prefix) + "[ts]:*"
	var cursor uint64
	for {
		keys, next, err := s.client.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			values, err := s.client.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			for i, v := range values {
				str, ok := v.(string)
				if !ok {
					continue // expired meanwhile
				}
				rest := keys[i][len(s.prefix):]
				kind, name := rest[:1], rest[2:]
				b, e, _ := strings.Cut(str, " ")
				before, err1 := strconv.ParseInt(b, 10, 64)
				expires, err2 := strconv.ParseInt(e, 10, 64)
				if err1 != nil || err2 != nil || name == "" {
					continue
				}
				s.add(tokens, subjects, kind, name, before, expires)
			}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	s.mu.Lock()
	for id, exp := range tokens {
		s.add(s.tokens, s.subjects, "t", id, 0, exp)
	}
	for sub, e := range subjects {
		s.add(s.tokens, s.subjects, "s", sub, e.Before, e.Expires)
	}
	s.mu.Unlock()
	return nil
}

// dropExpired removes expired entries from the view.
func (s *Store) dropExpired() {
	now := s.now().UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, exp := range s.tokens {
		if exp <= now {
			delete(s.tokens, id)
		}
	}
	for sub, e := range s.subjects {
		if e.Expires <= now {
			delete(s.subjects, sub)
		}
	}
}

// escapeGlob escapes the characters special to Redis's glob patterns.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// backoff doubles a wait from min to max.
type backoff struct{ min, max, cur time.Duration }

func newBackoff(lo, hi time.Duration) *backoff { return &backoff{min: lo, max: hi, cur: lo} }

func (b *backoff) reset() { b.cur = b.min }

func (b *backoff) wait(ctx context.Context) {
	t := time.NewTimer(b.cur)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	b.cur = min(2*b.cur, b.max)
}
