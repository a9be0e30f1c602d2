package gateway_test

import (
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

// The operator's own refusal page, and a logout that ends at the
// JumpCloud user portal. A user the IdP refuses (not assigned to the app:
// RequestDenied) gets the page with the wording the gateway chose for the
// code, and nothing of the response.
func ExampleConfig_pages() {
	clock := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	key, cert, err := samltest.NewKeyPair(2048, clock.AddDate(-1, 0, 0), clock.AddDate(4, 0, 0), "")
	if err != nil {
		log.Fatal(err)
	}
	jumpcloud := samltest.New(key, cert, "https://sso.jumpcloud.com/saml2/acme")
	jumpcloud.Now = now
	conn, err := saml.NewConnection(saml.ConnectionConfig{
		Name:               "acme",
		SPEntityID:         "urn:samlgate:acme",
		ACSURL:             "https://auth.example.com/login/callback?connection=acme",
		IdPEntityID:        jumpcloud.EntityID,
		IdPSSOURL:          jumpcloud.SSOURL,
		IdPCertificatesPEM: [][]byte{jumpcloud.CertificatePEM()},
		Now:                now,
	})
	if err != nil {
		log.Fatal(err)
	}
	errorPage := template.Must(template.New("error").Parse(
		`<h1>{{.Title}}</h1><p>{{.Message}}</p><p>{{.Advice}}</p><small>{{.Code}}</small>`))
	gw, err := gateway.New(gateway.Config{
		Connections: []*saml.Connection{conn},
		SessionKeys: [][]byte{make([]byte, 32)}, // in production: random, from a secret store
		AppName:     "Acme Reports",
		Pages:       gateway.Pages{Error: errorPage},
		LogoutURLs:  map[string]string{"acme": "https://console.jumpcloud.com/userconsole"},
		Now:         now,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	gw.Mount(mux)

	form, err := jumpcloud.FormValue(samltest.Response{
		Destination: "https://auth.example.com/login/callback?connection=acme",
		StatusCode:  "Responder", SubStatusCode: "RequestDenied",
		OmitAssertion: true, Sign: samltest.SignNone,
	})
	if err != nil {
		log.Fatal(err)
	}
	res := samltest.PostForm(mux, "https://auth.example.com/login/callback?connection=acme", form, "")
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode)
	fmt.Println(string(body))
	// Output:
	// 403
	// <h1>No access to Acme Reports</h1><p>JumpCloud did not let you sign in to Acme Reports. Usually this means your account is not assigned to this application at JumpCloud.</p><p>Ask your administrator to give your account access to Acme Reports in JumpCloud. Signing in again will not help until they do.</p><small>status_not_success</small>
}
