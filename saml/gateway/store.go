package gateway

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// SessionStore keeps sessions on the server side, as opaque sealed bytes:
// the gateway encrypts each session under a secret of its own, which only
// the browser's cookie holds, so a store (or a dump of it) shows no email
// or group, and a field added to the identity later reaches every store
// unchanged. Use one to revoke sessions at logout, for users in many
// groups, or to share sessions between replicas (a store such as Redis).
// Implementations must be safe for concurrent use; storetest.RunSessionStore
// is the conformance suite every implementation should pass.
type SessionStore interface {
	// Save records sealed under id until expiresAt, replacing what id held.
	Save(ctx context.Context, id string, sealed []byte, expiresAt time.Time) error
	// Load returns the bytes saved under id, or (nil, nil) when there are
	// none or they have expired. An error means the store failed.
	Load(ctx context.Context, id string) ([]byte, error)
	// Delete forgets id; deleting an absent id is not an error.
	Delete(ctx context.Context, id string) error
}

// UserSessionStore is a SessionStore that also indexes sessions by user,
// so that one user cannot fill it (the gateway caps the sessions of each
// user: Config.MaxSessionsPerUser) and so that all of a user's sessions
// can be revoked at once (Gateway.RevokeUser). The gateway uses SaveUser
// instead of Save when the store implements it; MemorySessionStore does.
//
// A user is an opaque key: a hex HMAC-SHA256 of the application's SP
// entity ID, the connection and the subject, under a key derived from the
// first of Config.SessionKeys. The index shows no subject or email, and
// every replica sharing the session keys computes the same key, so a
// shared store (Redis: a sorted set per user, scored by save time) can
// implement the same shape.
type UserSessionStore interface {
	SessionStore
	// SaveUser is Save, also recording id as the newest session of user.
	// When user then has more than max sessions, the oldest (first saved)
	// beyond max are deleted. max is at least 1.
	SaveUser(ctx context.Context, id, user string, sealed []byte, expiresAt time.Time, max int) error
	// DeleteUser deletes every session saved for user; a user without
	// sessions is not an error.
	DeleteUser(ctx context.Context, user string) error
}

// Defaults of MemorySessionLimits. When a MemorySessionStore is full, by
// count or by bytes, the sessions closest to their expiry are dropped
// (those users log in again): a session store may forget, unlike a replay
// cache.
const (
	DefaultMemorySessions = 100_000
	// DefaultMemorySessionBytes bounds the bytes a MemorySessionStore
	// holds: sessions that overflow a cookie are large (a user in 1,500
	// groups takes about 115 KiB), so a bound on the count alone does not
	// bound the memory.
	DefaultMemorySessionBytes = 64 << 20
	// memoryEntryOverhead is what one session costs beyond its ID, user
	// key and sealed bytes (map and heap entries, headers), counted
	// against MaxBytes.
	memoryEntryOverhead = 160
)

// MemorySessionLimits bounds a MemorySessionStore. Zero fields take the
// defaults; negative ones are refused by Gateway's New (as
// Config.OverflowLimits) and taken as the defaults by
// NewMemorySessionStore.
type MemorySessionLimits struct {
	// MaxSessions bounds the sessions held; default DefaultMemorySessions.
	MaxSessions int
	// MaxBytes bounds the bytes held (sealed sessions, their IDs and user
	// keys, and a fixed overhead per session); default
	// DefaultMemorySessionBytes.
	MaxBytes int64
}

func (l MemorySessionLimits) withDefaults() MemorySessionLimits {
	if l.MaxSessions <= 0 {
		l.MaxSessions = DefaultMemorySessions
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMemorySessionBytes
	}
	return l
}

// MemorySessionStore is an in-process SessionStore and UserSessionStore,
// bounded in sessions and in bytes. It is lost on restart and not shared
// between replicas: behind a load balancer, use a shared store.
type MemorySessionStore struct {
	mu      sync.RWMutex
	limits  MemorySessionLimits
	now     func() time.Time
	entries map[string]memorySession
	bytes   int64
	byTime  expiryHeap // may hold stale entries for deleted or re-saved ids
	// users lists each user's session IDs, oldest first; kept exact by
	// every removal, so it never outgrows entries.
	users map[string][]string
}

type memorySession struct {
	sealed []byte
	at     time.Time
	user   string
	size   int64
}

// NewMemorySessionStore returns a store bounded by limits (zero or
// negative fields take the defaults), judging expiry by now (time.Now if
// nil).
func NewMemorySessionStore(limits MemorySessionLimits, now func() time.Time) *MemorySessionStore {
	if now == nil {
		now = time.Now
	}
	return &MemorySessionStore{
		limits:  limits.withDefaults(),
		now:     now,
		entries: make(map[string]memorySession),
		users:   make(map[string][]string),
	}
}

// Save implements SessionStore.
func (m *MemorySessionStore) Save(ctx context.Context, id string, sealed []byte, expiresAt time.Time) error {
	return m.save(ctx, id, "", sealed, expiresAt, 0)
}

// SaveUser implements UserSessionStore.
func (m *MemorySessionStore) SaveUser(ctx context.Context, id, user string, sealed []byte, expiresAt time.Time, max int) error {
	if user == "" || max < 1 {
		return errors.New("samlgate: SaveUser needs a user key and a max of at least 1")
	}
	return m.save(ctx, id, user, sealed, expiresAt, max)
}

func (m *MemorySessionStore) save(ctx context.Context, id, user string, sealed []byte, expiresAt time.Time, max int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if sealed == nil {
		return errors.New("samlgate: saving a nil session")
	}
	size := int64(len(id)+len(user)+len(sealed)) + memoryEntryOverhead
	if size > m.limits.MaxBytes {
		// Evicting everything else would not make room: refuse, rather
		// than empty the store for one session.
		return fmt.Errorf("samlgate: a session of %d bytes is larger than the store's MaxBytes (%d): %w", size, m.limits.MaxBytes, CodeSessionTooLarge)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge(m.now())
	m.remove(id)
	if user != "" {
		// The user's oldest sessions make room for the new one.
		for ids := m.users[user]; len(ids) >= max; ids = m.users[user] {
			m.remove(ids[0])
		}
	}
	for (len(m.entries) >= m.limits.MaxSessions || m.bytes+size > m.limits.MaxBytes) && len(m.byTime) > 0 {
		e := heap.Pop(&m.byTime).(expiryEntry)
		if s, ok := m.entries[e.key]; ok && s.at.Equal(e.at) {
			m.remove(e.key)
		}
	}
	m.entries[id] = memorySession{sealed: slices.Clone(sealed), at: expiresAt, user: user, size: size}
	m.bytes += size
	if user != "" {
		m.users[user] = append(m.users[user], id)
	}
	heap.Push(&m.byTime, expiryEntry{key: id, at: expiresAt})
	if len(m.byTime) > 2*len(m.entries)+16 {
		m.rebuild()
	}
	return nil
}

// Load implements SessionStore.
func (m *MemorySessionStore) Load(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Loads run on every request: they share the lock, and copy after it.
	// A stored slice is never written to (Save stores a fresh copy), so the
	// copy outside the lock is safe.
	m.mu.RLock()
	s, ok := m.entries[id]
	m.mu.RUnlock()
	if !ok || !m.now().Before(s.at) {
		return nil, nil
	}
	return slices.Clone(s.sealed), nil
}

// Delete implements SessionStore.
func (m *MemorySessionStore) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remove(id)
	return nil
}

// DeleteUser implements UserSessionStore.
func (m *MemorySessionStore) DeleteUser(ctx context.Context, user string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range slices.Clone(m.users[user]) {
		m.remove(id)
	}
	return nil
}

// Len returns the number of sessions held, expired ones not yet purged
// included.
func (m *MemorySessionStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// Bytes returns the bytes held, as counted against MaxBytes.
func (m *MemorySessionStore) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// remove forgets id and its place in its user's list; its heap entry
// becomes stale.
func (m *MemorySessionStore) remove(id string) {
	s, ok := m.entries[id]
	if !ok {
		return
	}
	delete(m.entries, id)
	m.bytes -= s.size
	if s.user == "" {
		return
	}
	ids := slices.DeleteFunc(m.users[s.user], func(x string) bool { return x == id })
	if len(ids) == 0 {
		delete(m.users, s.user)
		return
	}
	m.users[s.user] = ids
}

// purge drops expired sessions, and heap entries that no longer match a
// session (deleted, or saved again with another expiry).
func (m *MemorySessionStore) purge(now time.Time) {
	for len(m.byTime) > 0 && !m.byTime[0].at.After(now) {
		e := heap.Pop(&m.byTime).(expiryEntry)
		if s, ok := m.entries[e.key]; ok && s.at.Equal(e.at) {
			m.remove(e.key)
		}
	}
}

// rebuild bounds the heap when deletions left many stale entries.
func (m *MemorySessionStore) rebuild() {
	m.byTime = m.byTime[:0]
	for k, s := range m.entries {
		m.byTime = append(m.byTime, expiryEntry{key: k, at: s.at})
	}
	heap.Init(&m.byTime)
}

type expiryEntry struct {
	key string
	at  time.Time
}

type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
