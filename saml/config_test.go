package saml_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// TestConfigInvalid: every configuration mistake is refused once, at
// NewConnection, with config_invalid and a message naming the field.
func TestConfigInvalid(t *testing.T) {
	keyPEM := readFile(t, "keys", "idp.key.pem")
	metadata := newIdP(t, "idp").Metadata()
	tests := []struct {
		name    string
		edit    func(c *saml.ConnectionConfig)
		message string
	}{
		{name: "empty name", edit: func(c *saml.ConnectionConfig) { c.Name = "" }, message: "Name is empty"},
		{name: "empty SP entity ID", edit: func(c *saml.ConnectionConfig) { c.SPEntityID = "" }, message: "SPEntityID is empty"},
		{name: "empty ACS URL", edit: func(c *saml.ConnectionConfig) { c.ACSURL = "" }, message: "ACSURL"},
		{name: "relative ACS URL", edit: func(c *saml.ConnectionConfig) { c.ACSURL = "/login/callback?connection=acme" }, message: "not an absolute URL"},
		{name: "ACS URL without host", edit: func(c *saml.ConnectionConfig) { c.ACSURL = "https:///login/callback" }, message: "not an absolute URL"},
		{name: "ACS URL with a bad scheme", edit: func(c *saml.ConnectionConfig) { c.ACSURL = "ftp://auth.example.com/login" }, message: "must be http(s)"},
		{name: "ACS URL that does not parse", edit: func(c *saml.ConnectionConfig) { c.ACSURL = "https://auth.example.com/%zz" }, message: "ACSURL"},
		{name: "empty IdP entity ID", edit: func(c *saml.ConnectionConfig) { c.IdPEntityID = "" }, message: "IdPEntityID is empty"},
		{name: "IdP entity ID equals SP entity ID", edit: func(c *saml.ConnectionConfig) { c.IdPEntityID = c.SPEntityID }, message: "IdPEntityID and SPEntityID are both"},
		{name: "relative IdP SSO URL", edit: func(c *saml.ConnectionConfig) { c.IdPSSOURL = "saml2/acme" }, message: "IdPSSOURL"},
		{name: "no certificate", edit: func(c *saml.ConnectionConfig) { c.IdPCertificatesPEM = nil }, message: "no IdP certificate"},
		{name: "empty certificate PEM", edit: func(c *saml.ConnectionConfig) { c.IdPCertificatesPEM = [][]byte{{}} }, message: "IdPCertificatesPEM[0]: no PEM CERTIFICATE block"},
		{name: "weak 1024-bit certificate", edit: func(c *saml.ConnectionConfig) { c.IdPCertificatesPEM = [][]byte{certPEM(t, "weak")} }, message: "1024-bit RSA key"},
		{name: "weak certificate beside a good one", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM = [][]byte{certPEM(t, "idp"), certPEM(t, "weak")}
		}, message: "IdP certificate " + fingerprint(t, "weak")},
		{name: "not-a-cert PEM", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM = [][]byte{[]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}
		}, message: "IdPCertificatesPEM[0]"},
		{name: "private key PEM", edit: func(c *saml.ConnectionConfig) { c.IdPCertificatesPEM = [][]byte{keyPEM} }, message: "is this the private key?"},
		{name: "private key after the certificate", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM = [][]byte{append(append([]byte{}, certPEM(t, "idp")...), keyPEM...)}
		}, message: "is this the private key?"},
		{name: "not PEM, not base64", edit: func(c *saml.ConnectionConfig) { c.IdPCertificatesPEM = [][]byte{[]byte("certificate.pem")} }, message: "not PEM and not base64"},
		{name: "second PEM broken", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM = [][]byte{certPEM(t, "idp"), []byte("garbage")}
		}, message: "IdPCertificatesPEM[1]"},
		{name: "metadata and certificate both set", edit: func(c *saml.ConnectionConfig) { c.IdPMetadataXML = metadata }, message: "not both"},
		{name: "metadata and entity ID both set", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM, c.IdPSSOURL, c.IdPMetadataXML = nil, "", metadata
		}, message: "not both"},
		{name: "metadata is HTML (the IdP URL was fetched)", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM, c.IdPSSOURL, c.IdPEntityID = nil, "", ""
			c.IdPMetadataXML = []byte("<html><body>JumpCloud</body></html>")
		}, message: "IdPMetadataXML"},
		{name: "metadata with a DOCTYPE", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM, c.IdPSSOURL, c.IdPEntityID = nil, "", ""
			c.IdPMetadataXML = append([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>`), metadata...)
		}, message: "DOCTYPE"},
		{name: "SP metadata instead of IdP metadata", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM, c.IdPSSOURL, c.IdPEntityID = nil, "", ""
			c.IdPMetadataXML = []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:sp"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`)
		}, message: "no IDPSSODescriptor"},
		{name: "IdP metadata without a signing certificate", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM, c.IdPSSOURL, c.IdPEntityID = nil, "", ""
			idp := samltest.New(nil, nil, idpEntityID)
			c.IdPMetadataXML = idp.Metadata()
		}, message: "no signing certificate"},
		{name: "metadata whose entity ID is the SP's", edit: func(c *saml.ConnectionConfig) {
			c.IdPCertificatesPEM, c.IdPSSOURL, c.IdPEntityID = nil, "", ""
			key, cert := keyPair(t, "idp")
			idp := samltest.New(key, cert, spEntityID)
			idp.SSOURL = idpEntityID
			c.IdPMetadataXML = idp.Metadata()
		}, message: "IdPEntityID and SPEntityID are both"},
		{name: "signature policy in another case", edit: func(c *saml.ConnectionConfig) { c.Signature = "Assertion" }, message: `Signature "Assertion"`},
		{name: "signature policy unknown", edit: func(c *saml.ConnectionConfig) { c.Signature = "none" }, message: `Signature "none"`},
		{name: "email_verified policy unknown", edit: func(c *saml.ConnectionConfig) { c.EmailVerified = "yes" }, message: `EmailVerified "yes"`},
		{name: "email_verified policy in another case", edit: func(c *saml.ConnectionConfig) { c.EmailVerified = "Trust" }, message: `EmailVerified "Trust"`},
		{name: "negative clock skew", edit: func(c *saml.ConnectionConfig) { c.ClockSkew = -time.Second }, message: "must not be negative"},
		{name: "negative issue delay", edit: func(c *saml.ConnectionConfig) { c.MaxIssueDelay = -time.Second }, message: "must not be negative"},
		{name: "negative size limit", edit: func(c *saml.ConnectionConfig) { c.MaxResponseBytes = -1 }, message: "must not be negative"},
		{name: "empty group pattern", edit: func(c *saml.ConnectionConfig) { c.Groups = groups.Config{AllowedGroups: []string{""}} }, message: "Groups: groups: AllowedGroups[0]"},
		{name: "group pattern with outer space", edit: func(c *saml.ConnectionConfig) { c.Groups = groups.Config{Filter: []string{" Admins"}} }, message: "Filter[0]"},
		{name: "group pattern containing the delimiter", edit: func(c *saml.ConnectionConfig) {
			c.Groups = groups.Config{Delimiter: ";", AllowedGroups: []string{"a;b"}}
		}, message: "AllowedGroups[0]"},
		{name: "role without a name", edit: func(c *saml.ConnectionConfig) {
			c.Groups = groups.Config{Roles: []groups.RoleMapping{{Group: "Admins"}}}
		}, message: "Roles[0].Role"},
		{name: "empty group attribute list", edit: func(c *saml.ConnectionConfig) { c.Groups = groups.Config{AttributeNames: []string{}} }, message: "AttributeNames is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			tt.edit(&cfg)
			conn, err := saml.NewConnection(cfg)
			if conn != nil {
				t.Error("NewConnection returned a connection with its error")
			}
			e := checkError(t, err, saml.CodeConfigInvalid)
			checkMessage(t, e, tt.message)
			if e.Connection != cfg.Name {
				t.Errorf("Connection = %q, want %q", e.Connection, cfg.Name)
			}
		})
	}
}

// TestCertificateExpiredAtNewConnection: an expired (or not yet valid)
// pinned certificate is refused at construction unless the admin opts in.
func TestCertificateExpiredAtNewConnection(t *testing.T) {
	_, expired := keyPair(t, "expired")
	_, idpCert := keyPair(t, "idp")
	tests := []struct {
		name  string
		certs []string
		now   time.Time
		cert  string
	}{
		{name: "expired", certs: []string{"expired"}, now: verifyAt, cert: "expired"},
		{name: "expired beside a valid one", certs: []string{"idp", "expired"}, now: verifyAt, cert: "expired"},
		{name: "not yet valid", certs: []string{"idp"}, now: idpCert.NotBefore.Add(-time.Hour), cert: "idp"},
		{name: "one second after NotAfter", certs: []string{"expired"}, now: expired.NotAfter.Add(time.Second), cert: "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.IdPCertificatesPEM = nil
			for _, n := range tt.certs {
				cfg.IdPCertificatesPEM = append(cfg.IdPCertificatesPEM, certPEM(t, n))
			}
			cfg.Now = fixedClock(tt.now)
			_, err := saml.NewConnection(cfg)
			e := checkError(t, err, saml.CodeCertificateExpired)
			checkMessage(t, e, fingerprint(t, tt.cert))
			if !e.Now.Equal(tt.now) || e.Connection != "acme" {
				t.Errorf("Now %v Connection %q", e.Now, e.Connection)
			}
			cfg.AllowExpiredCertificate = true
			newConn(t, cfg)
		})
	}
	// At the very instant of NotAfter the certificate is still valid.
	cfg := baseConfig(t)
	cfg.IdPCertificatesPEM = [][]byte{certPEM(t, "expired")}
	cfg.Now = fixedClock(expired.NotAfter)
	newConn(t, cfg)
}

// TestExpiringCertificates: a certificate expiring within 30 days is
// accepted, and ExpiringCertificates reports it so that the caller can
// warn (the verifier itself never logs).
func TestExpiringCertificates(t *testing.T) {
	for _, tt := range []struct {
		cert   string
		within time.Duration
		warn   bool
	}{
		{"expiring", 0, true},
		{"idp", 0, false},
		{"expiring", 24 * time.Hour, false}, // it has 9 days left
		{"expiring", 10 * 24 * time.Hour, true},
	} {
		t.Run(fmt.Sprintf("%s/%s", tt.cert, tt.within), func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.IdPCertificatesPEM = [][]byte{certPEM(t, tt.cert)}
			conn := newConn(t, cfg)
			got, err := conn.ExpiringCertificates(context.Background(), tt.within)
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != tt.warn {
				t.Fatalf("ExpiringCertificates = %d certificates, want warn=%v", len(got), tt.warn)
			}
			if tt.warn && saml.Fingerprint(got[0]) != fingerprint(t, tt.cert) {
				t.Errorf("reported %s", saml.Fingerprint(got[0]))
			}
		})
	}
}

// TestConfigDefaults: zero values become the documented defaults, and the
// connection behaves by them.
func TestConfigDefaults(t *testing.T) {
	conn := newConn(t, baseConfig(t))
	cfg := conn.Config()
	if conn.Name() != "acme" || cfg.Signature != saml.SignatureEither || cfg.EmailVerified != saml.EmailVerifiedRequire {
		t.Errorf("name %q signature %q email_verified %q", conn.Name(), cfg.Signature, cfg.EmailVerified)
	}
	if cfg.DisableIdPInitiated || cfg.AllowSHA1 || cfg.AllowExpiredCertificate {
		t.Error("an opt-in is on by default")
	}
	// Config documents "the validated configuration, defaults filled in".
	if cfg.ClockSkew != saml.DefaultClockSkew || cfg.MaxIssueDelay != saml.DefaultMaxIssueDelay || cfg.MaxResponseBytes != saml.DefaultMaxResponseBytes {
		t.Errorf("Config() leaves defaults unfilled: ClockSkew %v, MaxIssueDelay %v, MaxResponseBytes %d; want %v, %v, %d",
			cfg.ClockSkew, cfg.MaxIssueDelay, cfg.MaxResponseBytes, saml.DefaultClockSkew, saml.DefaultMaxIssueDelay, saml.DefaultMaxResponseBytes)
	}
	// The default skew is 3 minutes, the default delay 90 s, the default
	// size limit 1 MiB: checked at their edges.
	idp := newIdP(t, "idp")
	c2 := baseConfig(t)
	c2.Now = fixedClock(pinned.Add(DefaultEdge - time.Millisecond))
	mustVerify(t, newConn(t, c2), mint(t, idp, standard()))
	c2.Now = fixedClock(pinned.Add(DefaultEdge))
	refuse(t, newConn(t, c2), mint(t, idp, standard()), saml.CodeExpired)
	if saml.DefaultClockSkew != 3*time.Minute || saml.DefaultMaxIssueDelay != 90*time.Second || saml.DefaultMaxResponseBytes != 1<<20 {
		t.Error("documented defaults changed")
	}
	// Certificates() returns what was pinned, and changing the result does
	// not change the connection.
	certs, err := conn.Certificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	certs[0] = nil
	if again, _ := conn.Certificates(context.Background()); again[0] == nil {
		t.Error("Certificates() exposes the connection's slice")
	}
	// Config() returns copies: changing them changes nothing.
	cfg.AllowedEmailDomains = append(cfg.AllowedEmailDomains, "evil.example")
	cfg.Groups.AllowedGroups = append(cfg.Groups.AllowedGroups, "x")
	if again := conn.Config(); len(again.AllowedEmailDomains) != 0 || len(again.Groups.AllowedGroups) != 0 {
		t.Error("Config() exposes the connection's slices")
	}
}

// DefaultEdge is where the standard response expires with the default
// settings: IssueInstant + MaxIssueDelay + ClockSkew.
const DefaultEdge = 90*time.Second + 3*time.Minute

// TestCertificatePEMForms: the certificate files admins actually have.
// RFC 7468 §2: "Data before the encapsulation boundaries are permitted, and
// parsers MUST NOT malfunction when processing such data" (openssl's
// "Bag Attributes" and "subject=" lines, a text dump before the PEM).
func TestCertificatePEMForms(t *testing.T) {
	pemBytes := certPEM(t, "idp")
	_, cert := keyPair(t, "idp")
	forms := map[string][]byte{
		"PEM":                    pemBytes,
		"PEM with CRLF":          bytes.ReplaceAll(pemBytes, []byte("\n"), []byte("\r\n")),
		"PEM with blank lines":   append(append([]byte("\n\n"), pemBytes...), "\n\n"...),
		"bare base64 DER":        []byte(encode(cert.Raw)),
		"bare base64, wrapped":   []byte(wrap(encode(cert.Raw), 64)),
		"openssl Bag Attributes": append([]byte("Bag Attributes\n    friendlyName: jumpcloud\nsubject=OU = JumpCloudSAMLIdP, CN = JumpCloudSAMLUser\nissuer=OU = JumpCloudSAMLIdP, CN = JumpCloudSAMLUser\n"), pemBytes...),
		"text after the PEM":     append(append([]byte{}, pemBytes...), "# rotated 2026-01-15\n"...),
	}
	idp := newIdP(t, "idp")
	for name, p := range forms {
		t.Run(name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.IdPCertificatesPEM = [][]byte{p}
			conn := newConn(t, cfg)
			if certs, _ := conn.Certificates(context.Background()); len(certs) != 1 || !certs[0].Equal(cert) {
				t.Fatalf("pinned %d certificates", len(certs))
			}
			checkAlice(t, mustVerify(t, conn, mint(t, idp, standard())))
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		b.WriteString(s[i:min(i+n, len(s))])
		b.WriteByte('\n')
	}
	return b.String()
}

// TestIdPKind: the IdP family is detected (the fixtures' JumpCloud issuer
// and certificate) or set, an unknown one is a configuration error, and
// the family words the hints of Verify's and NewConnection's errors.
func TestIdPKind(t *testing.T) {
	idp := newIdP(t, "idp")
	otherAudience := standard()
	otherAudience.Audience = "urn:samlgate:globex"
	// A certificate of no IdP we know (samltest's carry JumpCloud's names).
	key, _ := keyPair(t, "idp2")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp.example.com"},
		NotBefore: pinned.Add(-time.Hour), NotAfter: pinned.Add(time.Hour), SignatureAlgorithm: x509.SHA256WithRSA}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	plainCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	plain := samltest.New(key, cert, "urn:example:idp")
	plain.Now = fixedClock(pinned)
	tests := []struct {
		name   string
		edit   func(c *saml.ConnectionConfig)
		idp    *samltest.IdP
		kind   saml.IdPKind
		hint   string // in the audience_mismatch hint
		notIn  string
		config string // a config_invalid message, instead
		code   saml.Code
	}{
		{name: "detected: JumpCloud", kind: saml.IdPJumpCloud, hint: "In the JumpCloud SSO app, set \"SP Entity ID\""},
		{name: "set: Okta", edit: func(c *saml.ConnectionConfig) { c.IdP = saml.IdPOkta }, kind: saml.IdPOkta,
			hint: "Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit: set \"Audience URI (SP Entity ID)\"", notIn: "JumpCloud"},
		{name: "set: Entra", edit: func(c *saml.ConnectionConfig) { c.IdP = saml.IdPEntra }, kind: saml.IdPEntra,
			hint: "Enterprise applications → your app → Single sign-on → Basic SAML Configuration", notIn: "JumpCloud"},
		{name: "set: generic", edit: func(c *saml.ConnectionConfig) { c.IdP = saml.IdPGeneric }, kind: saml.IdPGeneric,
			hint: "In the IdP application, set the SP entity ID", notIn: "JumpCloud"},
		{name: "not recognized: generic", idp: plain, edit: func(c *saml.ConnectionConfig) {
			c.IdPEntityID, c.IdPSSOURL, c.IdPCertificatesPEM = "urn:example:idp", "https://idp.example.com/sso", [][]byte{plainCert}
		}, kind: saml.IdPGeneric, hint: "In the IdP application", notIn: "JumpCloud"},
		{name: "unknown kind", edit: func(c *saml.ConnectionConfig) { c.IdP = "azure" }, code: saml.CodeConfigInvalid,
			config: `IdP "azure" is not one of generic, jumpcloud, okta, entra, google, keycloak, pingone, pingfederate, adfs, onelogin`},
		{name: "NewConnection's errors too", edit: func(c *saml.ConnectionConfig) {
			c.IdP, c.IdPCertificatesPEM = saml.IdPEntra, [][]byte{certPEM(t, "expired")}
		}, code: saml.CodeCertificateExpired, hint: "Microsoft Entra admin center", notIn: "JumpCloud"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			if tt.code != "" {
				_, err := saml.NewConnection(cfg)
				e := checkError(t, err, tt.code)
				if tt.config != "" {
					checkMessage(t, e, tt.config)
				}
				if !strings.Contains(e.Hint, tt.hint) || (tt.notIn != "" && strings.Contains(e.Hint, tt.notIn)) {
					t.Errorf("hint %q: want %q, not %q", e.Hint, tt.hint, tt.notIn)
				}
				return
			}
			conn := newConn(t, cfg)
			if got := conn.Config().IdP; got != tt.kind {
				t.Errorf("Config().IdP = %q, want %q", got, tt.kind)
			}
			signer := idp
			if tt.idp != nil {
				signer = tt.idp
			}
			e := refuse(t, conn, mint(t, signer, otherAudience), saml.CodeAudienceMismatch)
			if !strings.Contains(e.Hint, tt.hint) || (tt.notIn != "" && strings.Contains(e.Hint, tt.notIn)) {
				t.Errorf("hint %q: want %q, not %q", e.Hint, tt.hint, tt.notIn)
			}
		})
	}
}

// TestSPMetadata: the SP metadata needs only the SP's entity ID, ACS URL
// and signature policy, and is the connection's, byte for byte, for every
// policy.
func TestSPMetadata(t *testing.T) {
	for _, sig := range []saml.SignaturePolicy{"", saml.SignatureEither, saml.SignatureAssertion, saml.SignatureResponse, saml.SignatureBoth} {
		cfg := baseConfig(t)
		cfg.Signature = sig
		want, err := newConn(t, cfg).Metadata()
		if err != nil {
			t.Fatal(err)
		}
		got, err := saml.SPMetadata(spEntityID, acsURL, sig)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("policy %q: SPMetadata differs from Connection.Metadata:\n%s\n%s", sig, got, want)
		}
	}
	for _, tt := range []struct {
		sp, acs string
		sig     saml.SignaturePolicy
		message string
	}{
		{"", acsURL, "", "SPEntityID is empty"},
		{spEntityID, "/login/callback", "", "not an absolute URL"},
		{spEntityID, "ftp://auth.example.com/login", "", "must be http(s)"},
		{spEntityID, acsURL, "Assertion", `Signature "Assertion" is not one of`},
	} {
		_, err := saml.SPMetadata(tt.sp, tt.acs, tt.sig)
		checkMessage(t, checkError(t, err, saml.CodeConfigInvalid), tt.message)
	}
}

// TestConnectionImmutable: a Connection is immutable once built. It kept
// the caller's Attributes mapping and Groups slices, so writing into them
// afterwards changed which attribute it read the email from and what its
// errors said.
func TestConnectionImmutable(t *testing.T) {
	idp := newIdP(t, "idp")
	r := standard()
	r.Email = ""
	r.Attributes = []samltest.Attribute{{Name: "mail", Values: []string{aliceEmail}}, {Name: "other", Values: []string{mallory}}}
	cfg := baseConfig(t)
	cfg.Attributes.Email = []string{"mail"}
	cfg.Groups.AllowedGroups = []string{"Engineering", "Ops"}
	cfg.AllowedEmailDomains = []string{"example.com"}
	conn := newConn(t, cfg)

	cfg.Attributes.Email[0] = "other"
	cfg.Groups.AllowedGroups[0] = "Nobody"
	cfg.AllowedEmailDomains[0] = "evil.test"
	r.AssertionID = uniqueID()
	if id := mustVerify(t, conn, mint(t, idp, r)); id.Email != aliceEmail {
		t.Errorf("Email = %q: the connection reads the caller's mapping", id.Email)
	}
	got := conn.Config()
	if got.Attributes.Email[0] != "mail" || got.Groups.AllowedGroups[0] != "Engineering" || got.AllowedEmailDomains[0] != "example.com" {
		t.Errorf("Config() = %q, %q, %q: the connection shares the caller's slices", got.Attributes.Email, got.Groups.AllowedGroups, got.AllowedEmailDomains)
	}
	r.AssertionID, r.Groups = uniqueID(), []string{"Sales"}
	e := refuse(t, conn, mint(t, idp, r), saml.CodeGroupNotAllowed)
	if e.Expected != "a member of Engineering, Ops" {
		t.Errorf("Expected = %q", e.Expected)
	}
}
