package samltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"
)

// Namespaces and constants of the SAML messages and metadata.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsXS        = "http://www.w3.org/2001/XMLSchema"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"

	bindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
)

// UnspecifiedNameIDFormat is the (SAML 1.1) NameID format JumpCloud sends
// by default, and the default of Response.NameIDFormat.
const UnspecifiedNameIDFormat = "urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified"

// IdP is a test identity provider. Create it with New, or as a struct
// literal; it is safe for concurrent use once its fields are set.
type IdP struct {
	// EntityID is the IdP entity ID: the Issuer of the responses and the
	// entityID of the metadata.
	EntityID string

	// SSOURL is the IdP URL that SP-initiated logins are sent to (the
	// metadata's SingleSignOnService Location). New sets it to EntityID,
	// as for a JumpCloud app whose IdP Entity ID is its IdP URL.
	SSOURL string

	// DeclareRedirectEndpoint adds an HTTP-Redirect SingleSignOnService to
	// the metadata, like JumpCloud's "Declare Redirect Endpoint" option.
	DeclareRedirectEndpoint bool

	// Key signs the responses; Certificate is its certificate, repeated in
	// KeyInfo and published in the metadata. Neither is needed for
	// SignNone responses.
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate

	// Now is the IdP's clock, used when Response.IssueInstant is zero.
	// Nil means time.Now.
	Now func() time.Time

	// minted counts the responses built, for the generated IDs.
	minted atomic.Uint64
}

// New returns an IdP that signs with key and cert and whose entity ID and
// SSO URL are entityID.
func New(key *rsa.PrivateKey, cert *x509.Certificate, entityID string) *IdP {
	return &IdP{EntityID: entityID, SSOURL: entityID, Key: key, Certificate: cert}
}

func (idp *IdP) now() time.Time {
	if idp.Now != nil {
		return idp.Now()
	}
	return time.Now()
}

// DefaultSubjectCN is the subject common name of JumpCloud's generated
// certificates, used by NewKeyPair when subjectCN is empty.
const DefaultSubjectCN = "JumpCloudSAMLUser"

// NewKeyPair generates an RSA key of the given size and a self-signed
// certificate for it valid from notBefore to notAfter, shaped like the
// ones JumpCloud generates: subject and issuer OU=JumpCloudSAMLIdP,
// CN=subjectCN (DefaultSubjectCN if empty), a random 20-byte serial
// number, SHA256-RSA, no extensions. Keys under 1024 bits are refused by
// crypto/rsa.
func NewKeyPair(bits int, notBefore, notAfter time.Time, subjectCN string) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, nil, err
	}
	if subjectCN == "" {
		subjectCN = DefaultSubjectCN
	}
	serial := make([]byte, 20)
	if _, err := rand.Read(serial); err != nil {
		return nil, nil, err
	}
	serial[0] = serial[0]&0x7f | 0x40 // positive, and always 20 bytes long
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial),
		Subject: pkix.Name{
			OrganizationalUnit: []string{"JumpCloudSAMLIdP"},
			CommonName:         subjectCN,
		},
		NotBefore:          notBefore.UTC(),
		NotAfter:           notAfter.UTC(),
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// KeyPair parses a key pair from PEM data, as tls.X509KeyPair does: a
// certificate, then its RSA private key (PKCS #8 "PRIVATE KEY" or PKCS #1
// "RSA PRIVATE KEY"). It checks that the two match.
func KeyPair(certPEM, keyPEM []byte) (*rsa.PrivateKey, *x509.Certificate, error) {
	cert, err := parseCertificatePEM(certPEM)
	if err != nil {
		return nil, nil, err
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, err
	}
	if err := checkMatch(key, cert); err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// LoadKeyPair reads and parses a key pair from a pair of PEM files, as
// tls.LoadX509KeyPair does: see KeyPair. Errors name the file at fault.
func LoadKeyPair(certFile, keyFile string) (*rsa.PrivateKey, *x509.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cert, err := parseCertificatePEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s)", err, certFile)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s)", err, keyFile)
	}
	if err := checkMatch(key, cert); err != nil {
		return nil, nil, fmt.Errorf("%w (%s, %s)", err, certFile, keyFile)
	}
	return key, cert, nil
}

func checkMatch(key *rsa.PrivateKey, cert *x509.Certificate) error {
	if !key.PublicKey.Equal(cert.PublicKey) {
		return errors.New("samltest: the key does not match the certificate")
	}
	return nil
}

func parseKeyPEM(keyPEM []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("samltest: no PEM block in the key")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("samltest: parsing the key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("samltest: the key is a %T, not an RSA key", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("samltest: parsing the key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("samltest: unexpected PEM block %q in the key", block.Type)
}

func parseCertificatePEM(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, errors.New("samltest: no PEM block in the certificate")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("samltest: unexpected PEM block %q in the certificate", block.Type)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("samltest: parsing the certificate: %w", err)
	}
	return cert, nil
}

// CertificatePEM returns the IdP certificate in PEM form, as JumpCloud's
// certificate.pem download. It returns nil if there is no certificate.
func (idp *IdP) CertificatePEM() []byte {
	if idp.Certificate == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Certificate.Raw})
}

// Metadata returns IdP metadata like JumpCloud's "Export Metadata": an
// md:EntityDescriptor with one IDPSSODescriptor, WantAuthnRequestsSigned
// "false", one signing KeyDescriptor (when there is a certificate), the
// unspecified NameIDFormat and an HTTP-POST SingleSignOnService at SSOURL
// (plus HTTP-Redirect when DeclareRedirectEndpoint is set). There is no
// SingleLogoutService, as JumpCloud offers none.
func (idp *IdP) Metadata() []byte {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("entityID", idp.EntityID)
	sso := ed.CreateElement("md:IDPSSODescriptor")
	sso.CreateAttr("WantAuthnRequestsSigned", "false")
	sso.CreateAttr("protocolSupportEnumeration", nsProtocol)
	if idp.Certificate != nil {
		kd := sso.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		ki := kd.CreateElement("ds:KeyInfo")
		ki.CreateAttr("xmlns:ds", nsDSig)
		ki.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(idp.Certificate.Raw))
	}
	sso.CreateElement("md:NameIDFormat").SetText(UnspecifiedNameIDFormat)
	bindings := []string{bindingPOST}
	if idp.DeclareRedirectEndpoint {
		bindings = append(bindings, bindingRedirect)
	}
	for _, b := range bindings {
		s := sso.CreateElement("md:SingleSignOnService")
		s.CreateAttr("Binding", b)
		s.CreateAttr("Location", idp.SSOURL)
	}
	doc.Indent(4)
	out, err := doc.WriteToBytes()
	if err != nil {
		// Writing to memory cannot fail.
		panic(err)
	}
	return out
}
