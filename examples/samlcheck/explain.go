package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/saml"
)

// explain adds what the tool can tell beyond the *saml.Error, from the
// (unverified) response and the configuration. Nothing here changes the
// verdict.
func (v *verifier) explain(se *saml.Error, d *decoded) []string {
	cfg := v.conn.Config()
	var notes []string
	doc := parseResponse(d.value)
	if d.connection != "" && d.connection != cfg.Name && d.connection != connectionOf(destination(doc)) {
		notes = append(notes, fmt.Sprintf("The browser posted this response to connection %s (%s), and it is checked here against connection %s.", d.connection, d.postURL, cfg.Name))
	}
	return append(notes, v.codeNotes(cfg, se, doc)...)
}

// codeNotes are the notes for the error's code: what to look at, or the
// opt-in that relaxes the check.
func (v *verifier) codeNotes(cfg saml.ConnectionConfig, se *saml.Error, doc *etree.Document) []string {
	switch se.Code {
	case saml.CodeUntrustedCertificate:
		return v.untrustedCertificateNotes(doc)
	case saml.CodeSignatureInvalid:
		if cert := keyInfoCertificate(doc); cert != nil && isPinned(v.conn, cert) {
			return []string{"The response names a configured certificate (" + saml.Fingerprint(cert) + ") and still fails: its content was changed after signing, so the certificate is not the problem. Pretty-printing or re-indenting the XML does that: capture the base64 value or a HAR export rather than reformatted XML."}
		}
		return []string{"The response carries no certificate to compare: either its content was changed after signing, or another key signed it."}
	case saml.CodeWeakSignatureAlgorithm:
		return []string{"To check the rest of the response anyway, run samlcheck verify again with -allow-sha1 (allow_sha1: true in the gateway's file)."}
	case saml.CodeSignatureMissing:
		note := fmt.Sprintf("This connection's signature policy is %q (-signature here, signature: in the gateway's file).", cfg.Signature)
		if cfg.IdP == saml.IdPJumpCloud {
			note += " JumpCloud signs only the Assertion unless the app is set to sign the Response too."
		}
		return []string{note}
	case saml.CodeAudienceMismatch:
		return audienceNotes(cfg, se, doc)
	case saml.CodeDestinationMismatch, saml.CodeRecipientMismatch:
		if c := connectionOf(se.Actual); c != "" && c != cfg.Name {
			return []string{fmt.Sprintf("The response was addressed to connection %s, and this is connection %s: if that was intended, check it with that connection's settings (-config FILE -connection %s).", c, cfg.Name, c)}
		}
	case saml.CodeExpired, saml.CodeNotYetValid:
		return v.clockNotes(se, doc)
	case saml.CodeStatusNotSuccess:
		return statusNotes(doc)
	case saml.CodeReplayed:
		if file, ok := v.accepted[assertionID(doc)]; ok {
			return []string{fmt.Sprintf("The same assertion was accepted above, from %s: verify checks its files through one replay cache, as one server does.", file)}
		}
	case saml.CodeEmailNotVerified, saml.CodeEmailVerifiedInvalid:
		return []string{"Only if the IdP cannot send it and you vouch for its emails: -email-verified trust (email_verified: trust in the gateway's file)."}
	case saml.CodeEmailMissing:
		return []string{"Only if this IdP identifies users by an opaque NameID and your application keys accounts by (connection, subject): -email-optional (email_optional: true in the gateway's file)."}
	case saml.CodeGroupNotAllowed:
		return groupNotes(cfg, doc)
	case saml.CodeInResponseToMismatch:
		return []string{"Pass the ID of the AuthnRequest the login started with as -request-id ID; an IdP-initiated login (from the IdP's portal) has no InResponseTo."}
	case saml.CodeCertificateExpired:
		return []string{"To check the rest of the response anyway, pass -now with a time inside the certificate's validity."}
	}
	return nil
}

// untrustedCertificateNotes tell the carried certificate from the pinned
// ones: JumpCloud's share a subject, so only the fingerprint differs.
func (v *verifier) untrustedCertificateNotes(doc *etree.Document) []string {
	notes := []string{"expected: the SHA-256 fingerprint of each configured IdP certificate; found: the certificate the response carries in its signature's KeyInfo."}
	if cert := keyInfoCertificate(doc); cert != nil {
		for _, pinned := range pinnedCertificates(v.conn) {
			if pinned.Subject.String() == cert.Subject.String() {
				same := fmt.Sprintf("Both certificates have the subject %q", cert.Subject.String())
				if strings.Contains(cert.Subject.String(), "JumpCloudSAML") {
					same += " (JumpCloud gives every app's certificate that name)"
				}
				notes = append(notes, same+" but they hold different keys: only the fingerprint tells them apart.")
				break
			}
		}
		notes = append(notes, fmt.Sprintf("The response's certificate is valid from %s until %s; a regenerated certificate starts on the day it was regenerated.", day(cert.NotBefore), day(cert.NotAfter)))
	}
	return append(notes, "A certificate file's fingerprint: openssl x509 -noout -fingerprint -sha256 -in certificate.pem. Here, trust a certificate with -idp-cert FILE; in the gateway's file, with idp_certificate_files.")
}

// audienceNotes say when the response was meant for another connection of
// the same gateway, by its Destination or by its Audience's shape.
func audienceNotes(cfg saml.ConnectionConfig, se *saml.Error, doc *etree.Document) []string {
	if c := connectionOf(destination(doc)); c != "" && c != cfg.Name {
		return []string{fmt.Sprintf("The response's Destination names connection %s: the response may be meant for that connection rather than %s.", c, cfg.Name)}
	}
	if other := siblingEntityID(cfg.SPEntityID, se.Actual); other != "" {
		return []string{fmt.Sprintf("The Audience has the shape of this gateway's SP entity IDs but ends in %q instead of %q: the app's \"SP Entity ID\" is that of another connection.", other, lastSegment(cfg.SPEntityID))}
	}
	return nil
}

// clockNotes name the clock used and when the response was issued, and
// how to replay a capture with -now.
func (v *verifier) clockNotes(se *saml.Error, doc *etree.Document) []string {
	now := se.Now
	notes := []string{fmt.Sprintf("The clock used is %s (%s).", now.UTC().Format(time.RFC3339), v.clockSource)}
	if ii := issueInstant(doc); !ii.IsZero() {
		notes = append(notes, fmt.Sprintf("The response was issued at %s, %s.", ii.UTC().Format(time.RFC3339Nano), relative(ii, now)))
		if v.clockSource != "-now" {
			notes = append(notes, fmt.Sprintf("A captured response is accepted only for minutes: to replay it, pass the time of the capture, e.g. -now %s.", ii.UTC().Add(30*time.Second).Format(time.RFC3339)))
		}
	}
	return append(notes, "If this happened at a live login, compare the server's clock with NTP (timedatectl, chronyc tracking): one of the clocks is off by at least the amount above.")
}

// statusNotes quote the IdP's status message and say what its refusal codes
// usually mean.
func statusNotes(doc *etree.Document) []string {
	var notes []string
	if msg := statusMessage(doc); msg != "" {
		notes = append(notes, fmt.Sprintf("The IdP's status message: %q.", msg))
	}
	return append(notes, "Responder means the IdP refused; RequestDenied that it chose not to authenticate this user for this app, which is what an app the user is not bound to gets.")
}

// groupNotes put the connection's allowed groups next to the user's.
func groupNotes(cfg saml.ConnectionConfig, doc *etree.Document) []string {
	var notes []string
	if len(cfg.Groups.AllowedGroups) > 0 {
		notes = append(notes, "Allowed groups of this connection: "+strings.Join(cfg.Groups.AllowedGroups, ", ")+".")
	}
	if name, values := groupsAttribute(doc, cfg.Groups.AttributeNames); name != "" {
		notes = append(notes, fmt.Sprintf("The user's groups, from the attribute %s: %s.", name, orNone(strings.Join(values, ", "))))
	}
	return notes
}

// siblingEntityID returns the last segment of actual when it differs from
// expected only there: urn:samlgate:globex against urn:samlgate:acme.
func siblingEntityID(expected, actual string) string {
	i := strings.LastIndexAny(expected, ":/")
	j := strings.LastIndexAny(actual, ":/")
	if i < 0 || j < 0 || expected[:i] != actual[:j] || actual[j+1:] == "" {
		return ""
	}
	return actual[j+1:]
}

func lastSegment(s string) string { return s[strings.LastIndexAny(s, ":/")+1:] }
