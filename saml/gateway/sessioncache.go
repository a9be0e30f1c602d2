package gateway

import (
	"encoding/json"
	"slices"
	"sync"
)

// Decoding a session on every request was most of the session check's
// time (encoding/json on an identity with many groups: 67% of 45 µs at
// 100 groups). decodeCache remembers the decoding of plaintexts it has
// seen, keyed by the exact plaintext bytes: decoding is a pure function of
// them, so a hit is the same value a fresh decoding would give. It sits
// after the decryption, which still runs on every request, so that it
// depends on nothing else: not on the session keys, the connection's
// binding, nor on what a store holds (a store is still asked on every
// request, so that a logout or RevokeUser takes effect at once). The
// expiry and the connection's access rules are checked on every request
// too, on the copy get returns.
//
// It is bounded in entries and in bytes; when full, arbitrary entries are
// dropped (a miss only costs one decoding).
type decodeCache[T any] struct {
	mu    sync.RWMutex
	m     map[string]*T
	bytes int
}

const (
	// decodeCacheEntries and decodeCacheBytes bound one cache: about the
	// sessions a replica serves at once. The bytes count the plaintext
	// keys twice, for the decoded values.
	decodeCacheEntries = 4096
	decodeCacheBytes   = 16 << 20
	// decodeCacheMaxPlain: larger plaintexts are decoded every time
	// rather than evict many smaller ones.
	decodeCacheMaxPlain = 256 << 10
)

// decode returns the decoding of plain into a new T, from the cache when
// it holds it; clone copies a cached value so that nothing the caller does
// to the result reaches the cache.
func (c *decodeCache[T]) decode(plain []byte, clone func(*T) *T) (*T, bool) {
	c.mu.RLock()
	v, hit := c.m[string(plain)]
	c.mu.RUnlock()
	if hit {
		return clone(v), true
	}
	v = new(T)
	if json.Unmarshal(plain, v) != nil {
		return nil, false
	}
	if len(plain) <= decodeCacheMaxPlain {
		c.put(string(plain), clone(v))
	}
	return v, true
}

func (c *decodeCache[T]) put(key string, v *T) {
	size := 2 * len(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return
	}
	if c.m == nil {
		c.m = make(map[string]*T)
	}
	for k := range c.m {
		if len(c.m) < decodeCacheEntries && c.bytes+size <= decodeCacheBytes {
			break
		}
		c.bytes -= 2 * len(k)
		delete(c.m, k)
	}
	c.m[key] = v
	c.bytes += size
}

// sessionDecoder holds the gateway's two decode caches: session cookie
// payloads, and sessions read from a store.
type sessionDecoder struct {
	payloads decodeCache[sessionPayload]
	stored   decodeCache[sessionState]
}

func (d *sessionDecoder) payload(plain []byte) (sessionPayload, bool) {
	p, ok := d.payloads.decode(plain, clonePayload)
	if !ok {
		return sessionPayload{}, false
	}
	return *p, true
}

func (d *sessionDecoder) state(plain []byte) (*sessionState, bool) {
	return d.stored.decode(plain, cloneState)
}

// clonePayload copies p and its session; Key is only read, never
// written, and is shared.
func clonePayload(p *sessionPayload) *sessionPayload {
	c := *p
	c.State = cloneState(p.State)
	return &c
}

// cloneState copies st deep enough that a handler changing the identity
// it receives (its fields, its Groups or Roles, the teams) changes only
// its own copy; strings are immutable and shared.
func cloneState(st *sessionState) *sessionState {
	if st == nil {
		return nil
	}
	c := *st
	if st.ID != nil {
		id := *st.ID
		id.Groups = slices.Clone(id.Groups)
		id.Roles = slices.Clone(id.Roles)
		id.Attributes = nil // never sealed (sessionIdentity)
		c.ID = &id
	}
	c.GateGroups = slices.Clone(st.GateGroups)
	c.Teams = slices.Clone(st.Teams)
	return &c
}
