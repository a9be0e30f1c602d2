package gateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// sessionPayload is what the session cookie seals: either the identity
// itself (stateless), or the ID of a session in a store with the secret
// that opens it there. The expiry is inside, so that it cannot be extended
// by editing the cookie.
type sessionPayload struct {
	Expires int64 `json:"x"`
	// ID is the identity of a stateless session, in saml.Identity's own
	// JSON shape (Attributes, AssertionID and InResponseTo left out).
	ID *saml.Identity `json:"id,omitempty"`
	// SID is the store's session ID and Key the session's own secret;
	// Overflow says which store holds it: the configured one, or the
	// gateway's in-memory overflow store.
	SID      string `json:"sid,omitempty"`
	Key      []byte `json:"k,omitempty"`
	Overflow bool   `json:"o,omitempty"`
}

// sessionIdentity is the identity a session keeps: no assertion
// attributes, assertion ID or InResponseTo, which belong to one response.
func sessionIdentity(id *saml.Identity) *saml.Identity {
	s := *id
	s.Attributes, s.AssertionID, s.InResponseTo = nil, "", ""
	return &s
}

// createSession seals the identity into a session cookie, or stores it
// (sealed under a secret of its own) and seals its ID and secret into the
// cookie when a store is configured or the identity would not fit.
func (g *Gateway) createSession(ctx context.Context, id *saml.Identity) (*http.Cookie, *saml.Error) {
	now := g.now()
	exp := now.Add(g.cfg.SessionLifetime)
	if s := id.SessionNotOnOrAfter; !s.IsZero() && s.Before(exp) {
		exp = s
	}
	if !exp.After(now) {
		e := newError(saml.CodeExpired, "the assertion's SessionNotOnOrAfter has already passed", nil)
		e.Now = now
		e.Expected, e.Actual = "a SessionNotOnOrAfter after "+fmtTime(now), fmtTime(id.SessionNotOnOrAfter)
		return nil, e
	}
	sid := sessionIdentity(id)
	p := sessionPayload{Expires: exp.UnixMilli()}
	var value string
	var err error
	switch {
	case g.cfg.SessionStore != nil:
		if p.SID, p.Key, err = g.storeSession(ctx, g.cfg.SessionStore, sid, exp); err != nil {
			return nil, newError(saml.CodeUnavailable, "the session store failed", err)
		}
	default:
		p.ID = sid
		if value, err = g.sealer.sealJSON(purposeSession, p); err != nil {
			return nil, newError(saml.CodeUnavailable, "cannot encode the session", err)
		}
		if len(value) > maxSessionCookieValue {
			p = sessionPayload{Expires: p.Expires, Overflow: true}
			if p.SID, p.Key, err = g.storeSession(ctx, g.overflowStore(), sid, exp); err != nil {
				return nil, newError(saml.CodeUnavailable, "the session store failed", err)
			}
			value = ""
		}
	}
	if value == "" {
		if value, err = g.sealer.sealJSON(purposeSession, p); err != nil {
			return nil, newError(saml.CodeUnavailable, "cannot encode the session", err)
		}
	}
	maxAge := int((exp.Sub(now) + time.Second - 1) / time.Second)
	return g.sessionCookie(value, maxAge), nil
}

// storeSession saves id in store, sealed under a new random secret, and
// returns the new session ID and the secret.
func (g *Gateway) storeSession(ctx context.Context, store SessionStore, id *saml.Identity, exp time.Time) (string, []byte, error) {
	sid := randomHex(32)
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	plain, err := json.Marshal(id)
	if err != nil {
		return "", nil, fmt.Errorf("encoding the session: %w", err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", nil, err
	}
	if err := store.Save(ctx, sid, sealBytes(aead, purposeStored+sid, plain), exp); err != nil {
		return "", nil, err
	}
	return sid, key, nil
}

// loadSession reads and opens a stored session; nil when the store has
// none or what it has does not open with the cookie's secret.
func loadSession(ctx context.Context, store SessionStore, sid string, key []byte) (*saml.Identity, error) {
	sealed, err := store.Load(ctx, sid)
	if err != nil || sealed == nil {
		return nil, err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, nil // a cookie of ours always has a 32-byte key
	}
	plain, ok := openBytes(aead, purposeStored+sid, sealed)
	if !ok {
		return nil, nil
	}
	var id saml.Identity
	if json.Unmarshal(plain, &id) != nil {
		return nil, nil
	}
	return &id, nil
}

// overflowStore is the in-memory store for identities too large for a
// cookie when no SessionStore is configured.
func (g *Gateway) overflowStore() *MemorySessionStore {
	g.overflowOnce.Do(func() {
		g.overflow = NewMemorySessionStore(DefaultMemorySessions, g.now)
		g.logger.Warn("samlgate: an identity is too large for a session cookie (many groups); keeping such sessions in this process's memory. " +
			"They are lost on restart and unknown to other replicas: set Config.SessionStore to a shared store, or a groups Filter on the connection")
	})
	return g.overflow
}

func (g *Gateway) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     g.cfg.CookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   !g.cfg.InsecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
}

func (g *Gateway) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, g.sessionCookie("", -1))
}

// readSession returns the request's session identity. stale reports a
// session cookie that is present but no session (to clear); err, a
// session store failure. When several cookies of the name arrive, each is
// tried in the browser's order and the first that opens a session wins.
func (g *Gateway) readSession(r *http.Request) (id *saml.Identity, stale bool, err error) {
	values := cookieValues(r, g.cfg.CookieName)
	if len(values) == 0 {
		return nil, false, nil
	}
	for _, v := range values {
		id, serr := g.openSession(r.Context(), v)
		if id != nil {
			return id, false, nil
		}
		if serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// openSession returns the identity of one session cookie value, nil when
// it is no session, or a store failure.
func (g *Gateway) openSession(ctx context.Context, value string) (*saml.Identity, error) {
	var p sessionPayload
	if !g.sealer.openJSON(purposeSession, value, &p) || g.now().UnixMilli() >= p.Expires {
		return nil, nil
	}
	id := p.ID
	if id == nil && p.SID != "" {
		store := g.storeFor(p.Overflow)
		if store == nil {
			return nil, nil
		}
		var err error
		if id, err = loadSession(ctx, store, p.SID, p.Key); err != nil {
			return nil, newError(saml.CodeUnavailable, "the session store failed", err)
		}
	}
	if id == nil {
		return nil, nil
	}
	if _, ok := g.conn(id.Connection); !ok {
		return nil, nil
	}
	if id.Groups == nil {
		id.Groups = []string{}
	}
	if id.Roles == nil {
		id.Roles = []string{}
	}
	return id, nil
}

func (g *Gateway) storeFor(overflow bool) SessionStore {
	if !overflow {
		return g.cfg.SessionStore
	}
	if g.cfg.SessionStore != nil {
		return nil
	}
	return g.overflowStore()
}

// deleteSession removes the store entry a session cookie points to, if any.
func (g *Gateway) deleteSession(ctx context.Context, value string) {
	var p sessionPayload
	if !g.sealer.openJSON(purposeSession, value, &p) || p.SID == "" {
		return
	}
	if store := g.storeFor(p.Overflow); store != nil {
		if err := store.Delete(ctx, p.SID); err != nil {
			g.logger.WarnContext(ctx, "samlgate: cannot delete a session from the store", "error", err.Error())
		}
	}
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
