package saml

import (
	"fmt"
	"time"

	crewjam "github.com/crewjam/saml"
)

// bound is one timestamp of the message as crewjam's time checks see it:
// crewjam refuses its clock T before an IssueInstant or NotBefore less
// MaxClockSkew, after an IssueInstant plus MaxIssueDelay, and at or after
// a NotOnOrAfter plus MaxClockSkew.
type bound struct {
	name string
	at   time.Time
	kind boundKind
}

type boundKind int

const (
	boundIssued       boundKind = iota // an IssueInstant
	boundNotBefore                     // a NotBefore
	boundNotOnOrAfter                  // a NotOnOrAfter
)

// earliest is the first instant at which crewjam accepts b, for the
// bounds that have one.
func (b bound) earliest() (time.Time, bool) {
	if b.kind == boundNotOnOrAfter {
		return time.Time{}, false
	}
	return b.at.Add(-crewjam.MaxClockSkew), true
}

// latest is the last instant at which crewjam accepts b, for the bounds
// that have one; a NotOnOrAfter's is exclusive, hence the nanosecond.
func (b bound) latest() (time.Time, bool) {
	switch b.kind {
	case boundIssued:
		return b.at.Add(crewjam.MaxIssueDelay), true
	case boundNotOnOrAfter:
		return b.at.Add(crewjam.MaxClockSkew - time.Nanosecond), true
	}
	return time.Time{}, false
}

// tolerance is how much later than b a bound may be and crewjam still
// accept both at one instant.
func (b bound) tolerance() time.Duration {
	if b.kind == boundIssued {
		return crewjam.MaxIssueDelay
	}
	return crewjam.MaxClockSkew
}

// bounds lists the message's timestamps crewjam checks (absent ones left
// out).
func (m *message) bounds() []bound {
	bs := []bound{
		{"Assertion IssueInstant", m.issueInstant, boundIssued},
		{"Response IssueInstant", m.responseIssueInstant, boundIssued},
		{"Conditions NotBefore", m.conditionsNotBefore, boundNotBefore},
		{"Conditions NotOnOrAfter", m.conditionsNotOnOrAfter, boundNotOnOrAfter},
	}
	for _, w := range m.bearerWindows {
		bs = append(bs,
			bound{"SubjectConfirmationData NotBefore", w.notBefore, boundNotBefore},
			bound{"SubjectConfirmationData NotOnOrAfter", w.notOnOrAfter, boundNotOnOrAfter})
	}
	out := bs[:0]
	for _, b := range bs {
		if !b.at.IsZero() {
			out = append(out, b)
		}
	}
	return out
}

// crewjamClock picks an instant at which crewjam's own time checks, with
// its package-wide tolerances (MaxClockSkew, MaxIssueDelay), would pass:
// the assertion's IssueInstant, as for every IdP we know, or else the
// instant nearest to it that passes. Verify no longer runs crewjam, and
// checkTimes judges every verified bound against the real clock with the
// connection's skew; what is kept from crewjam, the reference, is this
// refusal: when no instant passes, the message's timestamps contradict
// each other by more than crewjam could be made to tolerate, whatever the
// skew, and the response is refused here, naming the two timestamps and
// the connection's skew. These are the unverified values: they can only
// refuse, and they are the values of the signed element (the shape checks
// leave no other element to read).
func (c *Connection) crewjamClock(m *message) (time.Time, *Error) {
	// Both IssueInstants are required (readAssertion), so from and until
	// are always set.
	var lo, hi bound
	var from, until time.Time
	for _, b := range m.bounds() {
		if e, ok := b.earliest(); ok && (from.IsZero() || e.After(from)) {
			lo, from = b, e
		}
		if l, ok := b.latest(); ok && (until.IsZero() || l.Before(until)) {
			hi, until = b, l
		}
	}
	if !from.After(until) {
		t := m.issueInstant
		if t.Before(from) {
			t = from
		}
		if t.After(until) {
			t = until
		}
		return t, nil
	}
	// lo starts after hi ends: lo is gap later than hi.
	gap := lo.at.Sub(hi.at)
	code := CodeNotYetValid
	if hi.kind == boundNotOnOrAfter || lo.name == "Response IssueInstant" {
		code = CodeExpired
	}
	e := newError(code, fmt.Sprintf("the response's %s (%s) is %s later than its %s (%s): the IdP's timestamps contradict each other by more than samlgate tolerates (%s), whatever this connection's clock skew (%s)",
		lo.name, fmtTime(lo.at), humanDuration(gap), hi.name, fmtTime(hi.at), lo.tolerance()+hi.tolerance(), c.skew))
	e.withHint(hintTimeBounds)
	return time.Time{}, e.mismatch(fmt.Sprintf("%s less than %s after %s", lo.name, lo.tolerance()+hi.tolerance(), hi.name), fmt.Sprintf("%s after", humanDuration(gap)))
}

// emptyWindow refuses a validity window that no clock can fall in, even
// with the connection's skew on both sides: it starts (start, named
// startName) more than twice the skew after it ends. That is the IdP
// contradicting itself, which the usual "expired" or "not yet valid"
// wording, about this server's clock, would hide.
func (c *Connection) emptyWindow(start, end time.Time, startName, endName string, now time.Time) *Error {
	gap := start.Sub(end)
	if gap < 2*c.skew {
		return nil
	}
	code := CodeExpired // issued after the assertion's validity ended
	if startName != "IssueInstant" && startName != "Response IssueInstant" {
		code = CodeNotYetValid // a NotBefore too late, rather than an end too early
	}
	e := newError(code, fmt.Sprintf("the response's validity window is empty: it starts (%s, %s) %s after it ends (%s, %s), more than this connection's clock skew (%s) bridges on both sides",
		startName, fmtTime(start), humanDuration(gap), endName, fmtTime(end), c.skew))
	e.withHint(hintTimeBounds)
	e.mismatch(fmt.Sprintf("a window from %s until %s, ± %s clock skew, that is not empty", startName, endName, c.skew), "clock "+fmtTime(now)).Now = now
	return e
}
