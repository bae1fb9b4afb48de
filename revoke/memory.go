package revoke

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Memory is a [Store] held in the process: revocations are seen at once by
// this process and by no other. It suits a single instance and tests; share
// revocations between replicas with the redis store. Entries are dropped once
// they expire.
//
// A Memory is safe for concurrent use. Its zero value is not; build one with
// [NewMemory].
type Memory struct {
	now func() time.Time

	mu        sync.RWMutex
	tokens    map[string]time.Time // jti → expiry of the entry
	subjects  map[string]subjectEntry
	nextSweep time.Time
}

type subjectEntry struct {
	before, expires time.Time
}

// MemoryOption configures [NewMemory].
type MemoryOption func(*Memory)

// WithClock makes the Memory read the time from now instead of [time.Now],
// for tests. A nil now is ignored.
func WithClock(now func() time.Time) MemoryOption {
	return func(m *Memory) {
		if now != nil {
			m.now = now
		}
	}
}

// NewMemory returns an empty Memory.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{now: time.Now, tokens: map[string]time.Time{}, subjects: map[string]subjectEntry{}}
	for _, o := range opts {
		if o != nil {
			o(m)
		}
	}
	return m
}

var _ Store = (*Memory)(nil)

// sweepEvery is how often, at most, writes drop expired entries.
const sweepEvery = time.Minute

// Revoked reports whether t is revoked. It never fails.
func (m *Memory) Revoked(_ context.Context, t Token) (bool, error) {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if t.ID != "" {
		if exp, ok := m.tokens[t.ID]; ok && now.Before(exp) {
			return true, nil
		}
	}
	if t.Subject != "" {
		if e, ok := m.subjects[t.Subject]; ok && now.Before(e.expires) && IssuedBefore(t, e.before) {
			return true, nil
		}
	}
	return false, nil
}

// IssuedBefore reports whether t counts as issued before before for a
// subject revocation: its iat is earlier, or it has none, so that nothing
// proves it was issued after the revocation.
func IssuedBefore(t Token, before time.Time) bool {
	return t.IssuedAt.IsZero() || t.IssuedAt.Before(before)
}

// ErrEmpty reports a revocation without a token ID or subject.
var ErrEmpty = errors.New("revoke: empty token ID or subject")

// RevokeToken revokes the token whose jti is id until expires. Revoking an
// already revoked token keeps the later expiry.
func (m *Memory) RevokeToken(_ context.Context, id string, expires time.Time) error {
	if id == "" {
		return ErrEmpty
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.tokens[id]; !ok || expires.After(old) {
		m.tokens[id] = expires
	}
	m.sweep()
	return nil
}

// RevokeSubject revokes every token of subject issued before before, until
// expires. The revocation already recorded for subject is never narrowed:
// the later of the two before times and expiries is kept.
func (m *Memory) RevokeSubject(_ context.Context, subject string, before, expires time.Time) error {
	if subject == "" {
		return ErrEmpty
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.subjects[subject]
	if before.After(e.before) {
		e.before = before
	}
	if expires.After(e.expires) {
		e.expires = expires
	}
	m.subjects[subject] = e
	m.sweep()
	return nil
}

// Len returns the number of entries, expired ones not yet dropped included.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.tokens) + len(m.subjects)
}

// sweep drops expired entries, at most once per sweepEvery. m.mu is held.
func (m *Memory) sweep() {
	now := m.now()
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(sweepEvery)
	for id, exp := range m.tokens {
		if !now.Before(exp) {
			delete(m.tokens, id)
		}
	}
	for s, e := range m.subjects {
		if !now.Before(e.expires) {
			delete(m.subjects, s)
		}
	}
}
