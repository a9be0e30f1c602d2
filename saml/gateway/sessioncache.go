package gateway

import (
	"encoding/json"
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
// too.
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

// decode returns the decoding of plain, from the cache when it holds it.
// The value is shared with the cache and with every request that decodes
// the same bytes: it is read only. What handlers receive is copied from it
// (newRequestSession), once per request.
func (c *decodeCache[T]) decode(plain []byte) (*T, bool) {
	c.mu.RLock()
	v, hit := c.m[string(plain)]
	c.mu.RUnlock()
	if hit {
		return v, true
	}
	v = new(T)
	if json.Unmarshal(plain, v) != nil {
		return nil, false
	}
	if len(plain) <= decodeCacheMaxPlain {
		c.put(string(plain), v)
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

// payload and state decode a session cookie's payload and a stored
// session; both are shared, read only.
func (d *sessionDecoder) payload(plain []byte) (*sessionPayload, bool) {
	return d.payloads.decode(plain)
}

func (d *sessionDecoder) state(plain []byte) (*sessionState, bool) {
	return d.stored.decode(plain)
}
