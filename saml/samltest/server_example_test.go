package samltest_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/saml/samltest"
)

// An SP-initiated login, end to end: the SP sends the browser to the
// Server's SSO endpoint with an AuthnRequest, and the Server answers with
// the page that posts alice's signed response to the SP's ACS.
func ExampleServer() {
	// The SP under test. Here it is a stub whose ACS only prints what it
	// receives; a real test starts the SP's own handler, which trusts the
	// metadata the Server publishes at samltest.MetadataPath.
	mux := http.NewServeMux()
	sp := httptest.NewServer(mux)
	defer sp.Close()

	key, cert, err := samltest.NewKeyPair(2048, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "")
	if err != nil {
		log.Fatal(err)
	}
	idp := &samltest.Server{
		IdP:     samltest.New(key, cert, "https://sso.jumpcloud.com/saml2/acme"),
		ACSURLs: []string{sp.URL + "/acs"},
		Respond: func(r *http.Request, req samltest.AuthnRequest) (samltest.Response, error) {
			return samltest.Response{
				Audience: req.Issuer, // the SP entity ID
				Email:    "alice@example.com",
				Groups:   []string{"Engineering"},
			}, nil
		},
	}
	idpServer := httptest.NewServer(idp)
	defer idpServer.Close()
	idp.IdP.SSOURL = idpServer.URL + samltest.SSOPath

	// The SP's login: an AuthnRequest with the HTTP-Redirect binding.
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		authnRequest := `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ` +
			`xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-42" Version="2.0" ` +
			`IssueInstant="` + time.Now().UTC().Format(time.RFC3339) + `" AssertionConsumerServiceURL="` + sp.URL + `/acs">` +
			`<saml:Issuer>urn:example:sp</saml:Issuer></samlp:AuthnRequest>`
		var deflated bytes.Buffer
		fw, _ := flate.NewWriter(&deflated, flate.DefaultCompression)
		fw.Write([]byte(authnRequest))
		fw.Close()
		q := url.Values{
			"SAMLRequest": {base64.StdEncoding.EncodeToString(deflated.Bytes())},
			"RelayState":  {"/dashboard"},
		}
		http.Redirect(w, r, idp.IdP.SSOURL+"?"+q.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /acs", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := base64.StdEncoding.DecodeString(r.PostFormValue("SAMLResponse"))
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%s for %s, in response to %s, back to %s",
			doc.FindElement("//Subject/NameID").Text(),
			doc.FindElement("//Audience").Text(),
			doc.Root().SelectAttrValue("InResponseTo", ""),
			r.PostFormValue("RelayState"))
	})

	// The browser: it follows the redirect to the IdP, then submits the
	// IdP's page to the ACS.
	res, err := http.Get(sp.URL + "/login")
	if err != nil {
		log.Fatal(err)
	}
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	acsURL, form, err := samltest.ParseHTMLPostForm(page)
	if err != nil {
		log.Fatalf("%v: %s", err, page)
	}
	res, err = http.PostForm(acsURL, form)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(string(body))
	// Output: alice@example.com for urn:example:sp, in response to id-42, back to /dashboard
}
