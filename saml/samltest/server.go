package samltest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The paths a Server answers at, relative to where it is mounted (mount
// it under a prefix with http.StripPrefix).
const (
	// MetadataPath serves the IdP metadata (GET).
	MetadataPath = "/metadata"
	// SSOPath is the SSO endpoint: it takes AuthnRequests with the
	// HTTP-Redirect binding (GET) and the HTTP-POST binding (POST). Point
	// IdP.SSOURL at it, so that the metadata publishes it.
	SSOPath = "/sso"
	// IdPInitiatedPath starts an IdP-initiated login (GET), as a click on
	// an app tile in the IdP's portal does. An optional RelayState query
	// parameter is posted with the response.
	IdPInitiatedPath = "/idp-initiated"
)

// AuthnRequest is a login the Server is about to answer, as passed to
// Server.Respond.
type AuthnRequest struct {
	// ID is the AuthnRequest's ID, which the response's InResponseTo
	// answers; "" for an IdP-initiated login.
	ID string
	// Issuer is the SP entity ID the AuthnRequest names in its Issuer;
	// "" if it names none, and for an IdP-initiated login.
	Issuer string
	// ACSURL is where the response will be posted: the AuthnRequest's
	// AssertionConsumerServiceURL (one of Server.ACSURLs), or
	// Server.ACSURLs[0] for an AuthnRequest that names none and for an
	// IdP-initiated login.
	ACSURL string
	// RelayState is posted back with the response unchanged.
	RelayState string
}

// Server is a test IdP served over HTTP, for end-to-end tests of the
// SP-initiated and IdP-initiated logins of an SP: an http.Handler to
// start with httptest.NewServer, as go-oidc's oidctest.Server is.
//
//	s := &samltest.Server{
//		IdP:     samltest.New(key, cert, "https://sso.jumpcloud.com/saml2/acme"),
//		ACSURLs: []string{sp.URL + "/saml/acs"},
//		Respond: func(r *http.Request, req samltest.AuthnRequest) (samltest.Response, error) {
//			return samltest.Response{Audience: "urn:sp:acme", Email: "alice@example.com"}, nil
//		},
//	}
//	srv := httptest.NewServer(s)
//	defer srv.Close()
//	s.IdP.SSOURL = srv.URL + samltest.SSOPath
//	// The SP trusts the metadata at srv.URL + samltest.MetadataPath.
//
// It serves MetadataPath, SSOPath and IdPInitiatedPath (see those). Each
// login, SP-initiated or IdP-initiated, asks Respond who signs in and what
// the response holds, and answers with the page of the HTTP-POST binding
// (IdP.HTMLPostForm), which a browser posts to the ACS URL by itself and
// which ParseHTMLPostForm reads for an http.Client. Other answers are
// plain-text messages saying why: 400 Bad Request for an AuthnRequest that
// does not parse or names an ACS URL not in ACSURLs, 403 Forbidden when
// Respond returns an error, 405 Method Not Allowed, and 500 Internal
// Server Error when a field the login needs is not set.
//
// ACS URLs: the Server posts responses only to the URLs in ACSURLs,
// compared as strings, as JumpCloud answers only at the ACS URLs of the
// app. Posting to whatever AssertionConsumerServiceURL an AuthnRequest
// names would hand a signed login to anyone who can send the browser to
// the SSO endpoint.
//
// Set the fields before the first request; IdP.SSOURL may be set right
// after httptest.NewServer returns, once the server's URL is known. A
// Server is then safe for concurrent use. Like the rest of the package it
// is a test tool: it signs in whoever Respond says, with no
// authentication.
type Server struct {
	// IdP mints and signs the responses, and is described by the
	// metadata.
	IdP *IdP

	// ACSURLs are the SP's Assertion Consumer Service URLs, the only URLs
	// the Server posts responses to. The first is used for IdP-initiated
	// logins, and for AuthnRequests that name no
	// AssertionConsumerServiceURL (only an AssertionConsumerServiceIndex).
	ACSURLs []string

	// Respond decides who signs in and what the response holds. r is the
	// request to the SSO endpoint (or to IdPInitiatedPath), req the login
	// it carries. The Server fills in the two fields that come from the
	// exchange when Respond leaves them empty: InResponseTo (req.ID) and
	// Destination (req.ACSURL); Audience (the SP entity ID, which may be
	// req.Issuer) and the subject are Respond's to set.
	//
	// To refuse the user within SAML, return an error response, such as
	// the one JumpCloud sends a user the app is not bound to:
	//
	//	samltest.Response{
	//		StatusCode:    "Responder",
	//		SubStatusCode: "RequestDenied",
	//		StatusMessage: "User is not assigned to this application",
	//		OmitAssertion: true,
	//		Sign:          samltest.SignNone,
	//	}
	//
	// A non-nil error sends no response at all: the browser gets 403
	// Forbidden with the error's text, as from an IdP's own error page.
	Respond func(r *http.Request, req AuthnRequest) (Response, error)
}

// ServeHTTP serves the metadata, the SSO endpoint and IdP-initiated logins.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case MetadataPath:
		if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		if s.IdP == nil {
			http.Error(w, "samltest: Server.IdP is nil", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(s.IdP.Metadata())
	case SSOPath:
		if !allowMethods(w, r, http.MethodGet, http.MethodPost) || !s.ready(w) {
			return
		}
		req, err := parseAuthnRequest(r)
		if err != nil {
			http.Error(w, "samltest: bad AuthnRequest: "+err.Error(), http.StatusBadRequest)
			return
		}
		switch {
		case req.ACSURL == "":
			req.ACSURL = s.ACSURLs[0]
		case !slices.Contains(s.ACSURLs, req.ACSURL):
			http.Error(w, fmt.Sprintf("samltest: the AuthnRequest's AssertionConsumerServiceURL %q is not one of Server.ACSURLs %q", req.ACSURL, s.ACSURLs), http.StatusBadRequest)
			return
		}
		s.answer(w, r, req)
	case IdPInitiatedPath:
		if !allowMethods(w, r, http.MethodGet) || !s.ready(w) {
			return
		}
		s.answer(w, r, AuthnRequest{ACSURL: s.ACSURLs[0], RelayState: r.URL.Query().Get("RelayState")})
	default:
		http.NotFound(w, r)
	}
}

// ready reports whether the Server can answer logins, and answers 500
// Internal Server Error when it cannot.
func (s *Server) ready(w http.ResponseWriter) bool {
	var missing string
	switch {
	case s.IdP == nil:
		missing = "Server.IdP is nil"
	case s.Respond == nil:
		missing = "Server.Respond is nil"
	case len(s.ACSURLs) == 0:
		missing = "Server.ACSURLs is empty (the Server posts responses only to the ACS URLs listed there)"
	default:
		return true
	}
	http.Error(w, "samltest: "+missing, http.StatusInternalServerError)
	return false
}

// answer asks Respond for the response to req and writes the page that
// posts it to req.ACSURL.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, req AuthnRequest) {
	resp, err := s.Respond(r, req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if resp.InResponseTo == "" {
		resp.InResponseTo = req.ID
	}
	if resp.Destination == "" {
		resp.Destination = req.ACSURL
	}
	value, err := s.IdP.FormValue(resp)
	if err != nil {
		http.Error(w, "samltest: minting the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(s.IdP.HTMLPostForm(req.ACSURL, value, req.RelayState))
}

// allowMethods answers 405 Method Not Allowed, with an Allow header, to a
// request whose method is not one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, fmt.Sprintf("samltest: method %s not allowed here", r.Method), http.StatusMethodNotAllowed)
	return false
}
