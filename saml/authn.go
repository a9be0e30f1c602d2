package saml

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"

	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// LoginRequest is an SP-initiated login: an AuthnRequest for the IdP, ready
// to send with one of the two browser bindings. Exactly one of RedirectURL
// and PostForm is set.
type LoginRequest struct {
	// ID is the AuthnRequest ID. The response answers it in InResponseTo:
	// keep it (bound to this browser) and pass it to Verify with
	// WithRequestIDs.
	ID string
	// RedirectURL is set for the HTTP-Redirect binding, used when the IdP
	// declares it (ConnectionConfig.IdPSSORedirect): redirect the browser
	// there.
	RedirectURL string
	// PostForm is set for the HTTP-POST binding: an HTML page whose form
	// posts the AuthnRequest to the IdP, submitted by a script on load.
	// Serve it with Content-Type text/html.
	PostForm []byte
	// ScriptNonce is the nonce attribute of PostForm's script, for a
	// Content-Security-Policy of script-src 'nonce-<ScriptNonce>'.
	ScriptNonce string
}

// NewLoginRequest starts an SP-initiated login: it builds an unsigned
// AuthnRequest (JumpCloud publishes WantAuthnRequestsSigned="false") for
// the connection's IdP URL, asking for the response with the HTTP-POST
// binding at the connection's ACS URL. relayState is returned by the IdP
// unchanged with the response; the SAML bindings limit it to 80 bytes,
// though JumpCloud, Okta and Entra ID accept more.
//
// The caller must remember the returned ID for this browser and pass it to
// Verify, or the response will be refused as in_response_to_mismatch.
// Gateway does this for you.
func (c *Connection) NewLoginRequest(relayState string) (*LoginRequest, error) {
	sp, req, err := c.authnRequest()
	if err != nil {
		return nil, err
	}
	return c.encodeLoginRequest(sp, req, relayState)
}

// authnRequest builds the AuthnRequest on a copy of the template
// ServiceProvider, whose clock is the connection's.
func (c *Connection) authnRequest() (*crewjam.ServiceProvider, *crewjam.AuthnRequest, error) {
	if c.cfg.IdPSSOURL == "" {
		return nil, nil, configError("IdPSSOURL is empty, so SP-initiated logins cannot start: set it to the \"IdP URL\" of the JumpCloud SSO app, or use IdPMetadataXML")
	}
	sp := c.sp // a copy: the clock is per call
	sp.Clock = dsig.NewFakeClockAt(c.now())
	binding := crewjam.HTTPPostBinding
	if c.cfg.IdPSSORedirect {
		binding = crewjam.HTTPRedirectBinding
	}
	req, err := sp.MakeAuthenticationRequest(c.cfg.IdPSSOURL, binding, crewjam.HTTPPostBinding)
	if err != nil {
		return nil, nil, fmt.Errorf("samlgate: connection %s: building the AuthnRequest: %w", c.cfg.Name, err)
	}
	return &sp, req, nil
}

func (c *Connection) encodeLoginRequest(sp *crewjam.ServiceProvider, req *crewjam.AuthnRequest, relayState string) (*LoginRequest, error) {
	lr := &LoginRequest{ID: req.ID}
	if c.cfg.IdPSSORedirect {
		u, err := req.Redirect(relayState, sp)
		if err != nil {
			return nil, fmt.Errorf("samlgate: connection %s: encoding the AuthnRequest: %w", c.cfg.Name, err)
		}
		lr.RedirectURL = u.String()
		return lr, nil
	}
	lr.ScriptNonce = randomHex(16)
	lr.PostForm = req.PostWithNonce(relayState, lr.ScriptNonce)
	return lr, nil
}

// Metadata returns this connection's SP metadata, for the "Upload SP
// Metadata" button of a JumpCloud SSO app (or any IdP's equivalent): the SP
// entity ID, the ACS URL (with its ?connection= query) for the HTTP-POST
// binding, AuthnRequestsSigned="false" and WantAssertionsSigned="true".
// It carries no validUntil, so that an uploaded copy never expires, and no
// certificate: samlgate neither signs requests nor accepts encrypted
// assertions.
func (c *Connection) Metadata() ([]byte, error) {
	sp := c.sp
	sp.Clock = dsig.NewFakeClockAt(c.now())
	sp.MetadataOmitValidUntil = true
	out, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("samlgate: connection %s: encoding the SP metadata: %w", c.cfg.Name, err)
	}
	return append([]byte(xml.Header), out...), nil
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+).
		panic(err)
	}
	return hex.EncodeToString(b)
}
