package gateway

import (
	"container/heap"
	"context"
	"errors"
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

// DefaultMemorySessions bounds the sessions a MemorySessionStore holds by
// default. When it is full, the session closest to its expiry is dropped
// (that user logs in again): a session store may forget, unlike a replay
// cache.
const DefaultMemorySessions = 100_000

// MemorySessionStore is an in-process SessionStore. It is lost on restart
// and not shared between replicas: behind a load balancer, use a shared
// store.
type MemorySessionStore struct {
	mu      sync.Mutex
	max     int
	now     func() time.Time
	entries map[string]memorySession
	byTime  expiryHeap // may hold stale entries for deleted or re-saved ids
}

type memorySession struct {
	sealed []byte
	at     time.Time
}

// NewMemorySessionStore returns a store holding at most max unexpired
// sessions (DefaultMemorySessions if max <= 0), judging expiry by now
// (time.Now if nil).
func NewMemorySessionStore(max int, now func() time.Time) *MemorySessionStore {
	if max <= 0 {
		max = DefaultMemorySessions
	}
	if now == nil {
		now = time.Now
	}
	return &MemorySessionStore{max: max, now: now, entries: make(map[string]memorySession)}
}

// Save implements SessionStore.
func (m *MemorySessionStore) Save(ctx context.Context, id string, sealed []byte, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if sealed == nil {
		return errors.New("samlgate: saving a nil session")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge(m.now())
	if _, ok := m.entries[id]; !ok {
		for len(m.entries) >= m.max && len(m.byTime) > 0 {
			e := heap.Pop(&m.byTime).(expiryEntry)
			if s, ok := m.entries[e.key]; ok && s.at.Equal(e.at) {
				delete(m.entries, e.key)
			}
		}
	}
	m.entries[id] = memorySession{sealed: slices.Clone(sealed), at: expiresAt}
	heap.Push(&m.byTime, expiryEntry{key: id, at: expiresAt})
	if len(m.byTime) > 2*m.max+16 {
		m.rebuild()
	}
	return nil
}

// Load implements SessionStore.
func (m *MemorySessionStore) Load(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.entries[id]
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
	delete(m.entries, id)
	return nil
}

// Len returns the number of sessions held, expired ones not yet purged
// included.
func (m *MemorySessionStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// purge drops expired sessions, and heap entries that no longer match a
// session (deleted, or saved again with another expiry).
func (m *MemorySessionStore) purge(now time.Time) {
	for len(m.byTime) > 0 && !m.byTime[0].at.After(now) {
		e := heap.Pop(&m.byTime).(expiryEntry)
		if s, ok := m.entries[e.key]; ok && s.at.Equal(e.at) {
			delete(m.entries, e.key)
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
