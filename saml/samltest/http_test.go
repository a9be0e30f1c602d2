package samltest_test

import (
	"bytes"
	"compress/flate"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml/samltest"
)

func TestMetadata(t *testing.T) {
	idp := newIdP(t)
	for _, redirect := range []bool{false, true} {
		idp.DeclareRedirectEndpoint = redirect
		md := &saml.EntityDescriptor{}
		err := xml.Unmarshal(idp.Metadata(), md)
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

func TestKeyPair(t *testing.T) {
	key, cert := keyPair(t, "idp")
	_, cert2 := keyPair(t, "idp2")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	cert2PEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert2.Raw})
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pkcs8DER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8DER})
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})

	for _, tt := range []struct {
		name            string
		certPEM, keyPEM []byte
		wantErr         string // "" for success
	}{
		{"PKCS #1 key", certPEM, pkcs1, ""},
		{"PKCS #8 key", certPEM, pkcs8, ""},
		{"mismatch", cert2PEM, pkcs1, "the key does not match the certificate"},
		{"no key", certPEM, nil, "no PEM block in the key"},
		{"no cert", nil, pkcs1, "no PEM block in the certificate"},
		{"key first", pkcs1, certPEM, `unexpected PEM block "RSA PRIVATE KEY" in the certificate`},
		{"cert as key", certPEM, certPEM, `unexpected PEM block "CERTIFICATE" in the key`},
		{"bad certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}), pkcs1, "parsing the certificate"},
		{"bad key", certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("x")}), "parsing the key"},
		{"EC key", certPEM, ecPEM, "not an RSA key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, c, err := samltest.KeyPair(tt.certPEM, tt.keyPEM)
			if tt.wantErr == "" {
				if err != nil || !k.Equal(key) || !c.Equal(cert) {
					t.Errorf("KeyPair: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("KeyPair: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadKeyPair(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "keys")
	idpCert, idpKey := filepath.Join(dir, "idp.crt.pem"), filepath.Join(dir, "idp.key.pem")
	idp2Key := filepath.Join(dir, "idp2.key.pem")
	key, cert, err := samltest.LoadKeyPair(idpCert, idpKey)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := x509.ParsePKCS8PrivateKey(mustDecodePEM(t, idpKey)); !key.Equal(want) || !bytes.Equal(cert.Raw, mustDecodePEM(t, idpCert)) {
		t.Error("LoadKeyPair did not load idp.crt.pem and idp.key.pem")
	}

	for _, tt := range []struct {
		name              string
		certFile, keyFile string
		wantErr           []string // substrings of the error
	}{
		{"files swapped", idpKey, idpCert, []string{`unexpected PEM block "PRIVATE KEY" in the certificate`, idpKey}},
		{"mismatch", idpCert, idp2Key, []string{"the key does not match the certificate", idpCert, idp2Key}},
		{"key not a key", idpCert, idpCert, []string{`unexpected PEM block "CERTIFICATE" in the key`, idpCert}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := samltest.LoadKeyPair(tt.certFile, tt.keyFile)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
	for _, files := range [][2]string{{filepath.Join(dir, "absent.crt.pem"), idpKey}, {idpCert, filepath.Join(dir, "absent.key.pem")}} {
		if _, _, err := samltest.LoadKeyPair(files[0], files[1]); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadKeyPair(%q, %q): error %v, want fs.ErrNotExist", files[0], files[1], err)
		}
	}
}

// mustDecodePEM returns the DER of the first PEM block of file.
func mustDecodePEM(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", file)
	}
	return block.Bytes
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
	md := &saml.EntityDescriptor{}
	err := xml.Unmarshal(idp.Metadata(), md)
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
	// Each case names the error it must fail with, so that none passes
	// for the wrong reason.
	for _, tt := range []struct {
		name    string
		r       *http.Request
		wantErr string // a regexp the error must match
	}{
		{"no SAMLRequest (GET)", httptest.NewRequest(http.MethodGet, "https://idp.example.com/sso", nil), "no SAMLRequest in the query"},
		{"no SAMLRequest (POST)", postRequest(url.Values{"RelayState": {"x"}}), "no SAMLRequest in the form"},
		{"PUT", httptest.NewRequest(http.MethodPut, "https://idp.example.com/sso", nil), "method PUT is neither GET"},
		{"not base64", redirectRequestRaw("%%%"), "SAMLRequest is not base64"},
		{"not deflated", redirectRequestRaw("PHNhbWw+"), "SAMLRequest does not inflate"},
		{"deflate bomb", redirectRequest(deflate(t, wrap(string(big)))), "SAMLRequest too large once inflated$"},
		{"query too long", redirectRequestRaw(strings.Repeat("A", samltest.MaxAuthnRequestSize+4)), "SAMLRequest too large$"},
		{"POST too large", postRequest(url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(wrap(string(big)))}}), "SAMLRequest too large$"},
		{"POST body too large", postRequest(url.Values{"SAMLRequest": {"x"}, "pad": {string(bytes.Repeat(big, 2))}}), "reading the form: .*too large"},
		{"DOCTYPE", redirectRequest(deflate(t, append([]byte(`<!DOCTYPE x [<!ENTITY a "b">]>`), wrap("")...))), "AuthnRequest has a DOCTYPE"},
		{"not XML", redirectRequest(deflate(t, []byte("<a"))), "AuthnRequest is not XML"},
		{"empty", redirectRequest(deflate(t, []byte(`<?xml version="1.0"?>`))), "AuthnRequest is empty"},
		{"wrong root", redirectRequest(deflate(t, []byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"/>`))), `root element is \{urn:oasis:names:tc:SAML:2\.0:protocol\}Response, not`},
		{"wrong namespace", redirectRequest(deflate(t, []byte(`<AuthnRequest xmlns="urn:oasis:names:tc:SAML:1.0:protocol" ID="x" Version="2.0"/>`))), `root element is \{urn:oasis:names:tc:SAML:1\.0:protocol\}AuthnRequest, not`},
		{"wrong version", redirectRequest(deflate(t, []byte(`<AuthnRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="1.1"/>`))), `AuthnRequest Version is "1\.1", not 2\.0`},
		{"no ID", redirectRequest(deflate(t, []byte(`<AuthnRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol" Version="2.0"/>`))), "AuthnRequest has no ID"},
		{"two roots", redirectRequest(deflate(t, append(wrap(""), wrap("")...))), "AuthnRequest has several root elements"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := idp.ParseAuthnRequest(tt.r)
			if err == nil {
				t.Fatal("accepted")
			}
			if !regexp.MustCompile(tt.wantErr).MatchString(err.Error()) {
				t.Errorf("error %q, want one matching %q", err, tt.wantErr)
			}
		})
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
