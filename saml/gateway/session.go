package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// sessionState is what a session keeps, sealed in the cookie (stateless)
// or in a store.
type sessionState struct {
	// ID is the identity, in saml.Identity's own JSON shape (Attributes,
	// AssertionID and InResponseTo left out).
	ID *saml.Identity `json:"id"`
	// GateGroups are the user's groups that the connection's allowed-groups
	// gate matched at login but its Filter left out of ID.Groups: every
	// request checks the gate again, against ID.Groups and these (see
	// sessionAccess).
	GateGroups []string `json:"gg,omitempty"`
	// Policy is the fingerprint of the rules that derived ID.Groups and
	// ID.Roles at login (sessionAccess.policy).
	Policy string `json:"gp"`
	// Teams are the user's teams after the login's team sync
	// (Config.TeamSync).
	Teams []string `json:"tm,omitempty"`

	// verdict is sessionAccess.admits' last answer for this session
	// (decoded sessions are shared between requests: see admits).
	verdict atomic.Pointer[accessVerdict]
}

// sessionPayload is what the session cookie seals: either the session
// itself (stateless), or the ID of a session in a store with the secret
// that opens it there. The expiry is inside, so that it cannot be extended
// by editing the cookie.
type sessionPayload struct {
	Expires int64         `json:"x"`
	State   *sessionState `json:"s,omitempty"`
	// SID is the store's session ID and Key the session's own secret;
	// Overflow says which store holds it: the configured one, or the
	// gateway's in-memory overflow store.
	SID      string `json:"sid,omitempty"`
	Key      []byte `json:"k,omitempty"`
	Overflow bool   `json:"o,omitempty"`
}

// A session cookie's value is the connection's cookieTag (base64url of its
// name), a dot, and the payload sealed with bound(purposeSession, SP entity
// ID, connection) as additional data. The tag only says which binding to
// open it with: a value moved to another connection, or to another
// application with the same connection name and session keys but another
// SP entity ID, does not open.
func sessionValue(c *conn, sealed string) string { return c.cookieTag + "." + sealed }

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
func (g *Gateway) createSession(ctx context.Context, c *conn, id *saml.Identity, teams []string) (*http.Cookie, *saml.Error) {
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
	st := &sessionState{ID: sessionIdentity(id), GateGroups: c.access.gateGroups(id), Policy: c.access.policy, Teams: teams}
	ad := bound(purposeSession, c.spEntityID, c.Name())
	p := sessionPayload{Expires: exp.UnixMilli()}
	var value string
	switch {
	case g.cfg.SessionStore != nil:
		if err := g.storeSession(ctx, g.cfg.SessionStore, c, st, exp, &p); err != nil {
			return nil, err
		}
	default:
		p.State = st
		sealed, err := g.sealer.sealJSON(ad, p)
		if err != nil {
			return nil, newError(saml.CodeUnavailable, "cannot encode the session", err)
		}
		if value = sessionValue(c, sealed); len(value) <= maxSessionCookieValue {
			break
		}
		if g.cfg.DisableOverflow {
			e := newError(CodeSessionTooLarge, "the identity is too large for a session cookie, and DisableOverflow leaves no store to keep it", nil)
			e.Expected = fmt.Sprintf("a session cookie of at most %d bytes", maxSessionCookieValue)
			e.Actual = fmt.Sprintf("%d bytes (%d groups)", len(value), len(st.ID.Groups))
			return nil, e
		}
		p = sessionPayload{Expires: p.Expires, Overflow: true}
		if err := g.storeSession(ctx, g.overflowStore(c.Name(), true), c, st, exp, &p); err != nil {
			return nil, err
		}
		value = ""
	}
	if value == "" {
		sealed, err := g.sealer.sealJSON(ad, p)
		if err != nil {
			return nil, newError(saml.CodeUnavailable, "cannot encode the session", err)
		}
		value = sessionValue(c, sealed)
	}
	maxAge := int((exp.Sub(now) + time.Second - 1) / time.Second)
	return g.sessionCookie(value, maxAge), nil
}

// storeSession saves st in store, sealed under a new random secret, and
// sets the new session ID and the secret in p. A store that indexes users
// records the session under the user's key, and drops that user's oldest
// sessions beyond MaxSessionsPerUser.
func (g *Gateway) storeSession(ctx context.Context, store SessionStore, c *conn, st *sessionState, exp time.Time, p *sessionPayload) *saml.Error {
	sid := randomHex(32)
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	plain, err := json.Marshal(st)
	if err != nil {
		return newError(saml.CodeUnavailable, "cannot encode the session", err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return newError(saml.CodeUnavailable, "cannot encode the session", err)
	}
	sealed := sealBytes(aead, purposeStored+sid, plain)
	if us, ok := store.(UserSessionStore); ok {
		user := g.sealer.userKey(0, c.spEntityID, c.Name(), st.ID.Subject)
		err = us.SaveUser(ctx, sid, user, sealed, exp, g.cfg.MaxSessionsPerUser)
	} else {
		err = store.Save(ctx, sid, sealed, exp)
	}
	switch {
	case errors.Is(err, CodeSessionTooLarge):
		e := newError(CodeSessionTooLarge, "the session is larger than the session store may hold", err)
		e.Actual = fmt.Sprintf("%d bytes sealed (%d groups)", len(sealed), len(st.ID.Groups))
		return e
	case err != nil:
		return newError(saml.CodeUnavailable, "the session store failed", err)
	}
	p.SID, p.Key = sid, key
	return nil
}

// loadSession reads and opens a stored session; nil when the store has
// none or what it has does not open with the cookie's secret.
func loadSession(ctx context.Context, d *sessionDecoder, store SessionStore, sid string, key []byte) (*sessionState, error) {
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
	st, ok := d.state(plain)
	if !ok {
		return nil, nil
	}
	return st, nil
}

// overflowStore is the in-memory store of a connection for identities too
// large for a cookie when no SessionStore is configured: one per
// connection, each bounded by OverflowLimits, so that a tenant's IdP
// minting subjects evicts only its own tenant's sessions. It is created
// (and the first one announced) when create is true; otherwise nil when
// the connection has none.
func (g *Gateway) overflowStore(connection string, create bool) *MemorySessionStore {
	g.overflowMu.Lock()
	defer g.overflowMu.Unlock()
	m := g.overflows[connection]
	if m != nil || !create {
		return m
	}
	m = NewMemorySessionStore(g.cfg.OverflowLimits, g.now)
	if g.overflows == nil {
		g.overflows = make(map[string]*MemorySessionStore)
	}
	g.overflows[connection] = m
	g.overflowWarn.Do(func() {
		g.logger.Warn("samlgate: an identity is too large for a session cookie (many groups); keeping such sessions in this process's memory. "+
			"They are lost on restart and unknown to other replicas: set Config.SessionStore to a shared store, or a groups Filter on the connection, "+
			"or Config.DisableOverflow to refuse such logins (session_too_large)",
			"max_sessions_per_connection", m.limits.MaxSessions, "max_bytes_per_connection", m.limits.MaxBytes, "max_sessions_per_user", g.cfg.MaxSessionsPerUser)
	})
	return m
}

// RevokeUser ends every session of the user subject of connection that the
// server keeps: those in SessionStore when it implements
// UserSessionStore, and those in the connection's in-memory overflow
// store. A stateless session cookie cannot be revoked: the server keeps
// nothing of it (see Config.SessionStore). So without a SessionStore,
// RevokeUser ends what it can and returns config_invalid, saying that
// sessions in cookies stay valid until they expire: an incident response
// must not believe a user logged out who is not. The error is
// CodeUnknownConnection for a connection the gateway does not have,
// config_invalid when SessionStore does not index users, or unavailable
// when a store fails.
//
// Each call on a connection that exists logs one audit line at Info
// (event sessions_revoked: the connection, the subject as the audit log
// shows it, and the outcome).
func (g *Gateway) RevokeUser(ctx context.Context, connection, subject string) error {
	c, ok := g.conn(connection)
	if !ok {
		return newError(CodeUnknownConnection, "RevokeUser: no connection of that name", nil)
	}
	err := g.revokeUser(ctx, c, subject)
	g.auditSessionsRevoked(ctx, c, subject, err)
	return err
}

func (g *Gateway) revokeUser(ctx context.Context, c *conn, subject string) error {
	var stores []UserSessionStore
	if s := g.cfg.SessionStore; s != nil {
		us, ok := s.(UserSessionStore)
		if !ok {
			return configError("RevokeUser: Config.SessionStore (%T) does not implement UserSessionStore, so a user's sessions cannot be found", s)
		}
		stores = append(stores, us)
	}
	if m := g.overflowStore(c.Name(), false); m != nil {
		stores = append(stores, m)
	}
	for _, s := range stores {
		// Under every session key: sessions saved before a key rotation
		// are indexed under the key that was first then.
		for i := range g.sealer.indexKeys {
			if err := s.DeleteUser(ctx, g.sealer.userKey(i, c.spEntityID, c.Name(), subject)); err != nil {
				return newError(saml.CodeUnavailable, "the session store failed", err)
			}
		}
	}
	if g.cfg.SessionStore == nil {
		return configError("RevokeUser: without a SessionStore, sessions are stateless cookies that the server cannot end: the user's sessions kept in cookies stay valid until they expire (SessionLifetime at most). Configure a SessionStore that implements UserSessionStore to revoke sessions")
	}
	return nil
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

// readSession returns the request's session: a copy of its own for this
// request (newRequestSession). stale reports a session cookie that is
// present but no session (to clear); err, a session store failure. When
// several cookies of the name arrive, each is tried in the browser's order
// and the first that opens a session wins.
func (g *Gateway) readSession(r *http.Request) (rs *requestSession, stale bool, err error) {
	var buf [maxCookieCopies]string
	values := cookieValues(r, g.cfg.CookieName, buf[:0])
	if len(values) == 0 {
		return nil, false, nil
	}
	for _, v := range values {
		st, serr := g.openSession(r.Context(), v)
		if st != nil {
			return newRequestSession(st), false, nil
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

// openPayload opens a session cookie value: the connection it is bound
// to, and its payload (shared with the decode cache: read only). ok is
// false for anything that is not a cookie of this gateway for a
// connection it has now.
func (g *Gateway) openPayload(value string) (c *conn, p *sessionPayload, ok bool) {
	tag, sealed, found := strings.Cut(value, ".")
	if !found {
		return nil, nil, false
	}
	if c, ok = g.connByTag(tag); !ok {
		return nil, nil, false
	}
	sc := openScratchPool.Get().(*openScratch)
	defer openScratchPool.Put(sc)
	plain, ok := g.sealer.openTo(sc, c.sessionAD, sealed)
	if !ok {
		return nil, nil, false
	}
	// The decoding copies what it keeps out of plain, which goes back to
	// the pool.
	if p, ok = g.decoded.payload(plain); !ok {
		return nil, nil, false
	}
	return c, p, true
}

// connByTag is the connection whose cookieTag is tag. It runs on every
// request, so the name is decoded into a stack buffer (longer names into a
// new slice).
func (g *Gateway) connByTag(tag string) (*conn, bool) {
	var buf [48]byte
	var name []byte
	if base64.RawURLEncoding.DecodedLen(len(tag)) <= len(buf) {
		n, err := base64.RawURLEncoding.Decode(buf[:], []byte(tag))
		if err != nil {
			return nil, false
		}
		name = buf[:n]
	} else {
		var err error
		if name, err = base64.RawURLEncoding.DecodeString(tag); err != nil {
			return nil, false
		}
	}
	c, ok := g.conn(string(name)) // does not escape: no allocation for names up to 32 bytes
	if !ok || c.cookieTag != tag {
		return nil, false
	}
	return c, true
}

// openSession returns the session of one session cookie value, shared
// with the decode cache (read only), nil when it is no session, or a
// store failure. A session that no longer meets its connection's rules
// (sessionAccess) is no session either: it is deleted from its store, and
// one Info line says why.
func (g *Gateway) openSession(ctx context.Context, value string) (*sessionState, error) {
	c, p, ok := g.openPayload(value)
	if !ok || g.now().UnixMilli() >= p.Expires {
		return nil, nil
	}
	st := p.State
	var store SessionStore
	if st == nil && p.SID != "" {
		if store = g.storeFor(p.Overflow, c.Name()); store == nil {
			return nil, nil
		}
		var err error
		if st, err = loadSession(ctx, &g.decoded, store, p.SID, p.Key); err != nil {
			return nil, newError(saml.CodeUnavailable, "the session store failed", err)
		}
	}
	if st == nil || st.ID == nil || st.ID.Connection != c.Name() {
		return nil, nil
	}
	if ok, why := c.access.admits(st); !ok {
		g.logger.InfoContext(ctx, "samlgate: session ended", "connection", c.Name(), "reason", why)
		if store != nil {
			if err := store.Delete(ctx, p.SID); err != nil {
				g.logger.WarnContext(ctx, "samlgate: cannot delete a session from the store", "error", err.Error())
			}
		}
		return nil, nil
	}
	return st, nil
}

// storeFor is the store a session payload points to: SessionStore, or the
// overflow store when the payload says so, no SessionStore is configured
// and the overflow store exists (it is per process: a cookie from another
// replica, or from before a restart, finds nothing).
func (g *Gateway) storeFor(overflow bool, connection string) SessionStore {
	switch {
	case !overflow:
		return g.cfg.SessionStore
	case g.cfg.SessionStore != nil:
		return nil
	}
	if m := g.overflowStore(connection, false); m != nil {
		return m
	}
	return nil
}

// deleteSession removes the store entry a session cookie points to, if
// any: deleted reports whether it did, err a store failure (also logged).
func (g *Gateway) deleteSession(ctx context.Context, value string) (deleted bool, err error) {
	c, p, ok := g.openPayload(value)
	if !ok || p.SID == "" {
		return false, nil
	}
	if store := g.storeFor(p.Overflow, c.Name()); store != nil {
		if err := store.Delete(ctx, p.SID); err != nil {
			g.logger.WarnContext(ctx, "samlgate: cannot delete a session from the store", "error", err.Error())
			return false, err
		}
		return true, nil
	}
	return false, nil
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
