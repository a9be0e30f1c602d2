package saml

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// ReplayCache records the assertions a connection accepted, so that each is
// accepted once. Implementations must be safe for concurrent use; replicas
// behind one load balancer must share one store, or a response captured at
// one replica can be replayed at another.
//
// samlgate defines its own interface rather than crewjam's
// AssertionReplayCache because a shared store needs a context (deadline,
// cancellation) on every call.
type ReplayCache interface {
	// Consume atomically records key until expiresAt. It returns an error
	// matching CodeReplayed (errors.Is) when key is already recorded, and
	// any other error when it cannot record it (Verify reports that as
	// unavailable); either refuses the login.
	Consume(ctx context.Context, key string, expiresAt time.Time) error
}

// DefaultReplayCacheSize bounds a MemoryReplayCache: far more assertions
// than one server accepts within an assertion's five-minute lifetime.
const DefaultReplayCacheSize = 100_000

// MemoryReplayCache is the default, in-process ReplayCache: bounded, and
// entries expire at the time they were recorded for. When it holds its
// maximum of unexpired entries it refuses logins (an *Error with Code
// unavailable) rather than forget an entry early, which would reopen the
// replay window.
type MemoryReplayCache struct {
	mu      sync.Mutex
	max     int
	now     func() time.Time
	entries map[string]time.Time
	byTime  expiryHeap
}

// NewMemoryReplayCache returns a cache holding at most max unexpired
// entries (DefaultReplayCacheSize if max <= 0), judging expiry by now
// (time.Now if nil). Give it the connection's clock: expiry times come
// from assertions, so a pinned clock and a wall clock would disagree.
func NewMemoryReplayCache(max int, now func() time.Time) *MemoryReplayCache {
	if max <= 0 {
		max = DefaultReplayCacheSize
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryReplayCache{max: max, now: now, entries: make(map[string]time.Time)}
}

// Consume implements ReplayCache.
func (m *MemoryReplayCache) Consume(ctx context.Context, key string, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.purge(now)
	if _, ok := m.entries[key]; ok {
		return CodeReplayed
	}
	if len(m.entries) >= m.max {
		return newError(CodeUnavailable, "the replay cache is full")
	}
	m.entries[key] = expiresAt
	heap.Push(&m.byTime, expiryEntry{key: key, at: expiresAt})
	return nil
}

// Len returns the number of entries currently held.
func (m *MemoryReplayCache) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func (m *MemoryReplayCache) purge(now time.Time) {
	for len(m.byTime) > 0 && !m.byTime[0].at.After(now) {
		e := heap.Pop(&m.byTime).(expiryEntry)
		delete(m.entries, e.key)
	}
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
