package samltest_test

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml/samltest"
)

// A JumpCloud-shaped login replayed against an ACS handler. The handler
// here only checks the assertion signature with goxmldsig; a real test
// would use the verifier under test.
func Example() {
	clock := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	key, cert, err := samltest.NewKeyPair(2048, clock.AddDate(-1, 0, 0), clock.AddDate(4, 0, 0), "")
	if err != nil {
		log.Fatal(err)
	}
	idp := samltest.New(key, cert, "https://sso.jumpcloud.com/saml2/acme")
	idp.Now = func() time.Time { return clock }

	const acs = "https://auth.example.com/login/callback?connection=acme"
	form, err := idp.FormValue(samltest.Response{
		Audience:      "urn:samlgate:acme",
		Destination:   acs,
		NameID:        "alice@example.com",
		Email:         "alice@example.com",
		EmailVerified: "true",
		Groups:        []string{"Engineering", "Admins"},
	})
	if err != nil {
		log.Fatal(err)
	}

	acsHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := base64.StdEncoding.DecodeString(r.PostFormValue("SAMLResponse"))
		if err != nil {
			http.Error(w, "bad base64", http.StatusBadRequest)
			return
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			http.Error(w, "bad XML", http.StatusBadRequest)
			return
		}
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
		ctx.Clock = dsig.NewFakeClockAt(clock)
		signed, err := ctx.Validate(doc.FindElement("/Response/Assertion"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "signed in %s (relay %s)", signed.FindElement("Subject/NameID").Text(), r.PostFormValue("RelayState"))
	})

	res := samltest.PostForm(acsHandler, acs, form, "/dashboard")
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
	// Output: 200 signed in alice@example.com (relay /dashboard)
}

// An attack test: a second, unsigned assertion slipped in before the
// signed one after signing (signature wrapping).
func ExampleResponse_mutate() {
	idp := samltest.New(nil, nil, "https://sso.jumpcloud.com/saml2/acme")
	idp.Now = func() time.Time { return time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC) }
	out, err := idp.ResponseXML(samltest.Response{
		Sign:        samltest.SignNone, // a real test signs; see Example
		Audience:    "urn:samlgate:acme",
		Destination: "https://auth.example.com/login/callback?connection=acme",
		NameID:      "alice@example.com",
		Mutate: func(doc *etree.Document) {
			signed := doc.FindElement("/Response/Assertion")
			evil := signed.Copy()
			evil.SelectAttr("ID").Value = "EVIL"
			evil.FindElement("Subject/NameID").SetText("mallory@example.com")
			doc.Root().InsertChildAt(signed.Index(), evil)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(out); err != nil {
		log.Fatal(err)
	}
	for _, a := range doc.FindElements("/Response/Assertion") {
		fmt.Println(a.SelectAttrValue("ID", ""), a.FindElement("Subject/NameID").Text())
	}
	// Output:
	// EVIL mallory@example.com
	// HMCT03YWJJI2DO0RD81YWND2AD6PQZYQQ5WMXW8H alice@example.com
}
