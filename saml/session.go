package saml

import (
	"container/heap"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// SessionStore keeps identities on the server side. The gateway then puts
// only an opaque, sealed session ID in the cookie: use one for users in many
// groups, to revoke sessions, or to share sessions between replicas (a
// store such as Redis). Implementations must be safe for concurrent use.
//
// Identities handed to Save have no Attributes (read those in
// GatewayConfig.OnLogin); everything else of the Identity must be kept.
type SessionStore interface {
	// Save records ident under id until expiresAt.
	Save(ctx context.Context, id string, ident *Identity, expiresAt time.Time) error
	// Load returns the identity saved under id, or (nil, nil) when there is
	// none or it has expired. An error means the store failed.
	Load(ctx context.Context, id string) (*Identity, error)
	// Delete forgets id; deleting an absent id is not an error.
	Delete(ctx context.Context, id string) error
}

// DefaultMemorySessions bounds the sessions a memory store holds. When it
// is full, the session closest to its expiry is dropped (that user logs in
// again): a session store may forget, unlike a replay cache.
const DefaultMemorySessions = 100_000

// NewMemorySessionStore returns an in-process SessionStore holding at most
// DefaultMemorySessions unexpired sessions, judged by the wall clock. It is
// lost on restart and not shared between replicas: behind a load balancer,
// use a shared store.
func NewMemorySessionStore() SessionStore {
	return newMemorySessionStore(DefaultMemorySessions, time.Now)
}

type memorySessionStore struct {
	mu      sync.Mutex
	max     int
	now     func() time.Time
	entries map[string]memorySession
	byTime  expiryHeap // may hold stale entries for deleted or re-saved ids
}

type memorySession struct {
	ident *Identity
	at    time.Time
}

func newMemorySessionStore(max int, now func() time.Time) *memorySessionStore {
	return &memorySessionStore{max: max, now: now, entries: make(map[string]memorySession)}
}

func (m *memorySessionStore) Save(_ context.Context, id string, ident *Identity, expiresAt time.Time) error {
	if ident == nil {
		return errors.New("samlgate: saving a nil identity")
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
	m.entries[id] = memorySession{ident: cloneIdentity(ident), at: expiresAt}
	heap.Push(&m.byTime, expiryEntry{key: id, at: expiresAt})
	if len(m.byTime) > 2*m.max+16 {
		m.rebuild()
	}
	return nil
}

func (m *memorySessionStore) Load(_ context.Context, id string) (*Identity, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.entries[id]
	if !ok || !m.now().Before(s.at) {
		return nil, nil
	}
	return cloneIdentity(s.ident), nil
}

func (m *memorySessionStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, id)
	return nil
}

func (m *memorySessionStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// purge drops expired sessions, and heap entries that no longer match a
// session (deleted, or saved again with another expiry).
func (m *memorySessionStore) purge(now time.Time) {
	for len(m.byTime) > 0 && !m.byTime[0].at.After(now) {
		e := heap.Pop(&m.byTime).(expiryEntry)
		if s, ok := m.entries[e.key]; ok && s.at.Equal(e.at) {
			delete(m.entries, e.key)
		}
	}
}

// rebuild bounds the heap when deletions left many stale entries.
func (m *memorySessionStore) rebuild() {
	m.byTime = m.byTime[:0]
	for k, s := range m.entries {
		m.byTime = append(m.byTime, expiryEntry{key: k, at: s.at})
	}
	heap.Init(&m.byTime)
}

func cloneIdentity(id *Identity) *Identity {
	c := *id
	c.Groups = slices.Clone(id.Groups)
	c.Roles = slices.Clone(id.Roles)
	c.Attributes = nil
	return &c
}

// Sealing: AES-256-GCM with a random 96-bit nonce. The additional data is
// a purpose label, so a value sealed for one use (a session cookie) never
// opens as another (a RelayState), even under the same key.
const (
	sealVersion       = 1
	purposeSession    = "samlgate/v1/session"
	purposeRelayState = "samlgate/v1/relaystate"
	// maxSealedLen bounds what open decodes: far above any cookie or
	// RelayState the gateway writes.
	maxSealedLen = 8 << 10
)

type sealer struct {
	aeads []cipher.AEAD
}

func newSealer(keys [][]byte) (*sealer, error) {
	if len(keys) == 0 {
		return nil, configError("SessionKeys is empty: give at least one 32-byte key (for example from crypto/rand, kept in a secret store)")
	}
	s := &sealer{}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, configError("SessionKeys[%d] is %d bytes; each key must be 32 bytes (AES-256)", i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, configError("SessionKeys[%d]: %v", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, configError("SessionKeys[%d]: %v", i, err)
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// seal encrypts plaintext with the first key.
func (s *sealer) seal(purpose string, plaintext []byte) string {
	a := s.aeads[0]
	out := make([]byte, 1+a.NonceSize(), 1+a.NonceSize()+len(plaintext)+a.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		panic(err) // crypto/rand.Read does not fail (Go 1.24+)
	}
	out = a.Seal(out, out[1:], plaintext, []byte(purpose))
	return base64.RawURLEncoding.EncodeToString(out)
}

// open decrypts a sealed value with any of the keys.
func (s *sealer) open(purpose, value string) ([]byte, bool) {
	if value == "" || len(value) > maxSealedLen {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, false
	}
	for _, a := range s.aeads {
		n := a.NonceSize()
		if len(raw) < 1+n+a.Overhead() || raw[0] != sealVersion {
			return nil, false
		}
		if pt, err := a.Open(nil, raw[1:1+n], raw[1+n:], []byte(purpose)); err == nil {
			return pt, true
		}
	}
	return nil, false
}

// sessionPayload is what the session cookie seals: either the identity
// itself (stateless) or the ID of a session in a store. The expiry is
// inside, so that it cannot be extended by editing the cookie.
type sessionPayload struct {
	Expires int64            `json:"x"`
	ID      *sessionIdentity `json:"id,omitempty"`
	// SID is the store's session ID; Overflow says which store holds it:
	// the configured one, or the gateway's in-memory overflow store.
	SID      string `json:"sid,omitempty"`
	Overflow bool   `json:"o,omitempty"`
}

// sessionIdentity is the compact form of an Identity kept in a cookie.
// Assertion attributes, the assertion ID and InResponseTo are not kept.
type sessionIdentity struct {
	Connection          string   `json:"c"`
	Subject             string   `json:"s"`
	SubjectFormat       string   `json:"sf,omitempty"`
	Email               string   `json:"e,omitempty"`
	EmailVerified       bool     `json:"ev,omitempty"`
	GivenName           string   `json:"gn,omitempty"`
	FamilyName          string   `json:"fn,omitempty"`
	DisplayName         string   `json:"dn,omitempty"`
	Groups              []string `json:"g,omitempty"`
	Roles               []string `json:"r,omitempty"`
	Issuer              string   `json:"i,omitempty"`
	SessionIndex        string   `json:"si,omitempty"`
	AuthnInstant        int64    `json:"ai,omitempty"`
	SessionNotOnOrAfter int64    `json:"sn,omitempty"`
}

func compactIdentity(id *Identity) *sessionIdentity {
	s := &sessionIdentity{
		Connection:    id.Connection,
		Subject:       id.Subject,
		SubjectFormat: id.SubjectFormat,
		Email:         id.Email,
		EmailVerified: id.EmailVerified,
		GivenName:     id.GivenName,
		FamilyName:    id.FamilyName,
		DisplayName:   id.DisplayName,
		Groups:        id.Groups,
		Roles:         id.Roles,
		Issuer:        id.Issuer,
		SessionIndex:  id.SessionIndex,
	}
	if !id.AuthnInstant.IsZero() {
		s.AuthnInstant = id.AuthnInstant.UnixMilli()
	}
	if !id.SessionNotOnOrAfter.IsZero() {
		s.SessionNotOnOrAfter = id.SessionNotOnOrAfter.UnixMilli()
	}
	return s
}

func (s *sessionIdentity) identity() *Identity {
	id := &Identity{
		Connection:    s.Connection,
		Subject:       s.Subject,
		SubjectFormat: s.SubjectFormat,
		Email:         s.Email,
		EmailVerified: s.EmailVerified,
		GivenName:     s.GivenName,
		FamilyName:    s.FamilyName,
		DisplayName:   s.DisplayName,
		Groups:        s.Groups,
		Roles:         s.Roles,
		Issuer:        s.Issuer,
		SessionIndex:  s.SessionIndex,
	}
	if id.Groups == nil {
		id.Groups = []string{}
	}
	if id.Roles == nil {
		id.Roles = []string{}
	}
	if s.AuthnInstant != 0 {
		id.AuthnInstant = time.UnixMilli(s.AuthnInstant).UTC()
	}
	if s.SessionNotOnOrAfter != 0 {
		id.SessionNotOnOrAfter = time.UnixMilli(s.SessionNotOnOrAfter).UTC()
	}
	return id
}

// relayState is what the RelayState of an SP-initiated login seals.
type relayState struct {
	RequestID  string `json:"i"`
	Connection string `json:"c"`
	ReturnTo   string `json:"r"`
	Expires    int64  `json:"x"`
}

func (s *sealer) sealJSON(purpose string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("samlgate: encoding %s: %w", purpose, err)
	}
	return s.seal(purpose, b), nil
}

func (s *sealer) openJSON(purpose, value string, v any) bool {
	b, ok := s.open(purpose, value)
	if !ok {
		return false
	}
	return json.Unmarshal(b, v) == nil
}
