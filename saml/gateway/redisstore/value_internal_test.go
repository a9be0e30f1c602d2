package redisstore

import (
	"bytes"
	"testing"
)

// FuzzDecodeSession: any bytes under a session key (Redis is shared, and
// may hold anything) decode or are refused, never a panic; what
// encodeSession writes decodes to what it was given.
func FuzzDecodeSession(f *testing.F) {
	f.Add([]byte{}, "user", []byte("sealed"))
	f.Add([]byte("\x01\x00x"), "", []byte("x"))
	f.Add([]byte("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01x"), "u", []byte{0})
	f.Fuzz(func(t *testing.T, raw []byte, user string, sealed []byte) {
		if u, s, ok := decodeSession(raw); ok && (len(u) > maxUserKey || len(s) == 0) {
			t.Fatalf("decoded %q, %q from %q", u, s, raw)
		}
		if len(user) > maxUserKey || len(sealed) == 0 {
			return
		}
		u, s, ok := decodeSession(encodeSession(user, sealed))
		if !ok || u != user || !bytes.Equal(s, sealed) {
			t.Fatalf("round trip of %q, %q: %q, %q, %v", user, sealed, u, s, ok)
		}
	})
}
