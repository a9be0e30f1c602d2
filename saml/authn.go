package saml

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"

	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// LoginRequest is an SP-initiated login request (an unsigned
// AuthnRequest), built by NewLoginRequest. Its ID is known before anything
// is sent, so that the caller can bind it to the browser and seal it into
// the RelayState first; Encode then produces what the browser is sent.
type LoginRequest struct {
	// ID is the AuthnRequest ID. The response answers it in InResponseTo:
	// keep it, bound to this browser, and pass it to Verify with
	// WithRequestIDs.
	ID string

	conn *Connection
	sp   *crewjam.ServiceProvider
	req  *crewjam.AuthnRequest
}

// LoginMessage is a LoginRequest encoded for one of the two browser
// bindings. Exactly one of RedirectURL and PostForm is set.
type LoginMessage struct {
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
// binding at the connection's ACS URL.
//
// The caller must remember the returned ID for this browser and pass it to
// Verify, or the response will be refused as in_response_to_mismatch; and
// it must tie the ID to the browser that started the login (a cookie), or
// an attacker can make a victim's browser finish the attacker's login
// (login CSRF). The gateway package does both.
func (c *Connection) NewLoginRequest(ctx context.Context) (*LoginRequest, error) {
	if c.cfg.IdPSSOURL == "" {
		e := configError("IdPSSOURL is empty, so SP-initiated logins cannot start: set it to the \"IdP URL\" of the JumpCloud SSO app, or use IdPMetadataXML")
		e.Connection = c.cfg.Name
		return nil, e
	}
	ps, perr := c.pinsFor(ctx)
	if perr != nil {
		perr.Connection = c.cfg.Name
		return nil, perr
	}
	sp := ps.sp // a copy: the clock is per call
	sp.Clock = dsig.NewFakeClockAt(c.now())
	binding := crewjam.HTTPPostBinding
	if c.cfg.IdPSSORedirect {
		binding = crewjam.HTTPRedirectBinding
	}
	req, err := sp.MakeAuthenticationRequest(c.cfg.IdPSSOURL, binding, crewjam.HTTPPostBinding)
	if err != nil {
		return nil, fmt.Errorf("samlgate: connection %s: building the AuthnRequest: %w", c.cfg.Name, err)
	}
	return &LoginRequest{ID: req.ID, conn: c, sp: &sp, req: req}, nil
}

// Encode returns the request for the browser, with relayState, which the
// IdP returns unchanged with the response. The SAML bindings limit
// RelayState to 80 bytes (§3.4.3, §3.5.3); JumpCloud, Okta and Entra ID
// accept more.
func (lr *LoginRequest) Encode(relayState string) (*LoginMessage, error) {
	if lr.conn.cfg.IdPSSORedirect {
		u, err := lr.req.Redirect(relayState, lr.sp)
		if err != nil {
			return nil, fmt.Errorf("samlgate: connection %s: encoding the AuthnRequest: %w", lr.conn.cfg.Name, err)
		}
		return &LoginMessage{RedirectURL: u.String()}, nil
	}
	msg := &LoginMessage{ScriptNonce: randomHex(16)}
	msg.PostForm = lr.req.PostWithNonce(relayState, msg.ScriptNonce)
	return msg, nil
}

// Metadata returns this connection's SP metadata, for the "Upload SP
// Metadata" button of a JumpCloud SSO app (or any IdP's equivalent): the SP
// entity ID, the ACS URL (with its ?connection= query) for the HTTP-POST
// binding and AuthnRequestsSigned="false". WantAssertionsSigned is "true"
// only when the signature policy requires the Assertion itself to be
// signed (SignatureAssertion, SignatureBoth), and "false" otherwise
// (SignatureEither, SignatureResponse): the metadata never promises the IdP
// a check Verify does not make. It carries no validUntil, so that an uploaded copy never expires, and no
// certificate: samlgate neither signs requests nor accepts encrypted
// assertions.
func (c *Connection) Metadata() ([]byte, error) {
	sp := c.serviceProvider(nil)
	sp.Clock = dsig.NewFakeClockAt(c.now())
	sp.MetadataOmitValidUntil = true
	ed := sp.Metadata()
	want := assertionSignatureRequired(c.cfg.Signature)
	for i := range ed.SPSSODescriptors {
		ed.SPSSODescriptors[i].WantAssertionsSigned = &want
	}
	out, err := xml.MarshalIndent(ed, "", "  ")
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
