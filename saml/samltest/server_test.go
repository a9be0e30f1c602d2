package samltest_test

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/crewjam/saml"

	"github.com/samlgate/samlgate/saml/samltest"
)

// acsURL2 is a second ACS URL of the SP (another connection).
const acsURL2 = "https://auth.example.com/login/callback?connection=acme2"

// serverEnv is a samltest.Server started with httptest, the crewjam SP
// that sends it AuthnRequests and checks its responses, and a record of
// the calls to Respond.
type serverEnv struct {
	s   *samltest.Server
	ts  *httptest.Server
	sp  *saml.ServiceProvider
	mu  sync.Mutex
	got []samltest.AuthnRequest // what Respond was called with
}

// alice is the Respond of most tests: alice signs in to the SP.
func alice(*http.Request, samltest.AuthnRequest) (samltest.Response, error) {
	r := standard()
	r.Destination = "" // the Server's to fill in
	return r, nil
}

func newServerEnv(t *testing.T, respond func(*http.Request, samltest.AuthnRequest) (samltest.Response, error)) *serverEnv {
	t.Helper()
	e := &serverEnv{}
	e.s = &samltest.Server{
		IdP:     newIdP(t),
		ACSURLs: []string{acsURL, acsURL2},
		Respond: func(r *http.Request, req samltest.AuthnRequest) (samltest.Response, error) {
			e.mu.Lock()
			e.got = append(e.got, req)
			e.mu.Unlock()
			return respond(r, req)
		},
	}
	e.ts = httptest.NewServer(e.s)
	t.Cleanup(e.ts.Close)
	e.s.IdP.SSOURL = e.ts.URL + samltest.SSOPath
	e.sp = newSP(t, e.s.IdP) // reads the metadata, so after SSOURL is set
	return e
}

// calls returns what Respond was called with so far.
func (e *serverEnv) calls() []samltest.AuthnRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]samltest.AuthnRequest(nil), e.got...)
}

// do sends req to the Server and returns the response and its body.
func (e *serverEnv) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// get sends a GET of u, a URL or a path on the Server.
func (e *serverEnv) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = e.ts.URL + u
	}
	return e.do(t, mustRequest(t, http.MethodGet, u, nil))
}

// redirectBinding returns the SSO URL with an AuthnRequest (xml) sent
// with the HTTP-Redirect binding.
func (e *serverEnv) redirectBinding(t *testing.T, xml, relayState string) string {
	t.Helper()
	q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(deflate(t, []byte(xml)))}}
	if relayState != "" {
		q.Set("RelayState", relayState)
	}
	return e.ts.URL + samltest.SSOPath + "?" + q.Encode()
}

// postBinding returns the POST request of the HTTP-POST binding.
func (e *serverEnv) postBinding(t *testing.T, form url.Values) *http.Request {
	t.Helper()
	r := mustRequest(t, http.MethodPost, e.ts.URL+samltest.SSOPath, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func mustRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// authnRequestXML is an AuthnRequest from the SP naming acs (none if "").
func authnRequestXML(id, acs string) string {
	attr := ""
	if acs != "" {
		attr = ` AssertionConsumerServiceURL="` + strings.ReplaceAll(acs, "&", "&amp;") + `"`
	}
	return `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="` + id +
		`" Version="2.0" IssueInstant="2026-01-15T10:00:00Z"` + attr + `><saml:Issuer> ` + audience + ` </saml:Issuer></samlp:AuthnRequest>`
}

// answer checks that res is the Server's page posting a response to
// wantACS with wantRelayState, and returns the response's XML.
func answer(t *testing.T, res *http.Response, body, wantACS, wantRelayState string) []byte {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	action, form, err := samltest.ParseHTMLPostForm([]byte(body))
	if err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if action != wantACS {
		t.Errorf("the form posts to %q, want %q", action, wantACS)
	}
	if form.Get("RelayState") != wantRelayState || form.Has("RelayState") != (wantRelayState != "") {
		t.Errorf("RelayState %q (sent: %v), want %q", form.Get("RelayState"), form.Has("RelayState"), wantRelayState)
	}
	xml, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	return xml
}

// accept checks xml with the crewjam SP, as a response posted to acs in
// answer to requestIDs, and returns the NameID it signs in.
func (e *serverEnv) accept(t *testing.T, xml []byte, acs string, requestIDs ...string) string {
	t.Helper()
	u, err := url.Parse(acs)
	if err != nil {
		t.Fatal(err)
	}
	sp := *e.sp
	sp.AcsURL = *u
	sp.AllowIDPInitiated = len(requestIDs) == 0
	assertion, err := sp.ParseXMLResponse(xml, requestIDs, *u)
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) {
			err = ire.PrivateErr
		}
		t.Fatalf("the crewjam SP refuses the response: %v", err)
	}
	return assertion.Subject.NameID.Value
}

func TestServerMetadata(t *testing.T) {
	e := newServerEnv(t, alice)
	res, body := e.get(t, samltest.MetadataPath)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if body != string(e.s.IdP.Metadata()) {
		t.Errorf("metadata is not IdP.Metadata():\n%s", body)
	}
	if !strings.Contains(body, `Location="`+e.ts.URL+samltest.SSOPath+`"`) {
		t.Errorf("the metadata does not publish the SSO endpoint:\n%s", body)
	}
	res, body = e.do(t, mustRequest(t, http.MethodHead, e.ts.URL+samltest.MetadataPath, nil))
	if res.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD: status %d, body %q", res.StatusCode, body)
	}
}

// TestServerLogins runs SP-initiated logins with both bindings and
// IdP-initiated logins, and checks each response with an independent SP.
func TestServerLogins(t *testing.T) {
	tests := []struct {
		name string
		// request returns the request to the Server and the ID of its
		// AuthnRequest ("" for IdP-initiated).
		request func(t *testing.T, e *serverEnv) (*http.Request, string)
		wantACS string
		relay   string
	}{
		{
			name: "HTTP-Redirect (crewjam SP)",
			request: func(t *testing.T, e *serverEnv) (*http.Request, string) {
				u, err := e.sp.MakeRedirectAuthenticationRequest("relay-1")
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(u.String(), e.ts.URL+samltest.SSOPath+"?") {
					t.Fatalf("the SP sends its AuthnRequest to %s", u)
				}
				return mustRequest(t, http.MethodGet, u.String(), nil), "" // ID: see Respond
			},
			wantACS: acsURL,
			relay:   "relay-1",
		},
		{
			name: "HTTP-POST (crewjam SP)",
			request: func(t *testing.T, e *serverEnv) (*http.Request, string) {
				req, err := e.sp.MakeAuthenticationRequest(e.s.IdP.SSOURL, saml.HTTPPostBinding, saml.HTTPPostBinding)
				if err != nil {
					t.Fatal(err)
				}
				form := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(elementBytes(t, req))}, "RelayState": {"relay-2"}}
				return e.postBinding(t, form), req.ID
			},
			wantACS: acsURL,
			relay:   "relay-2",
		},
		{
			name: "second ACS URL",
			request: func(t *testing.T, e *serverEnv) (*http.Request, string) {
				return mustRequest(t, http.MethodGet, e.redirectBinding(t, authnRequestXML("id-2", acsURL2), ""), nil), "id-2"
			},
			wantACS: acsURL2,
		},
		{
			name: "no AssertionConsumerServiceURL: the first",
			request: func(t *testing.T, e *serverEnv) (*http.Request, string) {
				return mustRequest(t, http.MethodGet, e.redirectBinding(t, authnRequestXML("id-3", ""), "r"), nil), "id-3"
			},
			wantACS: acsURL,
			relay:   "r",
		},
		{
			name: "IdP-initiated",
			request: func(t *testing.T, e *serverEnv) (*http.Request, string) {
				return mustRequest(t, http.MethodGet, e.ts.URL+samltest.IdPInitiatedPath, nil), ""
			},
			wantACS: acsURL,
		},
		{
			name: "IdP-initiated with a RelayState",
			request: func(t *testing.T, e *serverEnv) (*http.Request, string) {
				return mustRequest(t, http.MethodGet, e.ts.URL+samltest.IdPInitiatedPath+"?RelayState=%2Freports%3Fq%3D1", nil), ""
			},
			wantACS: acsURL,
			relay:   "/reports?q=1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newServerEnv(t, alice)
			req, id := tt.request(t, e)
			res, body := e.do(t, req)
			xml := answer(t, res, body, tt.wantACS, tt.relay)

			calls := e.calls()
			if len(calls) != 1 {
				t.Fatalf("Respond called %d times", len(calls))
			}
			got := calls[0]
			idpInitiated := strings.Contains(req.URL.Path, samltest.IdPInitiatedPath)
			if id == "" && !idpInitiated {
				id = got.ID // made by crewjam: checked by the SP below
			}
			want := samltest.AuthnRequest{ID: id, Issuer: audience, ACSURL: tt.wantACS, RelayState: tt.relay}
			if idpInitiated {
				want.Issuer = ""
			}
			if got != want || (!idpInitiated && got.ID == "") {
				t.Errorf("Respond got %+v, want %+v", got, want)
			}
			var nameID string
			if id == "" {
				nameID = e.accept(t, xml, tt.wantACS)
			} else {
				nameID = e.accept(t, xml, tt.wantACS, id)
			}
			if nameID != aliceEmail {
				t.Errorf("NameID %q", nameID)
			}
			if strings.Contains(string(xml), "InResponseTo") != !idpInitiated {
				t.Errorf("InResponseTo present: %v, IdP-initiated: %v", strings.Contains(string(xml), "InResponseTo"), idpInitiated)
			}
		})
	}
}

// TestServerRespond checks what the Server does with what Respond returns.
func TestServerRespond(t *testing.T) {
	t.Run("RequestDenied", func(t *testing.T) {
		e := newServerEnv(t, func(*http.Request, samltest.AuthnRequest) (samltest.Response, error) {
			return samltest.Response{
				StatusCode:    "Responder",
				SubStatusCode: "RequestDenied",
				StatusMessage: "User is not assigned to this application",
				OmitAssertion: true,
				Sign:          samltest.SignNone,
			}, nil
		})
		res, body := e.get(t, e.redirectBinding(t, authnRequestXML("id-9", acsURL), "relay"))
		root := parse(t, answer(t, res, body, acsURL, "relay"))
		if v := root.SelectAttrValue("InResponseTo", ""); v != "id-9" {
			t.Errorf("InResponseTo %q", v)
		}
		if v := root.SelectAttrValue("Destination", ""); v != acsURL {
			t.Errorf("Destination %q", v)
		}
		code := root.FindElement("Status/StatusCode")
		if code == nil || code.SelectAttrValue("Value", "") != "urn:oasis:names:tc:SAML:2.0:status:Responder" {
			t.Fatalf("top-level StatusCode %v", code)
		}
		if sub := code.FindElement("StatusCode"); sub == nil || sub.SelectAttrValue("Value", "") != "urn:oasis:names:tc:SAML:2.0:status:RequestDenied" {
			t.Errorf("second-level StatusCode %v", sub)
		}
		if root.FindElement("Assertion") != nil || root.FindElement("//Signature") != nil {
			t.Error("the refusal has an assertion or a signature")
		}
	})

	t.Run("Destination and InResponseTo set by Respond are kept", func(t *testing.T) {
		e := newServerEnv(t, func(r *http.Request, req samltest.AuthnRequest) (samltest.Response, error) {
			resp, _ := alice(r, req)
			resp.Destination = "https://other.example.com/acs"
			resp.InResponseTo = "id-other"
			return resp, nil
		})
		res, body := e.get(t, e.redirectBinding(t, authnRequestXML("id-10", acsURL), ""))
		// Posted to the ACS URL of the request all the same.
		root := parse(t, answer(t, res, body, acsURL, ""))
		if root.SelectAttrValue("Destination", "") != "https://other.example.com/acs" || root.SelectAttrValue("InResponseTo", "") != "id-other" {
			t.Errorf("Destination %q, InResponseTo %q", root.SelectAttrValue("Destination", ""), root.SelectAttrValue("InResponseTo", ""))
		}
	})

	t.Run("Respond reads the request", func(t *testing.T) {
		e := newServerEnv(t, func(r *http.Request, req samltest.AuthnRequest) (samltest.Response, error) {
			resp, _ := alice(r, req)
			resp.NameID = r.FormValue("user") + "@example.com"
			return resp, nil
		})
		res, body := e.get(t, samltest.IdPInitiatedPath+"?user=bob")
		if got := e.accept(t, answer(t, res, body, acsURL, ""), acsURL); got != "bob@example.com" {
			t.Errorf("NameID %q", got)
		}
	})
}

// TestServerRefuses checks the requests the Server does not answer with a
// SAML response, and that it says why.
func TestServerRefuses(t *testing.T) {
	tests := []struct {
		name       string
		respond    func(*http.Request, samltest.AuthnRequest) (samltest.Response, error) // nil: alice
		config     func(*samltest.Server)
		request    func(t *testing.T, e *serverEnv) *http.Request
		wantStatus int
		wantBody   string // a substring of the body
		wantAllow  string
	}{
		{
			name: "no SAMLRequest (HTTP-Redirect)",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodGet, e.ts.URL+samltest.SSOPath+"?RelayState=x", nil)
			},
			wantStatus: http.StatusBadRequest,
			wantBody:   "samltest: bad AuthnRequest: samltest: no SAMLRequest in the query",
		},
		{
			name: "no SAMLRequest (HTTP-POST)",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return e.postBinding(t, url.Values{"RelayState": {"x"}})
			},
			wantStatus: http.StatusBadRequest,
			wantBody:   "bad AuthnRequest: samltest: no SAMLRequest in the form",
		},
		{
			name: "not base64",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return e.postBinding(t, url.Values{"SAMLRequest": {"%%%"}})
			},
			wantStatus: http.StatusBadRequest,
			wantBody:   "bad AuthnRequest: samltest: SAMLRequest is not base64",
		},
		{
			name: "not an AuthnRequest",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodGet, e.redirectBinding(t, `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"/>`, ""), nil)
			},
			wantStatus: http.StatusBadRequest,
			wantBody:   "}LogoutRequest, not a SAML 2.0 AuthnRequest",
		},
		{
			name: "ACS URL not listed",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodGet, e.redirectBinding(t, authnRequestXML("id-1", "https://evil.example.com/acs"), ""), nil)
			},
			wantStatus: http.StatusBadRequest,
			wantBody:   `AssertionConsumerServiceURL "https://evil.example.com/acs" is not one of Server.ACSURLs`,
		},
		{
			name: "ACS URL differing in case",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodGet, e.redirectBinding(t, authnRequestXML("id-1", strings.ToUpper(acsURL)), ""), nil)
			},
			wantStatus: http.StatusBadRequest,
			wantBody:   "is not one of Server.ACSURLs",
		},
		{
			name: "Respond refuses",
			respond: func(*http.Request, samltest.AuthnRequest) (samltest.Response, error) {
				return samltest.Response{}, errors.New("no such user")
			},
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodGet, e.ts.URL+samltest.IdPInitiatedPath, nil)
			},
			wantStatus: http.StatusForbidden,
			wantBody:   "no such user",
		},
		{
			name: "Respond's response does not mint",
			respond: func(*http.Request, samltest.AuthnRequest) (samltest.Response, error) {
				return samltest.Response{Sign: samltest.Sign(42)}, nil
			},
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodGet, e.ts.URL+samltest.IdPInitiatedPath, nil)
			},
			wantStatus: http.StatusInternalServerError,
			wantBody:   "samltest: minting the response: samltest: unknown Sign value 42",
		},
		{
			name:   "no ACSURLs",
			config: func(s *samltest.Server) { s.ACSURLs = nil },
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodGet, e.redirectBinding(t, authnRequestXML("id-1", acsURL), ""), nil)
			},
			wantStatus: http.StatusInternalServerError,
			wantBody:   "samltest: Server.ACSURLs is empty",
		},
		{
			name:   "no Respond",
			config: func(s *samltest.Server) { s.Respond = nil },
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodGet, e.ts.URL+samltest.IdPInitiatedPath, nil)
			},
			wantStatus: http.StatusInternalServerError,
			wantBody:   "samltest: Server.Respond is nil",
		},
		{
			name: "PUT to the SSO endpoint",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodPut, e.ts.URL+samltest.SSOPath, nil)
			},
			wantStatus: http.StatusMethodNotAllowed,
			wantBody:   "samltest: method PUT not allowed here",
			wantAllow:  "GET, POST",
		},
		{
			name: "POST to the IdP-initiated endpoint",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodPost, e.ts.URL+samltest.IdPInitiatedPath, nil)
			},
			wantStatus: http.StatusMethodNotAllowed,
			wantAllow:  "GET",
		},
		{
			name: "POST to the metadata",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodPost, e.ts.URL+samltest.MetadataPath, nil)
			},
			wantStatus: http.StatusMethodNotAllowed,
			wantAllow:  "GET, HEAD",
		},
		{
			name: "unknown path",
			request: func(t *testing.T, e *serverEnv) *http.Request {
				return mustRequest(t, http.MethodGet, e.ts.URL+samltest.SSOPath+"/", nil)
			},
			wantStatus: http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			respond := tt.respond
			if respond == nil {
				respond = alice
			}
			e := newServerEnv(t, respond)
			if tt.config != nil {
				tt.config(e.s)
			}
			res, body := e.do(t, tt.request(t, e))
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body %q, want it to contain %q", body, tt.wantBody)
			}
			if got := res.Header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow %q, want %q", got, tt.wantAllow)
			}
			if strings.Contains(body, "SAMLResponse") {
				t.Errorf("a SAML response was sent: %s", body)
			}
			if n := len(e.calls()); tt.respond == nil && n != 0 {
				t.Errorf("Respond called %d times", n)
			}
		})
	}
}

// TestParseHTMLPostForm checks that ParseHTMLPostForm reads back what
// HTMLPostForm writes, escaped values included.
func TestParseHTMLPostForm(t *testing.T) {
	idp := newIdP(t)
	for _, relay := range []string{"", `/a?b=1&c="<x>"`} {
		action, form, err := samltest.ParseHTMLPostForm(idp.HTMLPostForm(acsURL, "PHNhbWw++/=", relay))
		if err != nil {
			t.Fatal(err)
		}
		want := url.Values{"SAMLResponse": {"PHNhbWw++/="}}
		if relay != "" {
			want.Set("RelayState", relay)
		}
		if action != acsURL || form.Encode() != want.Encode() {
			t.Errorf("got %q %v, want %q %v", action, form, acsURL, want)
		}
	}
	for _, page := range []string{"", "<html><body>no form</body></html>", `<form method="post" action="https://x"><input type="hidden" name="RelayState" value="x"></form>`} {
		if _, _, err := samltest.ParseHTMLPostForm([]byte(page)); err == nil {
			t.Errorf("%q: no error", page)
		}
	}
}
