package samltest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"time"
)

// seed derives the material the generated IDs come from: the IdP's count
// of minted responses, its entity ID, and the options that tell responses
// apart.
func (idp *IdP) seed(r *Response, issuer, recipient, nameID string, issueInstant time.Time) []byte {
	n := idp.minted.Add(1)
	h := sha256.New()
	writeUint(h, n)
	for _, s := range []string{
		idp.EntityID, issuer, r.Audience, r.Destination, recipient,
		r.InResponseTo, nameID, r.Email, formatTime(issueInstant), r.Sign.String(),
	} {
		writeUint(h, uint64(len(s)))
		h.Write([]byte(s))
	}
	return h.Sum(nil)
}

func writeUint(h hash.Hash, n uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	h.Write(b[:])
}

// stream returns an endless deterministic byte stream for seed and label.
func stream(seed []byte, label string) func() byte {
	var buf []byte
	var block uint64
	return func() byte {
		if len(buf) == 0 {
			h := sha256.New()
			h.Write(seed)
			h.Write([]byte(label))
			writeUint(h, block)
			block++
			buf = h.Sum(nil)
		}
		b := buf[0]
		buf = buf[1:]
		return b
	}
}

// generateID returns 40 upper-case alphanumerics starting with a letter,
// drawn without bias from the stream of seed and label.
func generateID(seed []byte, label string) string {
	next := stream(seed, label)
	id := make([]byte, 0, idLength)
	for len(id) < idLength {
		b := next()
		if len(id) == 0 {
			if int(b) < 256/lettersInIDAlp*lettersInIDAlp {
				id = append(id, idAlphabet[int(b)%lettersInIDAlp])
			}
			continue
		}
		if int(b) < 256/len(idAlphabet)*len(idAlphabet) {
			id = append(id, idAlphabet[int(b)%len(idAlphabet)])
		}
	}
	return string(id)
}

// generateUUID returns a version 4 style UUID (like JumpCloud's
// SessionIndex) from the stream of seed and label.
func generateUUID(seed []byte, label string) string {
	next := stream(seed, label)
	var u [16]byte
	for i := range u {
		u[i] = next()
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
