package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// LoginStateStore keeps the pending SP-initiated logins on the server
// side, for Config.LoginStateStore: each under a RelayState handle, sealed
// by the gateway, for LoginRequestLifetime, and taken back once. Use one
// (Redis, shared by every replica) when the state must be consumed exactly
// once; without one, the state travels sealed in the browser's request
// cookie and any replica holding the session keys opens it.
// Implementations must be safe for concurrent use;
// storetest.RunLoginStateStore is their conformance suite.
type LoginStateStore interface {
	// SaveLoginState records sealed under handle until expiresAt.
	SaveLoginState(ctx context.Context, handle string, sealed []byte, expiresAt time.Time) error
	// TakeLoginState returns what handle holds and forgets it, atomically:
	// of two concurrent calls for one handle, at most one gets the bytes.
	// It returns (nil, nil) when handle holds nothing (never saved, taken
	// already, or expired). An error means the store failed.
	TakeLoginState(ctx context.Context, handle string) ([]byte, error)
}

// RelayState handles: handlePrefix and 32 random bytes in base64url, 47
// bytes, well within the 80 bytes the SAML bindings allow (§3.4.3,
// §3.5.3). The prefix tells a handle from an IdP-initiated RelayState,
// which is the admin's local path (starting with /), and carries no dot so
// a handle never parses as a session cookie value.
const (
	handlePrefix   = "sg1_"
	handleRandom   = 32
	handleEncodedN = len(handlePrefix) + (handleRandom*8+5)/6
)

// newHandle returns a fresh RelayState handle.
func newHandle() string {
	b := make([]byte, handleRandom)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return handlePrefix + base64.RawURLEncoding.EncodeToString(b)
}

// isHandle reports whether a RelayState has the shape of the gateway's
// handles (it may still be unknown: forged, expired, or of another
// browser).
func isHandle(s string) bool {
	if len(s) != handleEncodedN || !strings.HasPrefix(s, handlePrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s[len(handlePrefix):])
	return err == nil
}

// loginStateAD binds sealed login state to the connection, the application
// and the handle: state sealed for another handle, connection or
// application does not open.
func loginStateAD(c *conn, handle string) string {
	return bound(purposeRelayState, c.spEntityID, c.Name()) + lengthPrefixed(handle)
}

// saveLoginState seals rs under a new handle and returns the handle (the
// RelayState) and the value of the request cookie: the sealed state
// itself, or, with a LoginStateStore, the handle (the state then waits in
// the store). Either way the browser must present the cookie at the ACS,
// which proves it started the login (login CSRF).
func (g *Gateway) saveLoginState(ctx context.Context, c *conn, rs relayState) (handle, cookie string, err error) {
	handle = newHandle()
	ad := loginStateAD(c, handle)
	sealed, err := g.sealer.sealJSON(ad, rs)
	if err != nil || g.cfg.LoginStateStore == nil {
		return handle, sealed, err
	}
	if err := g.cfg.LoginStateStore.SaveLoginState(ctx, handle, []byte(sealed), time.UnixMilli(rs.Expires)); err != nil {
		return "", "", newError(saml.CodeUnavailable, "the login state store failed", err)
	}
	return handle, handle, nil
}

// requestCookieName is per handle, so that logins started in two tabs keep
// separate cookies.
func (g *Gateway) requestCookieName(handle string) string {
	sum := sha256.Sum256([]byte(handle))
	return g.requestCookiePrefix() + hex.EncodeToString(sum[:8])
}

// takeLoginState recovers the login state a callback's RelayState names,
// from the browser's request cookie (and the store, when configured), and
// clears that cookie: a login request is used once. A store failure sets
// t.err: the callback refuses as unavailable before Verify, so nothing is
// accepted or consumed.
func (g *Gateway) takeLoginState(w http.ResponseWriter, r *http.Request, c *conn, t *tracked) {
	if !isHandle(t.rawRelay) {
		return
	}
	t.ours = true
	name := g.requestCookieName(t.rawRelay)
	http.SetCookie(w, g.requestCookieNamed(c, name, "", -1))
	values := cookieValues(r, name, nil)
	if len(values) == 0 {
		t.note = noteCookieMissing
		return
	}
	ad := loginStateAD(c, t.rawRelay)
	if store := g.cfg.LoginStateStore; store != nil {
		// The cookie only proves the browser; the state is in the store.
		// Every cookie of the name is tried: one planted by another host
		// of the site (possible only without the __Host- prefix) cannot
		// hide the browser's own.
		matched := false
		for _, v := range values {
			if subtle.ConstantTimeCompare([]byte(v), []byte(t.rawRelay)) == 1 {
				matched = true
			}
		}
		if !matched {
			t.note = noteCookieMissing
			return
		}
		raw, err := store.TakeLoginState(r.Context(), t.rawRelay)
		if err != nil {
			t.err = newError(saml.CodeUnavailable, "the login state store failed", err)
			return
		}
		if raw == nil || !g.sealer.openJSON(ad, string(raw), &t.rs) {
			t.note = noteRequestExpired
			return
		}
	} else {
		opened := false
		for _, v := range values {
			if g.sealer.openJSON(ad, v, &t.rs) {
				opened = true
				break
			}
		}
		if !opened {
			t.note = noteCookieMissing
			return
		}
	}
	switch {
	case t.rs.Connection != c.Name() || t.rs.RequestID == "":
		t.rs = relayState{}
		t.note = noteCookieMissing
	case g.now().UnixMilli() >= t.rs.Expires:
		t.note = noteRequestExpired
	default:
		t.requestIDs = []string{t.rs.RequestID}
	}
}
