package saml_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// exampleIdP is a JumpCloud-like test IdP with the test keys of
// testdata/keys and a pinned clock. In production the responses come from
// JumpCloud; only certificate.pem is needed to verify them.
func exampleIdP() (*samltest.IdP, []byte) {
	key, cert, err := samltest.LoadKeyPair("../testdata/keys/idp.crt.pem", "../testdata/keys/idp.key.pem")
	if err != nil {
		log.Fatal(err)
	}
	certPEM, err := os.ReadFile("../testdata/keys/idp.crt.pem")
	if err != nil {
		log.Fatal(err)
	}
	idp := samltest.New(key, cert, "https://sso.jumpcloud.com/saml2/acme")
	idp.Now = func() time.Time { return time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC) }
	return idp, certPEM
}

// The quickstart: one connection per JumpCloud SSO app, configured with
// what the admin typed in the JumpCloud console and its certificate.pem.
func ExampleNewConnection() {
	_, certPEM := exampleIdP()
	conn, err := saml.NewConnection(saml.ConnectionConfig{
		Name:               "acme",
		SPEntityID:         "urn:samlgate:acme",
		ACSURL:             "https://auth.example.com/login/callback?connection=acme",
		IdPEntityID:        "https://sso.jumpcloud.com/saml2/acme",
		IdPSSOURL:          "https://sso.jumpcloud.com/saml2/acme",
		IdPCertificatesPEM: [][]byte{certPEM},
		// Tests pin the clock; leave Now nil in production.
		Now: func() time.Time { return time.Date(2026, 1, 15, 10, 0, 30, 0, time.UTC) },
	})
	if err != nil {
		log.Fatal(err)
	}
	cfg := conn.Config()
	certs, err := conn.Certificates(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(conn.Name(), cfg.Signature, cfg.EmailVerified, len(certs))
	// Output: acme either require 1
}

// Verify takes the SAMLResponse form value the browser POSTs to the ACS
// URL and returns the identity it proves.
func ExampleConnection_Verify() {
	idp, certPEM := exampleIdP()
	conn, err := saml.NewConnection(saml.ConnectionConfig{
		Name:               "acme",
		SPEntityID:         "urn:samlgate:acme",
		ACSURL:             "https://auth.example.com/login/callback?connection=acme",
		IdPEntityID:        "https://sso.jumpcloud.com/saml2/acme",
		IdPCertificatesPEM: [][]byte{certPEM},
		Now:                func() time.Time { return time.Date(2026, 1, 15, 10, 0, 30, 0, time.UTC) },
	})
	if err != nil {
		log.Fatal(err)
	}

	// What JumpCloud posts: in a handler, r.PostFormValue("SAMLResponse").
	samlResponse, err := idp.FormValue(samltest.Response{
		Audience:      "urn:samlgate:acme",
		Destination:   "https://auth.example.com/login/callback?connection=acme",
		Email:         "alice@example.com",
		EmailVerified: "true",
		Groups:        []string{"Engineering", "Admins"},
	})
	if err != nil {
		log.Fatal(err)
	}

	id, err := conn.Verify(context.Background(), samlResponse)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("email:", id.Email)
	fmt.Println("email_verified:", id.EmailVerified)
	fmt.Println("groups:", id.Groups)
	// Output:
	// email: alice@example.com
	// email_verified: true
	// groups: [Engineering Admins]
}

// Every refusal is an *Error: match its Code with errors.Is,
// log its Code, and show the admin its Hint.
func ExampleError() {
	idp, certPEM := exampleIdP()
	conn, err := saml.NewConnection(saml.ConnectionConfig{
		Name:               "acme",
		SPEntityID:         "urn:samlgate:acme",
		ACSURL:             "https://auth.example.com/login/callback?connection=acme",
		IdPEntityID:        "https://sso.jumpcloud.com/saml2/acme",
		IdPCertificatesPEM: [][]byte{certPEM},
		Now:                func() time.Time { return time.Date(2026, 1, 15, 10, 0, 30, 0, time.UTC) },
	})
	if err != nil {
		log.Fatal(err)
	}
	// The admin forgot JumpCloud's constant attribute email_verified.
	samlResponse, err := idp.FormValue(samltest.Response{
		Audience:    "urn:samlgate:acme",
		Destination: "https://auth.example.com/login/callback?connection=acme",
		Email:       "alice@example.com",
	})
	if err != nil {
		log.Fatal(err)
	}

	_, err = conn.Verify(context.Background(), samlResponse)
	if errors.Is(err, saml.CodeEmailVerifiedInvalid) {
		var e *saml.Error
		errors.As(err, &e)
		fmt.Println("code:", e.Code)
		fmt.Println("expected:", e.Expected)
		fmt.Println("actual:", e.Actual)
		fmt.Println("hint:", e.Hint)
	}
	// Output:
	// code: email_verified_invalid
	// expected: email_verified = true
	// actual: (missing)
	// hint: In the JumpCloud SSO app, SSO tab → Constant Attributes: add email_verified = true (exactly once, with one value).
}
