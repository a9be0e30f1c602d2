package gateway

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Sealing: AES-256-GCM with a random 96-bit nonce. The additional data is
// a purpose label, so a value sealed for one use (a session cookie) never
// opens as another (a RelayState), even under the same key.
const (
	sealVersion       = 1
	purposeSession    = "samlgate/v1/session"
	purposeRelayState = "samlgate/v1/relaystate"
	// purposeStored seals a session in a SessionStore, under the session's
	// own secret; the session ID follows it in the additional data, so a
	// value moved to another ID does not open.
	purposeStored = "samlgate/v1/stored-session\x00"
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
		aead, err := newAEAD(k)
		if err != nil {
			return nil, configError("SessionKeys[%d]: %v", i, err)
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
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
	n := a.NonceSize()
	if len(raw) < 1+n+a.Overhead() || raw[0] != sealVersion {
		return nil, false
	}
	pt, err := a.Open(nil, raw[1:1+n], raw[1+n:], []byte(ad))
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
	raw, err := base64.RawURLEncoding.DecodeString(value)
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
}
