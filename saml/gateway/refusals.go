package gateway

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// RecentRefusalsPerConnection is how many refusals the gateway remembers
// per connection for the setup assistant (Gateway.RecentRefusals): the
// newest replace the oldest.
const RecentRefusalsPerConnection = 50

// maxRefusalField bounds each text field of a remembered refusal, so that
// the memory the ring holds is bounded whatever a response quoted.
const maxRefusalField = 1024

// Refusal is one refused callback, as the setup assistant lists it: what
// the Info log line of the refusal says, and nothing more. Like
// saml.Error's Error string, it holds configuration values an admin
// compares with the IdP console, never assertion XML, emails or group
// names.
type Refusal struct {
	Time       time.Time
	Connection string
	Code       saml.Code
	// RequestID is the ID the error page showed the user: the one a user
	// reports with the code.
	RequestID        string
	Message          string
	Expected, Actual string
	Hint             string
	// IdPInitiated is true when the response answered no login request of
	// ours (as LoginEvent.IdPInitiated).
	IdPInitiated bool
	// Test is true for a test login started from the setup assistant.
	Test bool
}

// refusalLog keeps the last RecentRefusalsPerConnection refusals of each
// connection that refused one: a ring per connection. Only refusals of
// configured connections are recorded (a callback for an unknown
// connection is refused before refuse), so the memory is bounded by the
// connections times the ring size times the field bound. The zero value
// is ready to use.
type refusalLog struct {
	mu    sync.Mutex
	rings map[string]*refusalRing
}

type refusalRing struct {
	buf  []Refusal // len grows to cap, then stays
	next int       // where the next refusal goes once buf is full
}

func (l *refusalLog) add(r Refusal, size int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rings == nil {
		l.rings = make(map[string]*refusalRing)
	}
	ring := l.rings[r.Connection]
	if ring == nil {
		ring = &refusalRing{buf: make([]Refusal, 0, size)}
		l.rings[r.Connection] = ring
	}
	if len(ring.buf) < cap(ring.buf) {
		ring.buf = append(ring.buf, r)
		return
	}
	ring.buf[ring.next] = r
	ring.next = (ring.next + 1) % len(ring.buf)
}

// list returns the connection's refusals, newest first.
func (l *refusalLog) list(connection string) []Refusal {
	l.mu.Lock()
	defer l.mu.Unlock()
	ring := l.rings[connection]
	if ring == nil {
		return nil
	}
	out := make([]Refusal, 0, len(ring.buf))
	out = append(out, ring.buf[ring.next:]...)
	out = append(out, ring.buf[:ring.next]...)
	slices.Reverse(out)
	return out
}

// RecentRefusals returns the last refusals (at most
// RecentRefusalsPerConnection) of the connection named connection,
// newest first, as the setup assistant shows them: so that the code and
// request ID a user reports lead to the diagnosis. They are kept in this
// process's memory: each replica knows its own.
func (g *Gateway) RecentRefusals(connection string) []Refusal {
	return g.refusals.list(connection)
}

// recordRefusal remembers a refusal for RecentRefusals; refuse calls it.
func (g *Gateway) recordRefusal(r *http.Request, ev LoginEvent, e *saml.Error, reqID string) {
	if ev.Connection == "" {
		return
	}
	_, test := testLoginFrom(r.Context())
	g.refusals.add(Refusal{
		Time:         g.now(),
		Connection:   ev.Connection,
		Code:         e.Code,
		RequestID:    reqID,
		Message:      clip(e.Message),
		Expected:     clip(e.Expected),
		Actual:       clip(e.Actual),
		Hint:         clip(e.Hint),
		IdPInitiated: ev.IdPInitiated,
		Test:         test,
	}, RecentRefusalsPerConnection)
}

// clip bounds s to maxRefusalField bytes, cut at a rune boundary.
func clip(s string) string {
	if len(s) <= maxRefusalField {
		return s
	}
	n := maxRefusalField
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
