package gateway

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// Sealing: AES-256-GCM with a random 96-bit nonce. The additional data
// starts with a purpose label, so a value sealed for one use (a session
// cookie) never opens as another (a RelayState), even under the same key.
// Session cookies and RelayStates also bind the application: the SP entity
// ID and the connection name follow the label (see bound), so that two
// gateways sharing a key and a connection name, but not an SP entity ID,
// never open each other's cookies (which would skip the other app's group
// gate). v2 labels: values sealed before that binding do not open.
const (
	sealVersion       = 1
	purposeSession    = "samlgate/v2/session"
	purposeRelayState = "samlgate/v2/relaystate"
	// purposeStored seals a session in a SessionStore, under the session's
	// own secret; the session ID follows it in the additional data, so a
	// value moved to another ID does not open.
	purposeStored = "samlgate/v2/stored-session\x00"
	// purposeUserIndex derives, from each session key, the HMAC key of
	// the user index (see sealer.userKey).
	purposeUserIndex = "samlgate/v2/user-index"
	// maxSealedLen bounds what open decodes: far above any cookie or
	// RelayState the gateway writes.
	maxSealedLen = 8 << 10
)

// bound is the additional data of a value that belongs to one connection
// of one application: the purpose, then the SP entity ID and the
// connection name, each prefixed with its length so that no two
// (entity ID, name) pairs give the same bytes.
func bound(purpose, spEntityID, connection string) string {
	return purpose + lengthPrefixed(spEntityID, connection)
}

func lengthPrefixed(parts ...string) string {
	var b []byte
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return string(b)
}

type sealer struct {
	aeads []cipher.AEAD
	// indexKeys are the user-index HMAC keys derived from the session
	// keys, in the same order: the first names users in new entries, all
	// find them (RevokeUser).
	indexKeys [][]byte
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
		aead, err := newAEAD(k)
		if err != nil {
			return nil, configError("SessionKeys[%d]: %v", i, err)
		}
		s.aeads = append(s.aeads, aead)
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(purposeUserIndex))
		s.indexKeys = append(s.indexKeys, mac.Sum(nil))
	}
	return s, nil
}

// userKey names a user (the subject of a connection of an application) in
// a store's user index, under index key i: an HMAC, so that the index
// holds no subject in the clear, yet every replica sharing the session
// keys computes the same name.
func (s *sealer) userKey(i int, spEntityID, connection, subject string) string {
	mac := hmac.New(sha256.New, s.indexKeys[i])
	mac.Write([]byte(lengthPrefixed(spEntityID, connection, subject)))
	return hex.EncodeToString(mac.Sum(nil))
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealBytes encrypts plaintext with a: version byte, nonce, ciphertext.
func sealBytes(a cipher.AEAD, ad string, plaintext []byte) []byte {
	out := make([]byte, 1+a.NonceSize(), 1+a.NonceSize()+len(plaintext)+a.Overhead())
	out[0] = sealVersion
	_, _ = rand.Read(out[1:]) // crypto/rand.Read never fails (Go 1.24+)
	return a.Seal(out, out[1:], plaintext, []byte(ad))
}

// openBytes decrypts what sealBytes wrote.
func openBytes(a cipher.AEAD, ad string, raw []byte) ([]byte, bool) {
	return openBytesTo(nil, a, []byte(ad), raw)
}

// openBytesTo is openBytes appending the plaintext to dst.
func openBytesTo(dst []byte, a cipher.AEAD, ad, raw []byte) ([]byte, bool) {
	n := a.NonceSize()
	if len(raw) < 1+n+a.Overhead() || raw[0] != sealVersion {
		return nil, false
	}
	pt, err := a.Open(dst, raw[1:1+n], raw[1+n:], ad)
	return pt, err == nil
}

// seal encrypts plaintext with the first key.
func (s *sealer) seal(purpose string, plaintext []byte) string {
	return base64.RawURLEncoding.EncodeToString(sealBytes(s.aeads[0], purpose, plaintext))
}

// open decrypts a sealed value with any of the keys.
func (s *sealer) open(purpose, value string) ([]byte, bool) {
	if value == "" || len(value) > maxSealedLen {
		return nil, false
	}
	raw, err := strictBase64.DecodeString(value)
	if err != nil {
		return nil, false
	}
	for _, a := range s.aeads {
		if pt, ok := openBytes(a, purpose, raw); ok {
			return pt, true
		}
	}
	return nil, false
}

// strictBase64 decodes sealed values. Strict: the last character's unused
// bits must be zero, so that each sealed value has one spelling, and a
// change to any character of it is a value that does not open. (Strict()
// copies the Encoding: called per value, it would allocate each time.)
var strictBase64 = base64.RawURLEncoding.Strict()

// openScratch holds what openTo decodes and decrypts: a session cookie is
// opened on every request with a session, so its buffers are pooled
// rather than allocated (about 2 KB per request, and garbage collection).
type openScratch struct{ src, raw, plain []byte }

var openScratchPool = sync.Pool{New: func() any { return new(openScratch) }}

// openTo is open into sc's buffers, with the additional data as bytes:
// the plaintext it returns is valid until sc goes back to the pool, and
// must not be kept past that (copy what is needed).
func (s *sealer) openTo(sc *openScratch, ad []byte, value string) ([]byte, bool) {
	if value == "" || len(value) > maxSealedLen {
		return nil, false
	}
	// Decode takes bytes: the copy into a pooled buffer is what a
	// DecodeString would allocate.
	sc.src = append(sc.src[:0], value...)
	sc.raw = slices.Grow(sc.raw[:0], strictBase64.DecodedLen(len(sc.src)))
	n, err := strictBase64.Decode(sc.raw[:cap(sc.raw)], sc.src)
	if err != nil {
		return nil, false
	}
	raw := sc.raw[:n]
	for _, a := range s.aeads {
		// Never in place: a failed Open clears its output, and the next
		// key needs the ciphertext intact.
		if pt, ok := openBytesTo(sc.plain[:0], a, ad, raw); ok {
			sc.plain = pt
			return pt, true
		}
	}
	return nil, false
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

// relayState is what the RelayState of an SP-initiated login seals.
type relayState struct {
	RequestID  string `json:"i"`
	Connection string `json:"c"`
	ReturnTo   string `json:"r"`
	Expires    int64  `json:"x"`
	// Test marks a test login started from the setup assistant (see
	// testlogin.go): sealed, so that nobody can set or clear it.
	Test bool `json:"t,omitempty"`
}
