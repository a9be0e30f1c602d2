package gateway_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

// A service behind a Gateway, and a user arriving from a tile of the
// JumpCloud user portal (an IdP-initiated login). samltest plays JumpCloud.
func Example() {
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
		IdPCertificatesPEM: [][]byte{jumpcloud.CertificatePEM()}, // certificate.pem
		Now:                now,
	})
	if err != nil {
		log.Fatal(err)
	}
	sessionKey := make([]byte, 32) // in production: from a secret store, the same on every replica
	rand.Read(sessionKey)
	gw, err := gateway.New(gateway.Config{
		Connections: []*saml.Connection{conn},
		SessionKeys: [][]byte{sessionKey},
		Now:         now,
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	gw.Mount(mux) // /login, /login/callback, /saml/metadata, /logout
	mux.Handle("/", gw.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := gateway.IdentityFromContext(r.Context())
		fmt.Fprintf(w, "hello %s, groups %v", id.Email, id.Groups)
	})))

	// JumpCloud posts a signed response to the ACS URL.
	form, err := jumpcloud.FormValue(samltest.Response{
		Audience:      "urn:samlgate:acme",
		Destination:   "https://auth.example.com/login/callback?connection=acme",
		Email:         "alice@example.com",
		EmailVerified: "true",
		Groups:        []string{"Engineering"},
	})
	if err != nil {
		log.Fatal(err)
	}
	res := samltest.PostForm(mux, "https://auth.example.com/login/callback?connection=acme", form, "/dashboard")
	fmt.Println(res.StatusCode, res.Header.Get("Location"))

	// The browser follows the redirect with its new session cookie.
	req := httptest.NewRequest(http.MethodGet, "https://auth.example.com/dashboard", nil)
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 303 /dashboard
	// 200 hello alice@example.com, groups [Engineering]
}
