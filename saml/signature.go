package saml

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/beevik/etree"
)

// checkSignatureElement refuses SHA-1 (unless allowed) and a certificate in
// KeyInfo that is not pinned. The KeyInfo certificate is never used to
// verify anything; checking it here only turns "signature invalid" into the
// actionable "the app's certificate was regenerated".
func (c *Connection) checkSignatureElement(sig *etree.Element, m *message, ps *pinSet) *Error {
	if !c.cfg.AllowSHA1 {
		for _, path := range []string{"./SignedInfo/SignatureMethod", "./SignedInfo/Reference/DigestMethod"} {
			for _, el := range sig.FindElements(path) {
				if alg := el.SelectAttrValue("Algorithm", ""); isSHA1(alg) {
					e := newError(CodeWeakSignatureAlgorithm, "the response is signed with SHA-1")
					return e.mismatch("an RSA-SHA256 (or stronger) signature", alg)
				}
			}
		}
	}
	for _, el := range sig.FindElements("./KeyInfo/X509Data/X509Certificate") {
		der, err := base64.StdEncoding.DecodeString(stripSpace(el.Text()))
		if err != nil {
			return newError(CodeMalformed, "the certificate in the signature's KeyInfo is not base64").withCause(err)
		}
		// Comparing DER avoids parsing the certificate on every login; only
		// a certificate that is not pinned is parsed, to report it.
		if pc := ps.pinnedDER(der); pc != nil {
			m.named = append(m.named, pc)
			continue
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return newError(CodeMalformed, "the certificate in the signature's KeyInfo cannot be parsed").withCause(err)
		}
		e := newError(CodeUntrustedCertificate, "the response is signed with a certificate this connection does not trust")
		return e.mismatch(ps.fingerprints(), Fingerprint(cert))
	}
	return nil
}

func isSHA1(alg string) bool {
	i := strings.LastIndexByte(alg, '#')
	return strings.HasSuffix(strings.ToLower(alg[i+1:]), "sha1")
}

func (c *Connection) checkSignaturePolicy(m *message) *Error {
	var missing string
	switch c.cfg.Signature {
	case SignatureEither:
		if !m.responseSigned && !m.assertionSigned {
			missing = "neither the Response nor the Assertion is signed"
		}
	case SignatureAssertion:
		if !m.assertionSigned {
			missing = "the Assertion is not signed, and this connection requires a signed Assertion"
		}
	case SignatureResponse:
		if !m.responseSigned {
			missing = "the Response is not signed, and this connection requires a signed Response"
		}
	case SignatureBoth:
		if !m.responseSigned || !m.assertionSigned {
			missing = "this connection requires both the Response and the Assertion to be signed"
		}
	}
	if missing == "" {
		return nil
	}
	e := newError(CodeSignatureMissing, missing)
	return e.mismatch("signed: "+string(c.cfg.Signature), "signed: "+signedWhat(m))
}

func signedWhat(m *message) string {
	switch {
	case m.responseSigned && m.assertionSigned:
		return "both"
	case m.responseSigned:
		return "response"
	case m.assertionSigned:
		return "assertion"
	}
	return "none"
}

func (ps *pinSet) pinnedDER(der []byte) *pinnedCert {
	for i := range ps.pins {
		if bytes.Equal(ps.pins[i].cert.Raw, der) {
			return &ps.pins[i]
		}
	}
	return nil
}

func (ps *pinSet) fingerprints() string {
	fps := make([]string, len(ps.pins))
	for i, pc := range ps.pins {
		fps[i] = pc.fingerprint
	}
	return strings.Join(fps, ", ")
}

// sigVerifier is crewjam's hook for checking XML signatures: goxmldsig does
// all the cryptography, against each pinned certificate in turn, on the
// Signature as forPinnedKeys prepares it.
type sigVerifier struct {
	pins []pinnedCert
	// prefer are the pinned certificates the message's KeyInfo named
	// (found by inspect): tried first, only to save work during a rotation.
	prefer []*pinnedCert
	used   []*pinnedCert
}

func (v *sigVerifier) VerifySignature(vc *dsig.ValidationContext, el *etree.Element) error {
	_, err := v.VerifySignedElement(vc, el)
	return err
}

func (v *sigVerifier) VerifySignedElement(vc *dsig.ValidationContext, el *etree.Element) (*etree.Element, error) {
	var sig *etree.Element
	for _, ch := range el.ChildElements() {
		if ch.Tag == "Signature" && ch.NamespaceURI() == nsDSig {
			sig = ch
			break
		}
	}
	if sig == nil {
		return nil, errors.New("no Signature element")
	}
	forPinnedKeys(sig)
	var lastErr error
	try := func(pc *pinnedCert) *etree.Element {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{pc.unbounded}})
		ctx.IdAttribute = vc.IdAttribute
		ctx.Clock = vc.Clock
		signed, err := ctx.Validate(el)
		if err != nil {
			lastErr = err
			return nil
		}
		v.used = append(v.used, pc)
		return signed
	}
	// Every candidate is a pinned certificate; those the message names go
	// first.
	for _, pc := range v.prefer {
		if signed := try(pc); signed != nil {
			return signed, nil
		}
	}
	for i := range v.pins {
		if pc := &v.pins[i]; !slices.Contains(v.prefer, pc) {
			if signed := try(pc); signed != nil {
				return signed, nil
			}
		}
	}
	return nil, lastErr
}

// checkCertificates refuses a signature by a pinned certificate that is
// outside its validity period now, unless the connection allows it.
func (c *Connection) checkCertificates(used []*pinnedCert, now time.Time) *Error {
	if c.cfg.AllowExpiredCertificate {
		return nil
	}
	for _, pc := range used {
		if now.After(pc.cert.NotAfter) || now.Before(pc.cert.NotBefore) {
			e := newError(CodeCertificateExpired, fmt.Sprintf("the response is signed by IdP certificate %s, valid only from %s until %s",
				pc.fingerprint, pc.cert.NotBefore.UTC().Format(time.RFC3339), pc.cert.NotAfter.UTC().Format(time.RFC3339)))
			e.Now = now
			return e
		}
	}
	return nil
}

// forPinnedKeys prepares a Signature for verification against pinned
// certificates only: KeyInfo is dropped, so that the certificate in the
// message can never be the trust anchor, and base64 white space in
// SignatureValue, which XML Schema's base64Binary allows and Google
// Workspace sends, is removed. Neither element is covered by the
// signature, so this weakens nothing.
func forPinnedKeys(sig *etree.Element) {
	for _, ch := range sig.ChildElements() {
		switch ch.Tag {
		case "SignatureValue":
			if t := ch.Text(); strings.ContainsAny(t, " \t\r\n") {
				ch.SetText(stripSpace(t))
			}
		case "KeyInfo":
			sig.RemoveChild(ch)
		}
	}
}
