package saml

import (
	"errors"
	"slices"
	"strings"

	crewjam "github.com/crewjam/saml"
)

// classify turns crewjam's error into an *Error with the values an admin
// needs. crewjam's Error() is always "Authentication failed"; its
// sentinels say which check failed, and the unverified message says what
// value was found.
func (c *Connection) classify(err error, m *message, o *verifyOptions, ps *pinSet) *Error {
	var e *Error
	var status crewjam.ErrBadStatus
	switch {
	case errors.As(err, &status):
		e = newError(CodeStatusNotSuccess, "the IdP answered with an error status")
		e.Actual = status.Status
	case errors.Is(err, crewjam.ErrUntrustedCertificate):
		e = newError(CodeUntrustedCertificate, "the response is not signed by a trusted certificate").mismatch(ps.fingerprints(), "")
	case errors.Is(err, crewjam.ErrInvalidSignature):
		e = newError(CodeSignatureInvalid, "the signature does not verify against the configured IdP certificate (the message was altered, or signed by another key)")
		if len(m.named) > 0 {
			e.Message = "the signature does not verify although the response names a configured certificate: the response was altered after the IdP signed it"
			e.withHint(hintSignatureAltered)
		}
		if which := whichSignature(m); which != "" {
			e.Message = which
		}
	case errors.Is(err, crewjam.ErrIssuerMismatch):
		actual := m.responseIssuer
		if actual == "" || actual == c.cfg.IdPEntityID {
			actual = m.assertionIssuer
		}
		e = newError(CodeIssuerMismatch, "the response comes from another IdP entity ID").mismatch(c.cfg.IdPEntityID, actual)
	case errors.Is(err, crewjam.ErrAudienceMismatch):
		e = c.audienceError(m)
	case errors.Is(err, crewjam.ErrDestinationMismatch):
		e = c.urlError(m)
	case errors.Is(err, crewjam.ErrRequestIDMismatch):
		e = c.inResponseToError(m, o)
	case errors.Is(err, crewjam.ErrExpired):
		// crewjamClock chose an instant at which crewjam's time checks pass
		// on the message as inspect read it, so this is a signed value that
		// differs from it: nothing an IdP sends.
		e = newError(CodeExpired, "the response's signed time bounds are inconsistent").withHint(hintTimeBounds)
	case errors.Is(err, crewjam.ErrNotYetValid):
		e = newError(CodeNotYetValid, "the response's signed time bounds are inconsistent").withHint(hintTimeBounds)
	case errors.Is(err, crewjam.ErrUnsupported):
		e = newError(CodeUnsupported, "the response uses a feature samlgate does not accept")
	case errors.Is(err, crewjam.ErrMissingElement):
		e = missingElementError(m)
	default:
		e = newError(CodeMalformed, "the response is not a valid SAML 2.0 login response")
	}
	return e.withCause(withoutResponse(err))
}

// withoutResponse returns the reason crewjam refused a response without
// the InvalidResponseError around it, whose exported Response field is the
// whole response XML (emails, names, groups): an *Error is logged and
// encoded whole, and must not carry the assertion. The reason still
// matches crewjam's sentinels with errors.Is.
func withoutResponse(err error) error {
	var ire *crewjam.InvalidResponseError
	switch {
	case !errors.As(err, &ire):
		return err
	case ire.PrivateErr == nil:
		return errors.New(ire.Error()) // no reason inside: only what it says
	}
	return ire.PrivateErr
}

// whichSignature says which of two signatures failed, when the response
// carries both: crewjam checks the Response's first and stops there, so
// the Assertion's own result (checked by verify for the diagnosis only)
// tells an altered Response from an altered Assertion.
func whichSignature(m *message) string {
	if !m.responseSigned || !m.assertionSigned {
		return ""
	}
	cause := "the message was altered, or signed by another key"
	if len(m.named) > 0 {
		cause = "it names a configured certificate, so it was altered after the IdP signed it"
	}
	switch m.failedSignature {
	case "Response":
		// diagnoseSignatures checked the Assertion's signature: both are
		// signed here.
		if m.assertionSignatureOK == sigValid {
			return "the Response's signature does not verify, while the Assertion's own signature does: the response was altered outside the Assertion after the IdP signed it, or its Response signature was made with another key"
		}
		return "neither the Response's signature nor the Assertion's verifies: " + cause
	case "Assertion":
		return "the Response's signature verifies, but the Assertion's own signature does not: " + cause
	}
	// crewjam refused before asking for either signature.
	return ""
}

// missingElementError names the element of the assertion crewjam found
// missing, in the order crewjam looks for them, and where to turn it on.
func missingElementError(m *message) *Error {
	switch {
	case !m.hasSubject:
		return newError(CodeMalformed, "the assertion has no Subject: it does not say who logged in")
	case !m.hasConditions:
		return newError(CodeMalformed, "the assertion has no Conditions: it is not restricted to this service provider (no Audience)")
	case m.bearers == 0:
		return newError(CodeMalformed, "the assertion has no bearer SubjectConfirmation: samlgate accepts the Web Browser SSO profile's bearer assertions only")
	case m.bearerWithoutData:
		return newError(CodeMalformed, "the assertion's bearer SubjectConfirmation has no SubjectConfirmationData (Recipient, NotOnOrAfter)")
	case !m.hasAuthnStatement:
		e := newError(CodeMalformed, "the assertion has no AuthnStatement: it does not say that, or how, the user authenticated, so it is not a login")
		e.withHint(hintAuthnStatementMissing)
		return e.mismatch("an AuthnStatement in the Assertion", "(none)")
	}
	return newError(CodeMalformed, "the response lacks an element a login response requires")
}

// urlMismatchMessage recognises the usual ways the ACS URL is mistyped.
func urlMismatchMessage(what, expected, actual string) string {
	switch {
	case actual == "":
		return "the response has no " + what
	case strings.Contains(expected, "?") && actual == expected[:strings.IndexByte(expected, '?')]:
		return "the " + what + " lacks the ?connection= query: the ACS URL in the IdP must include it"
	case strings.Contains(actual, "connection=") && strings.Contains(expected, "connection="):
		return "the " + what + " is the ACS URL of another connection"
	}
	return "the " + what + " is not this connection's ACS URL"
}

// siblingID reports whether two entity IDs differ only in their last
// segment (urn:samlgate:acme vs urn:samlgate:globex): the signature of a
// response meant for another connection of the same service.
func siblingID(a, b string) bool {
	cut := func(s string) string {
		if i := strings.LastIndexAny(s, ":/"); i >= 0 {
			return s[:i+1]
		}
		return ""
	}
	p := cut(a)
	return a != b && p != "" && p == cut(b)
}

// audienceError recognises the usual ways the SP Entity ID is mistyped.
func (c *Connection) audienceError(m *message) *Error {
	actual := strings.Join(m.audiences, ", ")
	e := newError(CodeAudienceMismatch, "the assertion is meant for another service provider")
	switch {
	case strings.HasPrefix(actual, "https://sso.jumpcloud.com/") || actual == c.cfg.IdPEntityID || actual == c.cfg.IdPSSOURL:
		e.Message = "the assertion's audience is the IdP's own URL: the IdP URL was pasted where the SP Entity ID belongs"
	case siblingID(c.cfg.SPEntityID, actual):
		e.Message = "the assertion's audience is the SP entity ID of another connection: the response was meant for another connection, or the SP Entity ID in the IdP app names the wrong one"
	}
	return e.mismatch(c.cfg.SPEntityID, actual)
}

// urlError says whether the Destination or a Recipient is wrong. An
// absent Destination is allowed on an unsigned Response (inspect refuses
// it on a signed one), so then the Recipient is what failed.
func (c *Connection) urlError(m *message) *Error {
	acs := c.acsURL.String()
	if m.destination != "" && m.destination != acs {
		return newError(CodeDestinationMismatch, urlMismatchMessage("Destination", acs, m.destination)).mismatch(acs, m.destination)
	}
	actual := strings.Join(m.recipients, ", ")
	for _, r := range m.recipients {
		if r != acs {
			actual = r
			break
		}
	}
	return newError(CodeRecipientMismatch, urlMismatchMessage("Recipient", acs, actual)).mismatch(acs, actual)
}

// inResponseToError tells a foreign request, an assertion issued for
// another login, and an IdP-initiated login on a connection that refuses
// them apart.
func (c *Connection) inResponseToError(m *message, o *verifyOptions) *Error {
	expected := strings.Join(o.requestIDs, ", ")
	if expected == "" {
		expected = "no InResponseTo (no login request pending)"
	}
	e := newError(CodeInResponseToMismatch, "the response answers a login request this server did not make").mismatch(expected, m.inResponseTo)
	if m.inResponseTo != "" && slices.Contains(o.requestIDs, m.inResponseTo) {
		// The Response names a pending request, so the signed assertion's
		// own InResponseTo is what failed.
		e.Message = "the assertion's own InResponseTo (in its SubjectConfirmationData) does not answer the request the Response names: the assertion was issued for another login"
		e.mismatch(m.inResponseTo, strings.Join(m.assertionInResponseTo, ", "))
	}
	if m.inResponseTo == "" && c.cfg.DisableIdPInitiated {
		e.Message = "the response has no InResponseTo (an IdP-initiated login), and this connection accepts only logins it started"
		e.withHint(hintIdPInitiatedRefused)
		expected = "the ID of a pending login request"
		if len(o.requestIDs) > 0 {
			expected = strings.Join(o.requestIDs, ", ")
		}
		e.mismatch(expected, "")
	}
	return e
}
