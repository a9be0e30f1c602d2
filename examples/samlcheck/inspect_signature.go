package main

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/saml"
)

func inspectSignature(sig *etree.Element, now time.Time, pinned []*x509.Certificate) signatureInfo {
	si := signatureInfo{Transforms: []string{}}
	attr := func(path string) string {
		if el := sig.FindElement(path); el != nil {
			return el.SelectAttrValue("Algorithm", "")
		}
		return ""
	}
	si.SignatureMethod = attr("./SignedInfo/SignatureMethod")
	si.DigestMethod = attr("./SignedInfo/Reference/DigestMethod")
	si.Canonicalization = attr("./SignedInfo/CanonicalizationMethod")
	for _, t := range sig.FindElements("./SignedInfo/Reference/Transforms/Transform") {
		si.Transforms = append(si.Transforms, t.SelectAttrValue("Algorithm", ""))
	}
	if ref := sig.FindElement("./SignedInfo/Reference"); ref != nil {
		si.ReferenceURI = ref.SelectAttrValue("URI", "")
	}
	if p := sig.Parent(); p != nil {
		id := p.SelectAttrValue("ID", "")
		si.ReferencesParent = id != "" && si.ReferenceURI == "#"+id
	}
	if xc := sig.FindElement("./KeyInfo/X509Data/X509Certificate"); xc != nil {
		si.Certificate = inspectCertificate(xc.Text(), now, pinned)
	}
	return si
}

func inspectCertificate(text string, now time.Time, pinned []*x509.Certificate) *certInfo {
	certs, err := saml.ParseCertificatesPEM([]byte(text))
	if err != nil {
		return &certInfo{Error: "the X509Certificate cannot be read: " + err.Error()}
	}
	cert := certs[0]
	ci := &certInfo{
		Fingerprint: saml.Fingerprint(cert),
		Subject:     cert.Subject.String(),
		Issuer:      cert.Issuer.String(),
		NotBefore:   cert.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:    cert.NotAfter.UTC().Format(time.RFC3339),
	}
	switch {
	case now.Before(cert.NotBefore):
		ci.Validity = "not valid yet at now (starts " + fmtDuration(cert.NotBefore.Sub(now).Round(time.Second)) + " after now)"
	case now.After(cert.NotAfter):
		ci.Validity = "expired at now (" + fmtDuration(now.Sub(cert.NotAfter).Round(time.Second)) + " before now)"
	default:
		ci.Validity = "within its validity period at now (expires " + fmtDuration(cert.NotAfter.Sub(now).Round(time.Hour)) + " after now)"
	}
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		ci.Key = fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case *ecdsa.PublicKey:
		ci.Key = "ECDSA " + k.Curve.Params().Name
	default:
		ci.Key = fmt.Sprintf("%T", cert.PublicKey)
	}
	if len(pinned) > 0 {
		match := false
		for _, p := range pinned {
			ci.Configured = append(ci.Configured, saml.Fingerprint(p))
			if p.Equal(cert) {
				match = true
			}
		}
		ci.Matches = &match
	}
	return ci
}

func isSHA1(alg string) bool {
	i := strings.LastIndexByte(alg, '#')
	return strings.HasSuffix(strings.ToLower(alg[i+1:]), "sha1")
}

// algorithmName shortens the algorithm URIs an admin sees in consoles.
func algorithmName(uri string) string {
	names := map[string]string{
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256":     "RSA-SHA256",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384":     "RSA-SHA384",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512":     "RSA-SHA512",
		"http://www.w3.org/2000/09/xmldsig#rsa-sha1":            "RSA-SHA1",
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256":   "ECDSA-SHA256",
		"http://www.w3.org/2001/04/xmlenc#sha256":               "SHA-256",
		"http://www.w3.org/2001/04/xmldsig-more#sha384":         "SHA-384",
		"http://www.w3.org/2001/04/xmlenc#sha512":               "SHA-512",
		"http://www.w3.org/2000/09/xmldsig#sha1":                "SHA-1",
		"http://www.w3.org/2001/10/xml-exc-c14n#":               "exclusive c14n",
		"http://www.w3.org/2001/10/xml-exc-c14n#WithComments":   "exclusive c14n with comments",
		"http://www.w3.org/TR/2001/REC-xml-c14n-20010315":       "inclusive c14n 1.0",
		"http://www.w3.org/2006/12/xml-c14n11":                  "c14n 1.1",
		"http://www.w3.org/2000/09/xmldsig#enveloped-signature": "enveloped",
	}
	if n, ok := names[uri]; ok {
		return n
	}
	if uri == "" {
		return "(none)"
	}
	return uri
}
