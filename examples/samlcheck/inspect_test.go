package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func inspectJSON(t *testing.T, args ...string) *report {
	t.Helper()
	res := samlcheck(t, nil, append([]string{"inspect", "-json"}, args...)...)
	if res.code != exitOK {
		t.Fatalf("exit status %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	var r report
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	return &r
}

// TestInspect checks what inspect shows an admin: everything the console
// is compared with, and the certificate against -idp-cert.
func TestInspect(t *testing.T) {
	r := inspectJSON(t, "-idp-cert", keys+"idp.crt.pem", "-now", "2026-01-15T10:20:00Z", golden+"wrong-key.xml")
	if r.Verified || r.Form != formXML || r.Now != "2026-01-15T10:20:00Z" {
		t.Errorf("verified %v, form %s, now %s", r.Verified, r.Form, r.Now)
	}
	rs, a := r.Response, r.Assertion
	if rs == nil || a == nil {
		t.Fatal("no Response or Assertion")
	}
	if rs.Issuer != idpEntity || rs.Destination != acsURL || rs.Connection != "acme" || rs.InResponseTo != "" ||
		rs.Status != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		t.Errorf("response %+v", rs)
	}
	if a.Issuer != idpEntity || a.NameID != "alice@example.com" || a.NameIDFormat != "urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified" ||
		strings.Join(a.Audiences, ",") != spEntityID || len(a.SubjectConfirmations) != 1 || a.SubjectConfirmations[0].Recipient != acsURL ||
		a.NotBefore != "2026-01-15T09:55:00.000Z" || a.NotOnOrAfter != "2026-01-15T10:05:00.000Z" {
		t.Errorf("assertion %+v", a)
	}
	var attrs []string
	for _, at := range r.Attributes {
		attrs = append(attrs, at.Name+"="+strings.Join(at.Values, "|"))
	}
	if got := strings.Join(attrs, " "); got != "email=alice@example.com email_verified=true given_name=Alice family_name=Liddell memberOf=Engineering|Admins|Everyone" {
		t.Errorf("attributes %s", got)
	}
	times := map[string]timeInfo{}
	for _, ti := range r.Times {
		times[ti.What] = ti
	}
	if ti := times["Conditions NotOnOrAfter"]; ti.Relative != "15m before now" || ti.Remark != "passed at now, by 15m" {
		t.Errorf("Conditions NotOnOrAfter %+v", ti)
	}
	if ti := times["Assertion IssueInstant"]; ti.Relative != "20m before now" {
		t.Errorf("IssueInstant %+v", ti)
	}
	if len(r.Signatures) != 1 {
		t.Fatalf("%d signatures", len(r.Signatures))
	}
	s := r.Signatures[0]
	if s.Element != "Assertion" || !s.ReferencesParent || algorithmName(s.SignatureMethod) != "RSA-SHA256" ||
		algorithmName(s.DigestMethod) != "SHA-256" || algorithmName(s.Canonicalization) != "exclusive c14n" {
		t.Errorf("signature %+v", s)
	}
	c := s.Certificate
	if c == nil || c.Fingerprint != fingerprint(t, "attacker") || c.Matches == nil || *c.Matches ||
		strings.Join(c.Configured, ",") != fingerprint(t, "idp") || c.NotAfter != "2030-01-01T00:00:00Z" ||
		!strings.HasPrefix(c.Validity, "within its validity period") || c.Key != "RSA 2048 bits" {
		t.Errorf("certificate %+v", c)
	}
	remarks := strings.Join(r.Remarks, "\n")
	for _, want := range []string{"not the -idp-cert (verify reports untrusted_certificate)", "Only the Assertion is signed", "a replay needs -now"} {
		if !strings.Contains(remarks, want) {
			t.Errorf("remarks lack %q:\n%s", want, remarks)
		}
	}

	r = inspectJSON(t, "-idp-cert", keys+"idp.crt.pem", "-now", pinned, golden+"both-signed.xml")
	if len(r.Signatures) != 2 || r.Signatures[0].Element != "Response" || r.Signatures[1].Element != "Assertion" {
		t.Fatalf("signatures %+v", r.Signatures)
	}
	for _, s := range r.Signatures {
		if s.Certificate == nil || s.Certificate.Matches == nil || !*s.Certificate.Matches {
			t.Errorf("%s certificate does not match -idp-cert", s.Element)
		}
	}

	r = inspectJSON(t, "-now", pinned, golden+"sha1.xml")
	if algorithmName(r.Signatures[0].SignatureMethod) != "RSA-SHA1" || !strings.Contains(strings.Join(r.Remarks, " "), "SHA-1") {
		t.Errorf("sha1: %+v %v", r.Signatures[0], r.Remarks)
	}

	r = inspectJSON(t, golden+"request-denied.xml")
	if r.Assertion != nil || r.Response.StatusMessage != "The user is not allowed to use this application" ||
		!strings.Contains(r.Response.Status, "RequestDenied") {
		t.Errorf("request-denied: %+v", r.Response)
	}

	r = inspectJSON(t, "testdata/jumpcloud-default.har")
	if r.Form != formHAR || r.Assertion == nil || r.Assertion.ID != "P23WNTHZQG0GPG1OZAMSTC1XVNZK5JT58BQ08BFK" {
		t.Errorf("HAR: form %s", r.Form)
	}
}

// TestInspectForPeople checks the default output, and that it never
// claims the response is valid.
func TestInspectForPeople(t *testing.T) {
	res := samlcheck(t, nil, "inspect", "-idp-cert", keys+"idp.crt.pem", "-now", "2026-01-15T10:20:00Z", golden+"wrong-key.xml")
	if res.code != exitOK {
		t.Fatalf("exit status %d", res.code)
	}
	for _, want := range []string{
		"NOT VERIFIED",
		"  Destination     " + acsURL + "   (connection acme)\n",
		"  Audience        urn:samlgate:acme\n",
		"  InResponseTo    (none: IdP-initiated)\n",
		"    NotOnOrAfter    2026-01-15T10:05:00.000Z (15m before now; passed at now, by 15m)\n",
		"  memberOf        3 values:\n      Engineering\n      Admins\n      Everyone\n",
		"  Response        not signed\n",
		"  Assertion       signed: RSA-SHA256, digest SHA-256, exclusive c14n\n",
		"      SHA-256         " + fingerprint(t, "attacker") + "\n",
		"      -idp-cert       does NOT match: -idp-cert is " + fingerprint(t, "idp") + "\n",
		"Now              2026-01-15T10:20:00Z (-now)\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	low := strings.ToLower(res.stdout)
	for _, claim := range []string{"accepted", "is valid", "genuine response", "signature verifies"} {
		if strings.Contains(low, claim) {
			t.Errorf("inspect output claims %q", claim)
		}
	}
	if !strings.Contains(res.stderr, "found raw XML") {
		t.Errorf("stderr %q", res.stderr)
	}
}

// TestInspectNotAResponse checks the explanation for the XML admins paste
// by mistake.
func TestInspectNotAResponse(t *testing.T) {
	r := inspectJSON(t, "testdata/idp-metadata.xml")
	if r.Response != nil || !strings.Contains(strings.Join(r.Remarks, " "), "metadata") {
		t.Errorf("%+v", r)
	}
}

// TestMetadata checks the SP metadata of the connection. It needs only
// the SP's entity ID and ACS URL: the IdP's settings (entity ID,
// certificate) exist only once the IdP application has been created with
// this metadata.
func TestMetadata(t *testing.T) {
	// A connections file whose IdP certificate is not downloaded yet.
	dir := t.TempDir()
	draft := filepath.Join(dir, "draft.yaml")
	if err := os.WriteFile(draft, []byte("public_url: https://auth.example.com\nconnections:\n  - name: acme\n    sp_entity_id: "+spEntityID+"\n    idp_certificate_files: [not-downloaded-yet.pem]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var first string
	for _, args := range [][]string{
		append([]string{"metadata"}, acme()...),
		{"metadata", "-config", "testdata/gateway.yaml", "-connection", "acme"},
		{"metadata", "-sp-entity-id", spEntityID, "-acs-url", acsURL},
		{"metadata", "-config", draft},
	} {
		res := samlcheck(t, nil, args...)
		if res.code != exitOK {
			t.Fatalf("%v: exit status %d\n%s", args, res.code, res.stderr)
		}
		if first == "" {
			first = res.stdout
		} else if res.stdout != first {
			t.Errorf("%v: another metadata:\n%s", args, res.stdout)
		}
		var md struct {
			EntityID string `xml:"entityID,attr"`
			SP       struct {
				ACS []struct {
					Binding  string `xml:"Binding,attr"`
					Location string `xml:"Location,attr"`
				} `xml:"AssertionConsumerService"`
			} `xml:"SPSSODescriptor"`
		}
		if err := xml.Unmarshal([]byte(res.stdout), &md); err != nil {
			t.Fatalf("%v\n%s", err, res.stdout)
		}
		if md.EntityID != spEntityID || len(md.SP.ACS) != 1 || md.SP.ACS[0].Location != acsURL ||
			md.SP.ACS[0].Binding != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {
			t.Errorf("%v: %+v", args, md)
		}
	}
}
