package saml

import (
	"crypto/x509"
	"errors"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// verifyMetadataSignature checks that the metadata document data carries a
// valid enveloped signature on its root element by the key of one of
// certs, and returns the element goxmldsig verified, serialized: the
// caller parses that, never data, so that nothing the signature does not
// cover (a comment, an element moved outside the signed one) can reach the
// connection. All cryptography and canonicalization is goxmldsig's; this
// adds the shape checks that make "the root is signed" unambiguous, as
// Shibboleth's signature profile does, and refuses SHA-1.
//
// The errors are config_invalid (the message is a metadata source's, not
// a login's), with the reason in the message and goxmldsig's, which may
// quote the document, only in Err.
func verifyMetadataSignature(data []byte, certs []*x509.Certificate) ([]byte, *Error) {
	doc, gerr := parseGuarded(data)
	if gerr != nil {
		return nil, configError("%s", gerr.Message).withCause(gerr.Err)
	}
	root := doc.Root()
	sig, err := metadataSignature(root)
	if err != nil {
		return nil, err
	}
	// As for responses: only a configured certificate can verify.
	forPinnedKeys(sig)
	return validateMetadata(root, certs)
}

// metadataSignature returns the one enveloped signature of the metadata's
// root, after checking its shape and algorithms.
func metadataSignature(root *etree.Element) (*etree.Element, *Error) {
	// Exactly one Signature in the whole document, directly under the root:
	// goxmldsig looks for a signature referencing the root anywhere below
	// it, and a second one (on a nested entity) would leave which one it
	// checked to its search order.
	var sigs []*etree.Element
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for _, ch := range el.ChildElements() {
			if ch.Tag == "Signature" && ch.NamespaceURI() == nsDSig {
				sigs = append(sigs, ch)
			}
			walk(ch)
		}
	}
	walk(root)
	switch {
	case len(sigs) == 0:
		return nil, configError("the metadata is not signed")
	case len(sigs) > 1 || sigs[0].Parent() != root:
		return nil, configError("the metadata must carry exactly one signature, an enveloped signature directly under its root element; it has %d, the first under <%s>", len(sigs), sigs[0].Parent().Tag)
	}
	sig := sigs[0]

	// One Reference, to the root: by its ID, or "" (the whole document).
	refs := sig.FindElements("./SignedInfo/Reference")
	if len(refs) != 1 {
		return nil, configError("the metadata signature must have exactly one Reference; it has %d", len(refs))
	}
	if uri := refs[0].SelectAttrValue("URI", ""); uri != "" {
		id := root.SelectAttrValue(dsig.DefaultIdAttr, "")
		if id == "" || uri != "#"+id {
			return nil, configError("the metadata signature does not reference the root element")
		}
	}
	for _, path := range []string{"./SignedInfo/SignatureMethod", "./SignedInfo/Reference/DigestMethod"} {
		for _, el := range sig.FindElements(path) {
			if alg := el.SelectAttrValue("Algorithm", ""); isSHA1(alg) {
				// No opt-in here: whoever can forge the metadata's
				// signature chooses every certificate the connection trusts.
				return nil, configError("the metadata is signed with SHA-1 (%s); sign it with RSA-SHA256 or stronger", truncate(alg, 80))
			}
		}
	}

	return sig, nil
}

// validateMetadata verifies the root's signature with each configured
// certificate in turn and returns the verified element, serialized.
func validateMetadata(root *etree.Element, certs []*x509.Certificate) ([]byte, *Error) {
	var lastErr error
	for _, cert := range certs {
		// Trust is in the pinned key, so goxmldsig is given the certificate
		// without its validity period (as Verify does): rotating the
		// metadata signing key means configuring another certificate.
		u := *cert
		u.NotBefore = time.Time{}
		u.NotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{&u}})
		signed, err := vc.Validate(root)
		if err != nil {
			lastErr = err
			continue
		}
		out := etree.NewDocument()
		out.SetRoot(signed)
		b, err := out.WriteToBytes()
		if err != nil {
			return nil, configError("cannot serialize the signed metadata: %v", err).withCause(err)
		}
		return b, nil
	}
	if lastErr == nil {
		lastErr = errors.New("no certificate to verify with")
	}
	return nil, configError("the metadata signature does not verify with any of the %d configured signing certificates", len(certs)).withCause(lastErr)
}

// checkSigningCertificates refuses an empty (non-nil) list and weak keys.
func checkSigningCertificates(certs []*x509.Certificate) *Error {
	if certs != nil && len(certs) == 0 {
		// Most likely a file of certificates that held none: verifying
		// nothing must not be what an empty list means.
		return configError("SigningCertificates is empty; leave it nil to accept unsigned metadata")
	}
	for i, cert := range certs {
		if cert == nil {
			return configError("SigningCertificates[%d] is nil", i)
		}
		if err := checkKey(cert); err != nil {
			return configError("SigningCertificates[%d]: %s", i, err.Message)
		}
	}
	return nil
}
