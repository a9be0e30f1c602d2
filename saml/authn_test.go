package saml_test

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

func TestNewLoginRequest(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	idp := gwIdP(t, "idp", clk)
	for _, redirect := range []bool{false, true} {
		conn := gwConn(t, "acme", idp, clk, func(c *saml.ConnectionConfig) { c.IdPSSORedirect = redirect })
		lr, err := conn.NewLoginRequest("state-123")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(lr.ID, "id-") {
			t.Errorf("ID %q", lr.ID)
		}
		var req *http.Request
		if redirect {
			if lr.RedirectURL == "" || lr.PostForm != nil {
				t.Fatalf("redirect binding: %+v", lr)
			}
			if !strings.HasPrefix(lr.RedirectURL, idp.SSOURL+"?SAMLRequest=") {
				t.Errorf("RedirectURL %q", lr.RedirectURL)
			}
			req = httptest.NewRequest(http.MethodGet, lr.RedirectURL, nil)
		} else {
			if lr.RedirectURL != "" || lr.PostForm == nil || lr.ScriptNonce == "" {
				t.Fatalf("POST binding: %+v", lr)
			}
			page := string(lr.PostForm)
			if !strings.Contains(page, `action="`+idp.SSOURL+`"`) || !strings.Contains(page, `nonce="`+lr.ScriptNonce+`"`) {
				t.Errorf("form:\n%s", page)
			}
			form := url.Values{}
			for _, in := range gwFormInput.FindAllStringSubmatch(page, -1) {
				form.Set(in[1], strings.ReplaceAll(in[2], "&#43;", "+"))
			}
			req = httptest.NewRequest(http.MethodPost, idp.SSOURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		id, acs, relay, err := idp.ParseAuthnRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		if id != lr.ID || acs != gwACS("acme") || relay != "state-123" {
			t.Errorf("the IdP read ID %q ACS %q RelayState %q", id, acs, relay)
		}

		// The response to it verifies with its ID.
		form, err := idp.FormValue(samltest.Response{Audience: "urn:samlgate:acme", Destination: gwACS("acme"), Email: gwEmail, EmailVerified: "true", InResponseTo: id})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Verify(context.Background(), form, saml.WithRequestIDs(lr.ID)); err != nil {
			t.Errorf("response to the request: %v", err)
		}
	}

	// No IdP URL: SP-initiated logins cannot start.
	conn := gwConn(t, "acme", idp, clk, func(c *saml.ConnectionConfig) { c.IdPSSOURL = "" })
	if _, err := conn.NewLoginRequest(""); !errors.Is(err, saml.ErrConfigInvalid) || !strings.Contains(err.Error(), "IdPSSOURL") {
		t.Errorf("without IdPSSOURL: %v", err)
	}
	e := newGwEnv(t, gwOptions{clk: clk, idp: idp, conns: []*saml.Connection{conn}})
	res := e.browser().get(gwHost+"/login", gwBrowserAccept)
	if page := gwBody(t, res); res.StatusCode != http.StatusInternalServerError || !strings.Contains(page, "config_invalid") {
		t.Errorf("GET /login without IdPSSOURL: %d\n%s", res.StatusCode, page)
	}
}

func TestConnectionMetadata(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	conn := gwConn(t, "acme", gwIdP(t, "idp", clk), clk, nil)
	md, err := conn.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	var ed struct {
		EntityID string `xml:"entityID,attr"`
		SP       struct {
			AuthnRequestsSigned  string     `xml:"AuthnRequestsSigned,attr"`
			WantAssertionsSigned string     `xml:"WantAssertionsSigned,attr"`
			KeyDescriptors       []struct{} `xml:"KeyDescriptor"`
			ACS                  []struct {
				Binding  string `xml:"Binding,attr"`
				Location string `xml:"Location,attr"`
			} `xml:"AssertionConsumerService"`
		} `xml:"SPSSODescriptor"`
	}
	if err := xml.Unmarshal(md, &ed); err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != "urn:samlgate:acme" || ed.SP.AuthnRequestsSigned != "false" || ed.SP.WantAssertionsSigned != "true" ||
		len(ed.SP.KeyDescriptors) != 0 || len(ed.SP.ACS) != 1 ||
		ed.SP.ACS[0].Location != gwACS("acme") || ed.SP.ACS[0].Binding != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {
		t.Errorf("metadata %+v\n%s", ed, md)
	}
}
