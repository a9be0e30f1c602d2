package samltest_test

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml/samltest"
)

func TestMetadata(t *testing.T) {
	idp := newIdP(t)
	for _, redirect := range []bool{false, true} {
		idp.DeclareRedirectEndpoint = redirect
		md, err := samlsp.ParseMetadata(idp.Metadata())
		if err != nil {
			t.Fatal(err)
		}
		if md.EntityID != entityID || len(md.IDPSSODescriptors) != 1 {
			t.Fatalf("entityID %q, %d IDPSSODescriptors", md.EntityID, len(md.IDPSSODescriptors))
		}
		d := md.IDPSSODescriptors[0]
		if d.WantAuthnRequestsSigned == nil || *d.WantAuthnRequestsSigned {
			t.Error("WantAuthnRequestsSigned is not false")
		}
		if len(d.KeyDescriptors) != 1 || d.KeyDescriptors[0].Use != "signing" {
			t.Fatalf("KeyDescriptors %+v", d.KeyDescriptors)
		}
		der, err := base64.StdEncoding.DecodeString(d.KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data)
		if err != nil || !bytes.Equal(der, idp.Certificate.Raw) {
			t.Errorf("metadata certificate is not the IdP's (%v)", err)
		}
		want := []string{saml.HTTPPostBinding}
		if redirect {
			want = append(want, saml.HTTPRedirectBinding)
		}
		if len(d.SingleSignOnServices) != len(want) {
			t.Fatalf("SingleSignOnServices %+v", d.SingleSignOnServices)
		}
		for i, s := range d.SingleSignOnServices {
			if s.Binding != want[i] || s.Location != entityID {
				t.Errorf("SingleSignOnService %d: %s %s", i, s.Binding, s.Location)
			}
		}
		if len(d.SingleLogoutServices) != 0 {
			t.Error("metadata has a SingleLogoutService")
		}
	}
}

func TestCertificatePEM(t *testing.T) {
	idp := newIdP(t)
	block, rest := pem.Decode(idp.CertificatePEM())
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 || !bytes.Equal(block.Bytes, idp.Certificate.Raw) {
		t.Error("CertificatePEM is not the certificate")
	}
	if (&samltest.IdP{}).CertificatePEM() != nil {
		t.Error("CertificatePEM without a certificate is not nil")
	}
}

func TestNewKeyPair(t *testing.T) {
	nb := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	na := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	key, cert, err := samltest.NewKeyPair(1024, nb, na, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := cert.Subject.String(); got != "CN=JumpCloudSAMLUser,OU=JumpCloudSAMLIdP" || cert.Issuer.String() != got {
		t.Errorf("subject %q issuer %q", got, cert.Issuer)
	}
	if !cert.NotBefore.Equal(nb) || !cert.NotAfter.Equal(na) {
		t.Errorf("validity %v to %v", cert.NotBefore, cert.NotAfter)
	}
	if len(cert.Extensions) != 0 {
		t.Errorf("%d extensions", len(cert.Extensions))
	}
	if n := len(cert.SerialNumber.Bytes()); n != 20 {
		t.Errorf("serial number of %d bytes", n)
	}
	if cert.SignatureAlgorithm != x509.SHA256WithRSA || cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) != nil {
		t.Error("not a self-signed SHA256-RSA certificate")
	}
	if !key.PublicKey.Equal(cert.PublicKey) || key.N.BitLen() != 1024 {
		t.Error("key does not match")
	}
	if _, cert, err = samltest.NewKeyPair(1024, nb, na, "Other"); err != nil || cert.Subject.CommonName != "Other" {
		t.Errorf("subjectCN not used: %v", err)
	}
	if _, _, err := samltest.NewKeyPair(512, nb, na, ""); err == nil {
		t.Error("512-bit key accepted")
	}
}

func TestLoadKeyPair(t *testing.T) {
	key, cert := keyPair(t, "idp")
	_, cert2 := keyPair(t, "idp2")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if k, _, err := samltest.LoadKeyPair(pkcs1, certPEM); err != nil || !k.Equal(key) {
		t.Errorf("PKCS #1 key: %v", err)
	}
	cert2PEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert2.Raw})
	for name, c := range map[string][2][]byte{
		"mismatch":    {pkcs1, cert2PEM},
		"no key":      {nil, certPEM},
		"no cert":     {pkcs1, nil},
		"key as cert": {pkcs1, pkcs1},
		"cert as key": {certPEM, certPEM},
	} {
		if _, _, err := samltest.LoadKeyPair(c[0], c[1]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPostForm(t *testing.T) {
	var got *http.Request
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		got = r
		w.WriteHeader(http.StatusSeeOther)
		io.WriteString(w, r.PostForm.Get("SAMLResponse"))
	})
	res := samltest.PostForm(h, acsURL, "PHNhbWw++/=", "state & more")
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("status %d", res.StatusCode)
	}
	body, _ := io.ReadAll(res.Body)
	if string(body) != "PHNhbWw++/=" {
		t.Errorf("body %q", body)
	}
	if got.Method != http.MethodPost || got.URL.String() != acsURL || got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request %s %s %s", got.Method, got.URL, got.Header.Get("Content-Type"))
	}
	if got.PostForm.Get("RelayState") != "state & more" || got.URL.Query().Get("connection") != "acme" {
		t.Errorf("RelayState %q, query %q", got.PostForm.Get("RelayState"), got.URL.RawQuery)
	}
	samltest.PostForm(h, acsURL, "x", "")
	if _, ok := got.PostForm["RelayState"]; ok {
		t.Error("empty RelayState sent")
	}
}

func TestHTMLPostForm(t *testing.T) {
	idp := newIdP(t)
	value, err := idp.FormValue(standard())
	if err != nil {
		t.Fatal(err)
	}
	page := string(idp.HTMLPostForm(acsURL, value, `"><script>alert(1)</script>`))
	field := func(name string) (string, bool) {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			return "", false
		}
		return html.UnescapeString(m[1]), true
	}
	if v, _ := field("SAMLResponse"); v != value {
		t.Error("SAMLResponse does not round-trip")
	}
	if v, _ := field("RelayState"); v != `"><script>alert(1)</script>` {
		t.Errorf("RelayState %q", v)
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("RelayState not escaped")
	}
	m := regexp.MustCompile(`action="([^"]*)"`).FindStringSubmatch(page)
	if m == nil || html.UnescapeString(m[1]) != acsURL {
		t.Errorf("action %v", m)
	}
	if !strings.Contains(page, `<form method="post"`) || !strings.Contains(page, "document.forms[0].submit()") {
		t.Error("not an auto-submitting POST form")
	}

	page = string(idp.HTMLPostForm("javascript:alert(1)", "x", ""))
	if strings.Contains(page, "javascript:") {
		t.Error("javascript: action kept")
	}
	if _, ok := field("RelayState"); ok && strings.Contains(page, `name="RelayState"`) {
		t.Error("empty RelayState sent")
	}
}

// newSP returns a crewjam ServiceProvider that sends AuthnRequests to idp.
func newSP(t *testing.T, idp *samltest.IdP) *saml.ServiceProvider {
	t.Helper()
	idp.DeclareRedirectEndpoint = true
	md, err := samlsp.ParseMetadata(idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	acs, _ := url.Parse(acsURL)
	return &saml.ServiceProvider{EntityID: audience, AcsURL: *acs, IDPMetadata: md, Clock: dsig.NewFakeClockAt(pinned)}
}

func TestParseAuthnRequest(t *testing.T) {
	idp := newIdP(t)
	sp := newSP(t, idp)

	t.Run("redirect", func(t *testing.T) {
		u, err := sp.MakeRedirectAuthenticationRequest("relay-1")
		if err != nil {
			t.Fatal(err)
		}
		id, acs, relay, err := idp.ParseAuthnRequest(httptest.NewRequest(http.MethodGet, u.String(), nil))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, "id-") || acs != acsURL || relay != "relay-1" {
			t.Errorf("got %q %q %q", id, acs, relay)
		}
	})
	t.Run("post", func(t *testing.T) {
		req, err := sp.MakeAuthenticationRequest(idp.SSOURL, saml.HTTPPostBinding, saml.HTTPPostBinding)
		if err != nil {
			t.Fatal(err)
		}
		raw := elementBytes(t, req)
		// Line-wrapped base64, as some SPs send it.
		enc := base64.StdEncoding.EncodeToString(raw)
		wrapped := regexp.MustCompile(`.{1,76}`).ReplaceAllString(enc, "$0\r\n")
		id, acs, relay, err := idp.ParseAuthnRequest(postRequest(url.Values{"SAMLRequest": {wrapped}, "RelayState": {"relay-2"}}))
		if err != nil {
			t.Fatal(err)
		}
		if id != req.ID || acs != acsURL || relay != "relay-2" {
			t.Errorf("got %q %q %q", id, acs, relay)
		}
	})
	t.Run("no ACS URL", func(t *testing.T) {
		xml := `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="id-1" Version="2.0" IssueInstant="2026-01-15T10:00:00Z" AssertionConsumerServiceIndex="0"/>`
		id, acs, _, err := idp.ParseAuthnRequest(redirectRequest(deflate(t, []byte(xml))))
		if err != nil || id != "id-1" || acs != "" {
			t.Errorf("got %q %q %v", id, acs, err)
		}
	})

	big := bytes.Repeat([]byte(" "), samltest.MaxAuthnRequestSize)
	wrap := func(body string) []byte {
		return []byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="id-1" Version="2.0">` + body + `</samlp:AuthnRequest>`)
	}
	for name, r := range map[string]*http.Request{
		"no SAMLRequest (GET)":  httptest.NewRequest(http.MethodGet, "https://idp.example.com/sso", nil),
		"no SAMLRequest (POST)": postRequest(url.Values{"RelayState": {"x"}}),
		"PUT":                   httptest.NewRequest(http.MethodPut, "https://idp.example.com/sso", nil),
		"not base64":            redirectRequestRaw("%%%"),
		"not deflated":          redirectRequestRaw("PHNhbWw+"),
		"deflate bomb":          redirectRequest(deflate(t, wrap(string(big)))),
		"query too long":        redirectRequestRaw(strings.Repeat("A", samltest.MaxAuthnRequestSize+4)),
		"POST too large":        postRequest(url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(wrap(string(big)))}}),
		"POST body too large":   postRequest(url.Values{"SAMLRequest": {"x"}, "pad": {string(bytes.Repeat(big, 2))}}),
		"DOCTYPE":               redirectRequest(deflate(t, append([]byte(`<!DOCTYPE x [<!ENTITY a "b">]>`), wrap("")...))),
		"not XML":               redirectRequest(deflate(t, []byte("<a"))),
		"wrong root":            redirectRequest(deflate(t, []byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"/>`))),
		"wrong namespace":       redirectRequest(deflate(t, []byte(`<AuthnRequest xmlns="urn:oasis:names:tc:SAML:1.0:protocol" ID="x" Version="2.0"/>`))),
		"wrong version":         redirectRequest(deflate(t, []byte(`<AuthnRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="1.1"/>`))),
		"no ID":                 redirectRequest(deflate(t, []byte(`<AuthnRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol" Version="2.0"/>`))),
		"two roots":             redirectRequest(deflate(t, append(wrap(""), wrap("")...))),
	} {
		_, _, _, err := idp.ParseAuthnRequest(r)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		t.Logf("%s: %v", name, err)
	}
}

func elementBytes(t *testing.T, req *saml.AuthnRequest) []byte {
	t.Helper()
	var buf bytes.Buffer
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	if _, err := doc.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflate(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

func redirectRequest(deflated []byte) *http.Request {
	return redirectRequestRaw(base64.StdEncoding.EncodeToString(deflated))
}

func redirectRequestRaw(encoded string) *http.Request {
	return httptest.NewRequest(http.MethodGet, "https://idp.example.com/sso?"+url.Values{"SAMLRequest": {encoded}}.Encode(), nil)
}

func postRequest(form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://idp.example.com/sso", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
