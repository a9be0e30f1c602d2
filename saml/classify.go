package saml

import (
	"slices"
	"strings"
)

// issuerError names the Issuer that is not the configured IdP entity ID:
// the Response's when it differs, else the Assertion's.
func (c *Connection) issuerError(m *message) *Error {
	actual := m.responseIssuer
	if actual == "" || actual == c.cfg.IdPEntityID {
		actual = m.assertionIssuer
	}
	return newError(CodeIssuerMismatch, "the response comes from another IdP entity ID").mismatch(c.cfg.IdPEntityID, actual)
}

// whichSignature says which of two signatures failed, when the response
// carries both: the Response's is checked first, and when it fails the
// Assertion's own result (checked for the diagnosis only,
// diagnoseAssertion) tells an altered Response from an altered Assertion.
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
	return ""
}

// The elements a login assertion must have, each with its own error.
func errNoSubject() *Error {
	return newError(CodeMalformed, "the assertion has no Subject: it does not say who logged in")
}

func errNoConditions() *Error {
	return newError(CodeMalformed, "the assertion has no Conditions: it is not restricted to this service provider (no Audience)")
}

func errNoBearer() *Error {
	return newError(CodeMalformed, "the assertion has no bearer SubjectConfirmation: samlgate accepts the Web Browser SSO profile's bearer assertions only")
}

func errBearerWithoutData() *Error {
	return newError(CodeMalformed, "the assertion's bearer SubjectConfirmation has no SubjectConfirmationData (Recipient, NotOnOrAfter)")
}

func errNoAuthnStatement() *Error {
	e := newError(CodeMalformed, "the assertion has no AuthnStatement: it does not say that, or how, the user authenticated, so it is not a login")
	e.withHint(hintAuthnStatementMissing)
	return e.mismatch("an AuthnStatement in the Assertion", "(none)")
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
