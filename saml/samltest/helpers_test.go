package samltest_test

import (
	"crypto/rsa"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml/samltest"
)

// The standard settings of testdata/README.md.
var (
	pinned      = samltest.FixtureClock()
	entityID    = samltest.FixtureIdPEntityID
	audience    = samltest.FixtureSPEntityID
	acsURL      = samltest.FixtureACSURL
	aliceEmail  = samltest.FixtureEmail
	aliceGroups = samltest.FixtureResponse().Groups
)

// keyPair loads testdata/keys/NAME.{crt,key}.pem.
func keyPair(t testing.TB, name string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "keys")
	key, cert, err := samltest.LoadKeyPair(filepath.Join(dir, name+".crt.pem"), filepath.Join(dir, name+".key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// newIdP returns a fresh IdP with the idp key pair and the pinned clock.
func newIdP(t testing.TB) *samltest.IdP {
	t.Helper()
	key, cert := keyPair(t, "idp")
	idp := samltest.New(key, cert, entityID)
	idp.Now = func() time.Time { return pinned }
	return idp
}

// standard returns the standard response options.
func standard() samltest.Response {
	return samltest.FixtureResponse()
}

func mint(t testing.TB, idp *samltest.IdP, r samltest.Response) []byte {
	t.Helper()
	b, err := idp.ResponseXML(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, b []byte) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

// verify checks the enveloped signature of el with goxmldsig, trusting
// only cert, at the pinned clock.
func verify(el *etree.Element, cert *x509.Certificate) error {
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	ctx.Clock = dsig.NewFakeClockAt(pinned)
	_, err := ctx.Validate(el)
	return err
}
