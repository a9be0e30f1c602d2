package saml

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
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
// The order is cheapest first: size, decoding, one guarded parse and the
// XML shape, then the signatures (goxmldsig, on that same parsed
// document) and the protocol checks on what they verified, then time,
// attribute and group policy, and the replay cache last, so that only
// assertions that would otherwise be accepted are recorded.
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

// read decodes and parses the form value once, with the guards, and
// inspects the document's shape against the current pin set.
func (c *Connection) read(ctx context.Context, samlResponse string) (*etree.Document, *pinSet, *message, *Error) {
	if len(samlResponse) > c.maxBytes {
		return nil, nil, nil, newError(CodeTooLarge, fmt.Sprintf("the SAMLResponse is %d bytes, over the limit of %d", len(samlResponse), c.maxBytes))
	}
	raw, err := decodeForm(samlResponse)
	if err != nil {
		return nil, nil, nil, newError(CodeMalformed, "the SAMLResponse is not base64").withCause(err)
	}
	doc, perr := parseGuarded(raw)
	if perr != nil {
		return nil, nil, nil, perr
	}
	ps, perr := c.pinsFor(ctx)
	if perr != nil {
		return nil, nil, nil, perr
	}
	m, perr := c.inspect(doc, ps)
	if perr != nil {
		return nil, nil, nil, perr
	}
	return doc, ps, m, nil
}

func (c *Connection) verify(ctx context.Context, samlResponse string, o *verifyOptions) (*Identity, *Error) {
	doc, ps, m, perr := c.read(ctx, samlResponse)
	if perr != nil {
		return nil, perr
	}
	now := c.now()
	// Timestamps that contradict each other by more than crewjam's
	// tolerances (the reference implementation) allow at any instant are
	// refused first, naming the two.
	if _, perr := c.crewjamClock(m); perr != nil {
		return nil, perr
	}
	ver, perr := c.verifySignatures(doc, m, ps, now)
	if perr != nil {
		return nil, perr
	}
	// From here on only the verified elements are read (verifySignatures);
	// an unsigned Response's own fields can only refuse.
	resp, signed := ver.response, true
	if resp == nil {
		resp, signed = doc.Root(), false
	}
	env, perr := c.checkResponse(resp, signed, m, o)
	if perr != nil {
		return nil, perr
	}
	a, perr := readVerifiedAssertion(ver.assertion)
	if perr != nil {
		return nil, perr
	}
	b, perr := c.checkAssertion(a, env, m, o)
	if perr != nil {
		return nil, perr
	}
	if err := c.checkCertificates(ver.used, now); err != nil {
		return nil, err
	}
	end, terr := c.checkTimes(a, b, env.issueInstant, now)
	if terr != nil {
		return nil, terr
	}
	id, ierr := c.identity(a, b)
	if ierr != nil {
		return nil, ierr
	}
	if err := c.replay.Consume(ctx, replayKey(c.cfg.IdPEntityID, a.id), end.Add(c.skew)); err != nil {
		if errors.Is(err, CodeReplayed) {
			return nil, newError(CodeReplayed, "the assertion "+a.id+" was already used").withCause(err)
		}
		return nil, newError(CodeUnavailable, "the replay cache failed").withCause(err)
	}
	return id, nil
}

// decodeForm decodes a SAMLResponse form value: standard base64, with the
// white space base64Binary allows. A browser posts it without white space,
// so it is decoded in one pass, and only a value that fails and holds white
// space is decoded again without it. A value whose first bytes are outside
// that alphabet is refused before anything is allocated: junk costs
// nothing, and base64 junk what one decoding pass costs.
func decodeForm(s string) ([]byte, error) {
	for i := range min(len(s), 64) {
		if !formBytes[s[i]] {
			return nil, base64.CorruptInputError(i)
		}
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil && strings.ContainsAny(s, " \t\r\n") {
		return base64.StdEncoding.DecodeString(stripSpace(s))
	}
	return raw, err
}

// formBytes are the bytes a form value may hold: the standard base64
// alphabet, padding, and XML white space.
var formBytes = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\n\r") {
		t[c] = true
	}
	return t
}()

// checkTimes judges the verified assertion, its bearer confirmation b and
// the Response's IssueInstant (verified when the Response is signed)
// against the real clock with the connection's skew, and returns the end of
// the assertion's validity (for the replay cache). The window is the
// intersection of every bound the IdP set.
func (c *Connection) checkTimes(a *assertionData, b *bearerData, responseIssueInstant, now time.Time) (time.Time, *Error) {
	start, startName := a.issueInstant, "IssueInstant"
	end, endName := a.issueInstant.Add(c.maxDelay), fmt.Sprintf("IssueInstant + MaxIssueDelay (%s)", c.maxDelay)
	if nb := a.notBefore; nb.After(start) {
		start, startName = nb, "Conditions NotBefore"
	}
	if noa := a.notOnOrAfter; !noa.IsZero() && noa.Before(end) {
		end, endName = noa, "Conditions NotOnOrAfter"
	}
	if !b.notBefore.IsZero() && b.notBefore.After(start) {
		start, startName = b.notBefore, "SubjectConfirmationData NotBefore"
	}
	if !b.notOnOrAfter.IsZero() && b.notOnOrAfter.Before(end) {
		end, endName = b.notOnOrAfter, "SubjectConfirmationData NotOnOrAfter"
	}
	// The replay cache keeps the assertion's ID for as long as the
	// assertion's own bounds allow: the Response around an assertion that
	// is signed alone is the sender's to change, and must not shorten that.
	replayEnd := end
	// The Response's IssueInstant is bounded like the assertion's, with this
	// connection's skew and MaxIssueDelay. It can only narrow the window.
	if ri := responseIssueInstant; !ri.IsZero() {
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
	for _, st := range a.authn {
		if sn := st.sessionNotOnOrAfter; !sn.IsZero() && !now.Before(sn.Add(c.skew)) {
			e := newError(CodeExpired, fmt.Sprintf("the IdP session ended %s ago (SessionNotOnOrAfter)", humanDuration(now.Sub(sn.Add(c.skew)))))
			e.mismatch(fmt.Sprintf("a session valid until after the clock, ± %s clock skew", c.skew), "SessionNotOnOrAfter "+fmtTime(sn)).Now = now
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
