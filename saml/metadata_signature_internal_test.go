package saml

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml/samltest"
)

func loadKeyPair(t testing.TB, name string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	dir := filepath.Join("..", "testdata", "keys")
	certPEM, err := os.ReadFile(filepath.Join(dir, name+".crt.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, name+".key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, cert, err := samltest.KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// FuzzVerifyMetadataSignature fuzzes the metadata a MetadataFetcher with
// SigningCertificates downloads: it never panics, refuses with
// config_invalid, and what it accepts is exactly the metadata the signer
// signed (the seeds' entity, SSO URL and certificate), however the rest
// of the document was changed.
func FuzzVerifyMetadataSignature(f *testing.F) {
	signerKey, signerCert := loadKeyPair(f, "idp2")
	idpKey, idpCert := loadKeyPair(f, "idp")
	const entityID = "https://sso.jumpcloud.com/saml2/acme"
	idp := samltest.New(idpKey, idpCert, entityID)
	md := idp.Metadata()
	sign := func(withID bool, c14n dsig.Canonicalizer) []byte {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(md); err != nil {
			f.Fatal(err)
		}
		if withID {
			doc.Root().CreateAttr("ID", "_md1")
		}
		ctx, err := dsig.NewSigningContext(signerKey, [][]byte{signerCert.Raw})
		if err != nil {
			f.Fatal(err)
		}
		ctx.Canonicalizer = c14n
		signed, err := ctx.SignEnveloped(doc.Root())
		if err != nil {
			f.Fatal(err)
		}
		doc.SetRoot(signed)
		b, err := doc.WriteToBytes()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(sign(true, dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")))
	f.Add(sign(false, dsig.MakeC14N11Canonicalizer()))
	f.Add(md)
	f.Add([]byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>`))
	certs := []*x509.Certificate{signerCert}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := verifyMetadataSignature(data, certs)
		if err != nil {
			if out != nil || err.Code != CodeConfigInvalid {
				t.Fatalf("refusal %v with %d bytes", err, len(out))
			}
			return
		}
		got, perr := parseIdPMetadata(out)
		if perr != nil {
			t.Fatalf("accepted, then unparseable: %v", perr)
		}
		if got.entityID != entityID || got.ssoURL != idp.SSOURL || len(got.certs) != 1 || !got.certs[0].Equal(idpCert) {
			t.Fatalf("accepted metadata the signer did not sign: %+v", got)
		}
		if bytes.Contains(out, []byte("SignatureValue")) {
			t.Fatal("the signature is in the output")
		}
	})
}
