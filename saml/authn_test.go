package saml_test

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/saml"
)

// formInput reads the inputs of an auto-submitting SAML form.
var formInput = regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)"`)

func TestNewLoginRequest(t *testing.T) {
	ctx := context.Background()
	idp := newIdP(t, "idp")
	for _, redirect := range []bool{false, true} {
		cfg := baseConfig(t)
		cfg.IdPSSORedirect = redirect
		conn := newConn(t, cfg)
		lr, err := conn.NewLoginRequest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(lr.ID, "id-") {
			t.Errorf("ID %q", lr.ID)
		}
		// The ID is known before the RelayState is chosen: seal it in.
		msg, err := lr.Encode("state-" + lr.ID)
		if err != nil {
			t.Fatal(err)
		}
		var req *http.Request
		if redirect {
			if msg.RedirectURL == "" || msg.PostForm != nil {
				t.Fatalf("redirect binding: %+v", msg)
			}
			if !strings.HasPrefix(msg.RedirectURL, idp.SSOURL+"?SAMLRequest=") {
				t.Errorf("RedirectURL %q", msg.RedirectURL)
			}
			req = httptest.NewRequest(http.MethodGet, msg.RedirectURL, nil)
		} else {
			if msg.RedirectURL != "" || msg.PostForm == nil || msg.ScriptNonce == "" {
				t.Fatalf("POST binding: %+v", msg)
			}
			page := string(msg.PostForm)
			if !strings.Contains(page, `action="`+idp.SSOURL+`"`) || !strings.Contains(page, `nonce="`+msg.ScriptNonce+`"`) {
				t.Errorf("form:\n%s", page)
			}
			form := url.Values{}
			for _, in := range formInput.FindAllStringSubmatch(page, -1) {
				form.Set(in[1], strings.ReplaceAll(in[2], "&#43;", "+"))
			}
			req = httptest.NewRequest(http.MethodPost, idp.SSOURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		id, acs, relay, err := idp.ParseAuthnRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		if id != lr.ID || acs != acsURL || relay != "state-"+lr.ID {
			t.Errorf("the IdP read ID %q ACS %q RelayState %q", id, acs, relay)
		}

		// The response to it verifies with its ID.
		r := standard()
		r.InResponseTo = lr.ID
		if _, err := conn.Verify(ctx, mint(t, idp, r), saml.WithRequestIDs(lr.ID)); err != nil {
			t.Errorf("response to the request: %v", err)
		}
	}

	// No IdP URL: SP-initiated logins cannot start.
	cfg := baseConfig(t)
	cfg.IdPSSOURL = ""
	if _, err := newConn(t, cfg).NewLoginRequest(ctx); !errors.Is(err, saml.CodeConfigInvalid) || !strings.Contains(err.Error(), "IdPSSOURL") {
		t.Errorf("without IdPSSOURL: %v", err)
	}
}

// TestConnectionMetadata checks the SP metadata, and that it says
// WantAssertionsSigned="true" exactly when the signature policy requires a
// signed Assertion: an IdP told so, with a policy that does not check it,
// would be promised a check that is not made.
func TestConnectionMetadata(t *testing.T) {
	for _, tt := range []struct {
		sig  saml.SignaturePolicy
		want string
	}{
		{"", "false"}, // the default, SignatureEither
		{saml.SignatureEither, "false"},
		{saml.SignatureResponse, "false"},
		{saml.SignatureAssertion, "true"},
		{saml.SignatureBoth, "true"},
	} {
		t.Run(string(tt.sig), func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.Signature = tt.sig
			md, err := newConn(t, cfg).Metadata()
			if err != nil {
				t.Fatal(err)
			}
			var ed struct {
				EntityID string `xml:"entityID,attr"`
				SP       []struct {
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
			if len(ed.SP) != 1 {
				t.Fatalf("%d SPSSODescriptors\n%s", len(ed.SP), md)
			}
			sp := ed.SP[0]
			if ed.EntityID != "urn:samlgate:acme" || sp.AuthnRequestsSigned != "false" || sp.WantAssertionsSigned != tt.want ||
				len(sp.KeyDescriptors) != 0 || len(sp.ACS) != 1 ||
				sp.ACS[0].Location != acsURL || sp.ACS[0].Binding != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {
				t.Errorf("metadata %+v, want WantAssertionsSigned=%q\n%s", ed, tt.want, md)
			}
		})
	}
}
