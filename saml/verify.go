package saml

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// maxQuoted bounds a value from the message quoted in an error.
const maxQuoted = 256

const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	statusOK    = "urn:oasis:names:tc:SAML:2.0:status:Success"
	bearer      = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// VerifyOption adjusts one Verify call.
type VerifyOption func(*verifyOptions)

type verifyOptions struct {
	requestIDs []string
}

// WithRequestIDs passes the IDs of the AuthnRequests this user has pending.
// A response with an InResponseTo must answer one of them; a response
// without one is IdP-initiated and accepted unless the connection disables
// IdP-initiated logins.
func WithRequestIDs(ids ...string) VerifyOption {
	return func(o *verifyOptions) { o.requestIDs = append(o.requestIDs, ids...) }
}

// Verify checks a SAMLResponse form value (base64, as the browser POSTs it
// to the ACS) and returns the identity it proves. Every refusal is an
// *Error; see the Code constants.
//
// The order is cheapest first: size, decoding, XML shape, then the
// signature and protocol checks of crewjam/saml, then time, attribute and
// group policy, and the replay cache last, so that only assertions that
// would otherwise be accepted are recorded.
func (c *Connection) Verify(ctx context.Context, samlResponse string, opts ...VerifyOption) (*Identity, error) {
	var o verifyOptions
	for _, opt := range opts {
		opt(&o)
	}
	id, err := c.verify(ctx, samlResponse, &o)
	if err != nil {
		err.Connection = c.cfg.Name
		err.localize(c.idp)
		// Actual (and some messages) quote the unverified message: bound
		// them, so that an unauthenticated POST cannot write a megabyte
		// into every log line that prints the error.
		err.Actual = truncate(err.Actual, maxQuoted)
		err.Message = truncate(err.Message, 2*maxQuoted)
		return nil, err
	}
	return id, nil
}

func (c *Connection) verify(ctx context.Context, samlResponse string, o *verifyOptions) (*Identity, *Error) {
	if len(samlResponse) > c.maxBytes {
		return nil, newError(CodeTooLarge, fmt.Sprintf("the SAMLResponse is %d bytes, over the limit of %d", len(samlResponse), c.maxBytes))
	}
	raw, err := base64.StdEncoding.DecodeString(stripSpace(samlResponse))
	if err != nil {
		return nil, newError(CodeMalformed, "the SAMLResponse is not base64").withCause(err)
	}
	doc, perr := parseGuarded(raw)
	if perr != nil {
		return nil, perr
	}
	ps, perr := c.pinsFor(ctx)
	if perr != nil {
		return nil, perr
	}
	m, perr := c.inspect(doc, ps)
	if perr != nil {
		return nil, perr
	}

	now := c.now()
	// crewjam's time checks use package-wide skew settings. To give each
	// connection its own skew without touching those globals, crewjam
	// judges the message at an instant where its own checks pass (its
	// IssueInstant, normally), and checkTimes below judges every time
	// bound of the verified assertion at the real clock.
	at, perr := c.crewjamClock(m)
	if perr != nil {
		return nil, perr
	}
	v := &trackingVerifier{sigVerifier: sigVerifier{pins: ps.pins, prefer: m.named}}
	sp := ps.sp // a copy: the clock and verifier are per call
	sp.Clock = dsig.NewFakeClockAt(at)
	sp.SignatureVerifier = v
	if c.cfg.DisableIdPInitiated {
		sp.AllowIDPInitiated = false
	}
	a, err := sp.ParseXMLResponse(raw, o.requestIDs, c.acsURL)
	if err != nil {
		if errors.Is(err, crewjam.ErrInvalidSignature) {
			c.diagnoseSignatures(v, m, ps, at)
		}
		return nil, c.classify(err, m, o, ps)
	}

	if err := c.checkCertificates(v.used, now); err != nil {
		return nil, err
	}
	end, terr := c.checkTimes(a, m, now)
	if terr != nil {
		return nil, terr
	}
	id, ierr := c.identity(a, m)
	if ierr != nil {
		return nil, ierr
	}
	if err := c.replay.Consume(ctx, replayKey(c.cfg.IdPEntityID, a.ID), end.Add(c.skew)); err != nil {
		if errors.Is(err, CodeReplayed) {
			return nil, newError(CodeReplayed, "the assertion "+a.ID+" was already used").withCause(err)
		}
		return nil, newError(CodeUnavailable, "the replay cache failed").withCause(err)
	}
	return id, nil
}

// trackingVerifier is the connection's sigVerifier, remembering which
// element crewjam asked it to verify last: crewjam checks the Response's
// signature, then the Assertion's, and stops at the first that fails, so
// after ErrInvalidSignature the last element is the one that failed (its
// signature, or the Reference crewjam checks after it).
type trackingVerifier struct {
	sigVerifier
	last string
}

func (t *trackingVerifier) VerifySignature(vc *dsig.ValidationContext, el *etree.Element) error {
	_, err := t.VerifySignedElement(vc, el)
	return err
}

func (t *trackingVerifier) VerifySignedElement(vc *dsig.ValidationContext, el *etree.Element) (*etree.Element, error) {
	t.last = el.Tag
	return t.sigVerifier.VerifySignedElement(vc, el)
}

// diagnoseSignatures records, for the error message, which signature
// failed and, when the Response's failed while the Assertion is signed
// too, whether the Assertion's own signature verifies: that tells a
// response altered outside the assertion (a proxy, a capture tool) from
// an altered assertion. It only runs on a refused response and decides
// nothing: the response is refused whatever it finds.
//
// The Assertion is checked as crewjam checks it: detached from the
// Response with every namespace declaration in scope. goxmldsig copies the
// element it is given without its ancestors' declarations, so the
// Assertion in place, whose saml2 prefix the Response may declare, would
// canonicalize without it and never verify.
func (c *Connection) diagnoseSignatures(v *trackingVerifier, m *message, ps *pinSet, at time.Time) {
	m.failedSignature = v.last
	if v.last != "Response" || !m.assertionSigned {
		return
	}
	m.assertionSignatureOK = sigInvalid
	a, err := detach(m.assertion)
	if err != nil {
		// crewjam's own detaching would fail alike: to crewjam the
		// Assertion's signature does not verify either.
		return
	}
	vc := dsig.NewDefaultValidationContext(nil)
	vc.IdAttribute = "ID"
	vc.Clock = dsig.NewFakeClockAt(at)
	check := &sigVerifier{pins: ps.pins, prefer: m.named}
	if _, err := check.VerifySignedElement(vc, a); err == nil {
		m.assertionSignatureOK = sigValid
	}
}

// detach returns a copy of el that declares every namespace in scope at
// el, as crewjam hands a signed element to the SignatureVerifier.
func detach(el *etree.Element) (*etree.Element, error) {
	ctx, err := scopeOf(el.Parent())
	if err != nil {
		return nil, err
	}
	return etreeutils.NSDetatch(ctx, el)
}

// scopeOf is the namespace context inside el: etreeutils'
// NSBuildParentContext and SubContext, without the node budget of the
// default context, which NSDetatch would spend on the detached element's
// descendants (an assertion listing a thousand groups exceeds it); crewjam
// detaches without it too. The message's size and depth are bounded
// already (MaxResponseBytes, parseGuarded).
func scopeOf(el *etree.Element) (etreeutils.NSContext, error) {
	if el == nil {
		return etreeutils.EmptyNSContext, nil
	}
	ctx, err := scopeOf(el.Parent())
	if err != nil {
		return ctx, err
	}
	return ctx.SubContext(el)
}

// checkTimes judges the verified assertion, and the Response's
// IssueInstant, against the real clock with the connection's skew, and
// returns the end of the assertion's validity (for the replay cache). The
// window is the intersection of every bound the IdP set.
func (c *Connection) checkTimes(a *crewjam.Assertion, m *message, now time.Time) (time.Time, *Error) {
	start, startName := a.IssueInstant, "IssueInstant"
	end, endName := a.IssueInstant.Add(c.maxDelay), fmt.Sprintf("IssueInstant + MaxIssueDelay (%s)", c.maxDelay)
	if nb := a.Conditions.NotBefore; nb.After(start) {
		start, startName = nb, "Conditions NotBefore"
	}
	if noa := a.Conditions.NotOnOrAfter; !noa.IsZero() && noa.Before(end) {
		end, endName = noa, "Conditions NotOnOrAfter"
	}
	scd, perr := c.bearerData(a)
	if perr != nil {
		return end, perr
	}
	if scd != nil {
		if !scd.NotBefore.IsZero() && scd.NotBefore.After(start) {
			start, startName = scd.NotBefore, "SubjectConfirmationData NotBefore"
		}
		if !scd.NotOnOrAfter.IsZero() && scd.NotOnOrAfter.Before(end) {
			end, endName = scd.NotOnOrAfter, "SubjectConfirmationData NotOnOrAfter"
		}
	}
	// The replay cache keeps the assertion's ID for as long as the
	// assertion's own bounds allow: the Response around an assertion that
	// is signed alone is the sender's to change, and must not shorten that.
	replayEnd := end
	// The Response's IssueInstant is bounded like the assertion's, with this
	// connection's skew and MaxIssueDelay: crewjam checked it with its own,
	// wider, tolerances at the instant crewjamClock chose. It is the value
	// inspect read (the one crewjam reads, signed when the Response is), and
	// can only narrow the window.
	if ri := m.responseIssueInstant; !ri.IsZero() {
		if ri.After(start) {
			start, startName = ri, "Response IssueInstant"
		}
		if re := ri.Add(c.maxDelay); re.Before(end) {
			end, endName = re, fmt.Sprintf("Response IssueInstant + MaxIssueDelay (%s)", c.maxDelay)
		}
	}
	if e := c.emptyWindow(start, end, startName, endName, now); e != nil {
		return replayEnd, e
	}
	// A session that the IdP says is already over must not start here.
	for _, st := range a.AuthnStatements {
		if st.SessionNotOnOrAfter != nil && !now.Before(st.SessionNotOnOrAfter.Add(c.skew)) {
			e := newError(CodeExpired, fmt.Sprintf("the IdP session ended %s ago (SessionNotOnOrAfter)", humanDuration(now.Sub(st.SessionNotOnOrAfter.Add(c.skew)))))
			e.mismatch(fmt.Sprintf("a session valid until after the clock, ± %s clock skew", c.skew), "SessionNotOnOrAfter "+fmtTime(*st.SessionNotOnOrAfter)).Now = now
			return replayEnd, e
		}
	}
	window := fmt.Sprintf("from %s until %s, ± %s clock skew", fmtTime(start), fmtTime(end), c.skew)
	switch {
	case now.Before(start.Add(-c.skew)):
		e := newError(CodeNotYetValid, fmt.Sprintf("the response becomes valid only in %s: this server's clock is behind the IdP's", humanDuration(start.Add(-c.skew).Sub(now))))
		e.mismatch(window, "clock "+fmtTime(now)).Now = now
		return replayEnd, e
	case !now.Before(end.Add(c.skew)):
		e := newError(CodeExpired, fmt.Sprintf("the response expired %s ago", humanDuration(now.Sub(end.Add(c.skew)))))
		e.mismatch(window, "clock "+fmtTime(now)).Now = now
		return replayEnd, e
	}
	return replayEnd, nil
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// bearerData is the bearer SubjectConfirmationData crewjam accepted. An
// assertion with several bearer confirmations is refused: crewjam accepts
// it when any one is valid, and the identity's InResponseTo and time
// bounds must come from that same one, which only a single one guarantees.
// Every IdP we know sends exactly one.
func (c *Connection) bearerData(a *crewjam.Assertion) (*crewjam.SubjectConfirmationData, *Error) {
	if a.Subject == nil {
		return nil, nil
	}
	var found *crewjam.SubjectConfirmationData
	bearers := 0
	for _, sc := range a.Subject.SubjectConfirmations {
		if sc.Method != bearer {
			continue
		}
		// Counted whether or not it has data: crewjam skips one without
		// and accepts the next.
		if bearers++; bearers > 1 {
			return nil, newError(CodeMalformed, "the assertion has more than one bearer SubjectConfirmation")
		}
		found = sc.SubjectConfirmationData
	}
	return found, nil
}

// humanDuration rounds to the second, and counts days past two of them:
// "317d9h" reads better than "7617h3m44s" for a capture replayed later.
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 48*time.Hour {
		return d.String()
	}
	days := d / (24 * time.Hour)
	return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
}

// replayKey names an assertion in a (possibly shared) replay cache. The
// issuer is length-prefixed so that no issuer and ID pair can spell
// another's key ("urn:a" + "b:c" vs "urn:a:b" + "c").
func replayKey(issuer, assertionID string) string {
	return fmt.Sprintf("samlgate:assertion:%d:%s:%s", len(issuer), issuer, assertionID)
}
