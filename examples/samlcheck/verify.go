package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
)

// diagnosis is why a file was rejected: a *saml.Error, with notes the tool
// adds from what it can see in the response.
type diagnosis struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	// Hint names the console step that fixes it; for a verification error
	// it is always the *saml.Error's Hint.
	Hint string `json:"hint"`
	// Notes explain the values further (which certificate, which
	// connection, the clock); they never repeat the response's secrets.
	Notes []string `json:"notes,omitempty"`
}

func inputError(code, msg, hint string) *diagnosis {
	return &diagnosis{Code: code, Message: msg, Hint: hint}
}

// fileResult is one line of verify -json.
type fileResult struct {
	File     string        `json:"file,omitempty"`
	Form     string        `json:"form,omitempty"`
	OK       bool          `json:"ok"`
	Identity *identityJSON `json:"identity,omitempty"`
	Error    *diagnosis    `json:"error,omitempty"`
}

// identityJSON is the identity of verify -json: the JSON of saml.Identity,
// with the attributes added (saml.Identity leaves them out of its JSON).
type identityJSON struct {
	*saml.Identity
	// Attributes maps each attribute name to its values, as received.
	Attributes map[string][]string `json:"attributes"`
}

func newIdentityJSON(id *saml.Identity) *identityJSON {
	return &identityJSON{Identity: id, Attributes: id.Attributes.Map()}
}

func cmdVerify(e *env, args []string) int {
	fs := newFlagSet("verify")
	var cf connFlags
	cf.register(fs)
	var now timeFlag
	var requestIDs listFlag
	fs.Var(&now, "now", "")
	fs.Var(&requestIDs, "request-id", "")
	fs.BoolVar(&e.json, "json", e.json, "")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return e.usageError(err, "")
	}
	if len(files) == 0 {
		return e.usageError(errors.New("verify needs at least one FILE (- for stdin)"), "")
	}
	cfg, err := cf.build(fs, true)
	if err != nil {
		return e.configFailure(err)
	}
	clock, clockSource := now.clock()
	conn, err := newConnection(e, cfg, clock)
	if err != nil {
		return e.configFailure(err)
	}
	inputs, err := readInputs(files, e.stdin)
	if err != nil {
		return e.usageError(err, "")
	}

	v := &verifier{conn: conn, clockSource: clockSource, requestIDs: requestIDs, accepted: map[string]string{}}
	if !e.json {
		v.describe = func(file, description string) {
			fmt.Fprintf(e.stderr, "samlcheck: %s: found %s\n", file, description)
		}
	}
	status := exitOK
	for _, in := range inputs {
		res := v.verify(context.Background(), in)
		if !res.OK {
			status = exitRejected
		}
		if e.json {
			writeJSON(e.stdout, res)
		} else {
			printResult(e.stdout, res)
		}
	}
	return status
}

// verifier checks files through one connection.
type verifier struct {
	conn        *saml.Connection
	clockSource string
	requestIDs  []string
	// accepted maps the ID of each assertion accepted so far to its file.
	accepted map[string]string
	// describe, if set, receives the form found in each file.
	describe func(file, description string)
}

func (v *verifier) verify(ctx context.Context, in input) fileResult {
	res := fileResult{File: in.name}
	cfg := v.conn.Config()
	maxPlain := max(maxInputBytes, cfg.MaxResponseBytes)
	d, derr := decodeInput(in, maxPlain)
	if derr != nil {
		if d != nil {
			res.Form = d.form
		}
		res.Error = derr
		return res
	}
	res.Form = d.form
	if v.describe != nil {
		v.describe(in.name, d.description)
	}
	id, err := v.conn.Verify(ctx, d.value, saml.WithRequestIDs(v.requestIDs...))
	if err != nil {
		var se *saml.Error
		if !errors.As(err, &se) {
			res.Error = &diagnosis{Code: string(saml.CodeMalformed), Message: err.Error()}
			return res
		}
		res.Error = &diagnosis{Code: string(se.Code), Message: se.Message, Expected: se.Expected, Actual: se.Actual, Hint: se.Hint}
		res.Error.Notes = v.explain(se, d)
		return res
	}
	v.accepted[id.AssertionID] = in.name
	res.OK = true
	res.Identity = newIdentityJSON(id)
	return res
}

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
	switch se.Code {
	case saml.CodeUntrustedCertificate:
		notes = append(notes, "expected: the SHA-256 fingerprint of each configured IdP certificate; found: the certificate the response carries in its signature's KeyInfo.")
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
		notes = append(notes, "A certificate file's fingerprint: openssl x509 -noout -fingerprint -sha256 -in certificate.pem. Here, trust a certificate with -idp-cert FILE; in the gateway's file, with idp_certificate_files.")
	case saml.CodeSignatureInvalid:
		if cert := keyInfoCertificate(doc); cert != nil && isPinned(v.conn, cert) {
			notes = append(notes, "The response names a configured certificate ("+saml.Fingerprint(cert)+") and still fails: its content was changed after signing, so the certificate is not the problem. Pretty-printing or re-indenting the XML does that: capture the base64 value or a HAR export rather than reformatted XML.")
		} else {
			notes = append(notes, "The response carries no certificate to compare: either its content was changed after signing, or another key signed it.")
		}
	case saml.CodeWeakSignatureAlgorithm:
		notes = append(notes, "To check the rest of the response anyway, run samlcheck verify again with -allow-sha1 (allow_sha1: true in the gateway's file).")
	case saml.CodeSignatureMissing:
		note := fmt.Sprintf("This connection's signature policy is %q (-signature here, signature: in the gateway's file).", cfg.Signature)
		if cfg.IdP == saml.IdPJumpCloud {
			note += " JumpCloud signs only the Assertion unless the app is set to sign the Response too."
		}
		notes = append(notes, note)
	case saml.CodeAudienceMismatch:
		if c := connectionOf(destination(doc)); c != "" && c != cfg.Name {
			notes = append(notes, fmt.Sprintf("The response's Destination names connection %s: the response may be meant for that connection rather than %s.", c, cfg.Name))
		} else if other := siblingEntityID(cfg.SPEntityID, se.Actual); other != "" {
			notes = append(notes, fmt.Sprintf("The Audience has the shape of this gateway's SP entity IDs but ends in %q instead of %q: the app's \"SP Entity ID\" is that of another connection.", other, lastSegment(cfg.SPEntityID)))
		}
	case saml.CodeDestinationMismatch, saml.CodeRecipientMismatch:
		if c := connectionOf(se.Actual); c != "" && c != cfg.Name {
			notes = append(notes, fmt.Sprintf("The response was addressed to connection %s, and this is connection %s: if that was intended, check it with that connection's settings (-config FILE -connection %s).", c, cfg.Name, c))
		}
	case saml.CodeExpired, saml.CodeNotYetValid:
		now := se.Now
		notes = append(notes, fmt.Sprintf("The clock used is %s (%s).", now.UTC().Format(time.RFC3339), v.clockSource))
		if ii := issueInstant(doc); !ii.IsZero() {
			notes = append(notes, fmt.Sprintf("The response was issued at %s, %s.", ii.UTC().Format(time.RFC3339Nano), relative(ii, now)))
			if v.clockSource != "-now" {
				notes = append(notes, fmt.Sprintf("A captured response is accepted only for minutes: to replay it, pass the time of the capture, e.g. -now %s.", ii.UTC().Add(30*time.Second).Format(time.RFC3339)))
			}
		}
		notes = append(notes, "If this happened at a live login, compare the server's clock with NTP (timedatectl, chronyc tracking): one of the clocks is off by at least the amount above.")
	case saml.CodeStatusNotSuccess:
		if msg := statusMessage(doc); msg != "" {
			notes = append(notes, fmt.Sprintf("The IdP's status message: %q.", msg))
		}
		notes = append(notes, "Responder means the IdP refused; RequestDenied that it chose not to authenticate this user for this app, which is what an app the user is not bound to gets.")
	case saml.CodeReplayed:
		if file, ok := v.accepted[assertionID(doc)]; ok {
			notes = append(notes, fmt.Sprintf("The same assertion was accepted above, from %s: verify checks its files through one replay cache, as one server does.", file))
		}
	case saml.CodeEmailNotVerified, saml.CodeEmailVerifiedInvalid:
		notes = append(notes, "Only if the IdP cannot send it and you vouch for its emails: -email-verified trust (email_verified: trust in the gateway's file).")
	case saml.CodeEmailMissing:
		notes = append(notes, "Only if this IdP identifies users by an opaque NameID and your application keys accounts by (connection, subject): -email-optional (email_optional: true in the gateway's file).")
	case saml.CodeGroupNotAllowed:
		if len(cfg.Groups.AllowedGroups) > 0 {
			notes = append(notes, "Allowed groups of this connection: "+strings.Join(cfg.Groups.AllowedGroups, ", ")+".")
		}
		if name, values := groupsAttribute(doc, cfg.Groups.AttributeNames); name != "" {
			notes = append(notes, fmt.Sprintf("The user's groups, from the attribute %s: %s.", name, orNone(strings.Join(values, ", "))))
		}
	case saml.CodeInResponseToMismatch:
		notes = append(notes, "Pass the ID of the AuthnRequest the login started with as -request-id ID; an IdP-initiated login (from the IdP's portal) has no InResponseTo.")
	case saml.CodeCertificateExpired:
		notes = append(notes, "To check the rest of the response anyway, pass -now with a time inside the certificate's validity.")
	}
	return notes
}

// printResult writes the result for people.
func printResult(w io.Writer, res fileResult) {
	if res.OK {
		id := res.Identity
		fmt.Fprintf(w, "%s: accepted\n", res.File)
		line := func(label, value string) { fmt.Fprintf(w, "  %-15s %s\n", label+":", value) }
		subject := id.Subject
		if id.SubjectFormat != "" {
			subject += " (" + id.SubjectFormat + ")"
		}
		line("subject", subject)
		line("email", emailLine(id.Identity))
		line("given name", orNone(id.GivenName))
		line("family name", orNone(id.FamilyName))
		if id.DisplayName != "" {
			line("display name", id.DisplayName)
		}
		line("groups", orNone(strings.Join(id.Groups, ", ")))
		line("roles", orNone(strings.Join(id.Roles, ", ")))
		line("issuer", id.Issuer)
		line("connection", id.Connection)
		line("session index", orNone(id.SessionIndex))
		if id.InResponseTo != "" {
			line("in response to", id.InResponseTo)
		}
		names := make([]string, 0, len(id.Attributes))
		for n := range id.Attributes {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) == 0 {
			line("attributes", "(none)")
		} else {
			fmt.Fprintf(w, "  attributes:\n")
		}
		for _, n := range names {
			fmt.Fprintf(w, "    %s = %s\n", n, strings.Join(id.Attributes[n], " | "))
		}
		return
	}
	d := res.Error
	fmt.Fprintf(w, "%s: rejected: %s\n", res.File, d.Code)
	fmt.Fprintf(w, "  %s\n", d.Message)
	if d.Expected != "" {
		fmt.Fprintf(w, "  expected: %s\n", d.Expected)
	}
	if d.Actual != "" {
		fmt.Fprintf(w, "  found:    %s\n", d.Actual)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(w, "  note:     %s\n", n)
	}
	if d.Hint != "" {
		fmt.Fprintf(w, "  hint:     %s\n", d.Hint)
	}
}

// emailLine is the email and who vouched for it: the IdP, or only this
// connection's configuration (email_verified: trust), which must not read
// as if the IdP had said so.
func emailLine(id *saml.Identity) string {
	switch {
	case id.Email == "":
		return "(none: the connection accepts users without email)"
	case id.EmailVerifiedBy == saml.EmailVerifiedByConfiguration:
		return id.Email + " (trusted by configuration: email_verified: trust; the IdP did not say it is verified)"
	case id.EmailVerified:
		return id.Email + " (verified)"
	}
	return id.Email + " (NOT verified)"
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

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// relative says how t relates to now, in words.
func relative(t, now time.Time) string {
	d := now.Sub(t).Round(time.Second)
	switch {
	case d > 0:
		return fmtDuration(d) + " before now"
	case d < 0:
		return fmtDuration(-d) + " after now"
	}
	return "now"
}

// fmtDuration is time.Duration.String without the zero units ("15m30s",
// "2h", "3d4h").
func fmtDuration(d time.Duration) string {
	if d >= 48*time.Hour {
		days := d / (24 * time.Hour)
		rest := (d % (24 * time.Hour)).Round(time.Hour)
		if rest == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, rest/time.Hour)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// parseResponse decodes and parses the response for explanations; nil if
// it cannot.
func parseResponse(value string) *etree.Document {
	raw, err := responseXML(value)
	if err != nil {
		return nil
	}
	doc, err := saml.ParseUntrustedXML(raw)
	if err != nil {
		return nil
	}
	return doc
}

func assertionOf(doc *etree.Document) *etree.Element {
	if doc == nil || doc.Root() == nil {
		return nil
	}
	return doc.Root().SelectElement("Assertion")
}

func keyInfoCertificate(doc *etree.Document) *x509.Certificate {
	if doc == nil {
		return nil
	}
	for _, el := range doc.FindElements("//Signature/KeyInfo/X509Data/X509Certificate") {
		if certs, err := saml.ParseCertificatesPEM([]byte(el.Text())); err == nil {
			return certs[0]
		}
	}
	return nil
}

// pinnedCertificates are the connection's trusted certificates; its
// source is static here, so it cannot fail.
func pinnedCertificates(conn *saml.Connection) []*x509.Certificate {
	certs, _ := conn.Certificates(context.Background())
	return certs
}

func isPinned(conn *saml.Connection, cert *x509.Certificate) bool {
	for _, p := range pinnedCertificates(conn) {
		if p.Equal(cert) {
			return true
		}
	}
	return false
}

func destination(doc *etree.Document) string {
	if doc == nil || doc.Root() == nil {
		return ""
	}
	return doc.Root().SelectAttrValue("Destination", "")
}

func connectionOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("connection")
}

func issueInstant(doc *etree.Document) time.Time {
	a := assertionOf(doc)
	if a == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, a.SelectAttrValue("IssueInstant", ""))
	return t
}

func assertionID(doc *etree.Document) string {
	a := assertionOf(doc)
	if a == nil {
		return ""
	}
	return a.SelectAttrValue("ID", "")
}

// groupsAttribute returns the first attribute of the response named as a
// groups attribute (case-insensitively, like package groups), and its
// values.
func groupsAttribute(doc *etree.Document, names []string) (string, []string) {
	a := assertionOf(doc)
	if a == nil {
		return "", nil
	}
	if names == nil {
		names = groups.DefaultAttributeNames
	}
	attrs := a.FindElements("./AttributeStatement/Attribute")
	for _, want := range names {
		var found string
		var values []string
		for _, at := range attrs {
			n := at.SelectAttrValue("Name", "")
			if !strings.EqualFold(n, want) && !strings.EqualFold(at.SelectAttrValue("FriendlyName", ""), want) {
				continue
			}
			found = n
			for _, v := range at.SelectElements("AttributeValue") {
				values = append(values, strings.TrimSpace(v.Text()))
			}
		}
		if found != "" {
			return found, values
		}
	}
	return "", nil
}

func statusMessage(doc *etree.Document) string {
	if doc == nil || doc.Root() == nil {
		return ""
	}
	if el := doc.Root().FindElement("./Status/StatusMessage"); el != nil {
		return strings.TrimSpace(el.Text())
	}
	return ""
}
