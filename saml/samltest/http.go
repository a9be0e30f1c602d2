package samltest

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/beevik/etree"
)

// NewPostRequest returns the request a browser makes when it submits the
// IdP's form: a POST to acsURL with the form fields SAMLResponse and, if
// non-empty, RelayState, as application/x-www-form-urlencoded. Add cookies
// to it to replay an SP-initiated login. It panics if acsURL does not
// parse, as httptest.NewRequest does.
func NewPostRequest(acsURL, samlResponse, relayState string) *http.Request {
	form := url.Values{"SAMLResponse": {samlResponse}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	req := httptest.NewRequest(http.MethodPost, acsURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// PostForm serves NewPostRequest(acsURL, samlResponse, relayState) with h,
// through an httptest.ResponseRecorder, and returns the recorded response.
func PostForm(h http.Handler, acsURL, samlResponse, relayState string) *http.Response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, NewPostRequest(acsURL, samlResponse, relayState))
	return rec.Result()
}

// MaxAuthnRequestSize is the largest AuthnRequest XML ParseAuthnRequest
// accepts, after base64 decoding and, for HTTP-Redirect, inflating.
const MaxAuthnRequestSize = 64 << 10

// maxPostBody bounds the form body read for the HTTP-POST binding.
const maxPostBody = 4*MaxAuthnRequestSize/3 + 16<<10

// ParseAuthnRequest reads the AuthnRequest of an SP-initiated login sent to
// the IdP, with the HTTP-Redirect binding (GET, query SAMLRequest, raw
// DEFLATE then base64) or the HTTP-POST binding (POST, form SAMLRequest,
// base64). It returns the request ID, its AssertionConsumerServiceURL
// (empty if the request names an AssertionConsumerServiceIndex instead:
// then the caller picks the ACS) and the RelayState.
//
// The XML is limited to MaxAuthnRequestSize bytes, must not have a
// DOCTYPE, and its root must be a SAML 2.0 protocol AuthnRequest with an ID
// and Version 2.0. Signatures on the request are not checked (JumpCloud
// publishes WantAuthnRequestsSigned="false"), nor is its Destination.
func (idp *IdP) ParseAuthnRequest(r *http.Request) (id, acsURL, relayState string, err error) {
	req, err := parseAuthnRequest(r)
	if err != nil {
		return "", "", "", err
	}
	return req.ID, req.ACSURL, req.RelayState, nil
}

func parseAuthnRequest(r *http.Request) (AuthnRequest, error) {
	var raw []byte
	var relayState string
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		encoded := q.Get("SAMLRequest")
		if encoded == "" {
			return AuthnRequest{}, errors.New("samltest: no SAMLRequest in the query")
		}
		if len(encoded) > MaxAuthnRequestSize {
			return AuthnRequest{}, errors.New("samltest: SAMLRequest too large")
		}
		deflated, err := decodeBase64(encoded)
		if err != nil {
			return AuthnRequest{}, err
		}
		raw, err = inflate(deflated)
		if err != nil {
			return AuthnRequest{}, err
		}
		relayState = q.Get("RelayState")
	case http.MethodPost:
		if r.Body != nil {
			r.Body = http.MaxBytesReader(nil, r.Body, maxPostBody)
		}
		if err := r.ParseForm(); err != nil {
			return AuthnRequest{}, fmt.Errorf("samltest: reading the form: %w", err)
		}
		encoded := r.PostForm.Get("SAMLRequest")
		if encoded == "" {
			return AuthnRequest{}, errors.New("samltest: no SAMLRequest in the form")
		}
		var err error
		raw, err = decodeBase64(encoded)
		if err != nil {
			return AuthnRequest{}, err
		}
		if len(raw) > MaxAuthnRequestSize {
			return AuthnRequest{}, errors.New("samltest: SAMLRequest too large")
		}
		relayState = r.PostForm.Get("RelayState")
	default:
		return AuthnRequest{}, fmt.Errorf("samltest: method %s is neither GET (HTTP-Redirect) nor POST (HTTP-POST)", r.Method)
	}

	req, err := parseAuthnRequestXML(raw)
	if err != nil {
		return AuthnRequest{}, err
	}
	req.RelayState = relayState
	return req, nil
}

func decodeBase64(s string) ([]byte, error) {
	// Some SPs wrap the base64 in lines; XML Schema's base64Binary and
	// the bindings allow whitespace.
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("samltest: SAMLRequest is not base64: %w", err)
	}
	return b, nil
}

func inflate(b []byte) ([]byte, error) {
	fr := flate.NewReader(bytes.NewReader(b))
	defer fr.Close()
	out, err := io.ReadAll(io.LimitReader(fr, MaxAuthnRequestSize+1))
	if err != nil {
		return nil, fmt.Errorf("samltest: SAMLRequest does not inflate: %w", err)
	}
	if len(out) > MaxAuthnRequestSize {
		return nil, errors.New("samltest: SAMLRequest too large once inflated")
	}
	return out, nil
}

// parseAuthnRequestXML returns the ID, AssertionConsumerServiceURL and
// Issuer of an AuthnRequest.
func parseAuthnRequestXML(raw []byte) (AuthnRequest, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = 64
	if err := doc.ReadFromBytes(raw); err != nil {
		return AuthnRequest{}, fmt.Errorf("samltest: AuthnRequest is not XML: %w", err)
	}
	var root *etree.Element
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Directive:
			return AuthnRequest{}, errors.New("samltest: AuthnRequest has a DOCTYPE")
		case *etree.Element:
			if root != nil {
				return AuthnRequest{}, errors.New("samltest: AuthnRequest has several root elements")
			}
			root = t
		}
	}
	if root == nil {
		return AuthnRequest{}, errors.New("samltest: AuthnRequest is empty")
	}
	if root.Tag != "AuthnRequest" || root.NamespaceURI() != nsProtocol {
		return AuthnRequest{}, fmt.Errorf("samltest: root element is {%s}%s, not a SAML 2.0 AuthnRequest", root.NamespaceURI(), root.Tag)
	}
	if v := root.SelectAttrValue("Version", ""); v != "2.0" {
		return AuthnRequest{}, fmt.Errorf("samltest: AuthnRequest Version is %q, not 2.0", v)
	}
	req := AuthnRequest{
		ID:     root.SelectAttrValue("ID", ""),
		ACSURL: root.SelectAttrValue("AssertionConsumerServiceURL", ""),
	}
	if req.ID == "" {
		return AuthnRequest{}, errors.New("samltest: AuthnRequest has no ID")
	}
	for _, c := range root.ChildElements() {
		if c.Tag == "Issuer" && c.NamespaceURI() == nsAssertion {
			req.Issuer = strings.TrimSpace(c.Text())
			break
		}
	}
	return req, nil
}

var postFormTemplate = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Signing in</title></head>
<body>
<form method="post" action="{{.URL}}">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
{{- if .RelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">
{{- end}}
<noscript><p>JavaScript is off: press Continue to finish signing in.</p><input type="submit" value="Continue"></noscript>
</form>
<script>document.forms[0].submit();</script>
</body>
</html>
`))

// HTMLPostForm returns the HTML page of the HTTP-POST binding: a form that
// posts SAMLResponse (and RelayState, if non-empty) to acsURL, submitted by
// a script on load, with a Continue button when scripts are off. The values
// are escaped by html/template (an acsURL with an unsafe scheme such as
// javascript: is replaced).
func (idp *IdP) HTMLPostForm(acsURL, samlResponse, relayState string) []byte {
	var buf bytes.Buffer
	err := postFormTemplate.Execute(&buf, struct{ URL, SAMLResponse, RelayState string }{acsURL, samlResponse, relayState})
	if err != nil {
		// The template and its data are fixed; writing to memory cannot fail.
		panic(err)
	}
	return buf.Bytes()
}

var (
	postFormActionRE = regexp.MustCompile(`<form\b[^>]*\baction="([^"]*)"`)
	postFormInputRE  = regexp.MustCompile(`<input\b[^>]*\bname="([^"]*)"[^>]*\bvalue="([^"]*)"`)
)

// ParseHTMLPostForm reads a page written by HTMLPostForm (what a Server
// answers) and returns the form's action, the ACS URL, and its fields,
// SAMLResponse and RelayState: what a browser would post. It lets a test
// drive a login with an http.Client instead of a browser:
//
//	acsURL, form, err := samltest.ParseHTMLPostForm(page)
//	...
//	res, err := client.PostForm(acsURL, form)
//
// It reads only the markup HTMLPostForm writes, not HTML in general.
func ParseHTMLPostForm(page []byte) (acsURL string, form url.Values, err error) {
	m := postFormActionRE.FindSubmatch(page)
	if m == nil {
		return "", nil, errors.New("samltest: no form with an action in the page")
	}
	form = url.Values{}
	for _, in := range postFormInputRE.FindAllSubmatch(page, -1) {
		form.Add(html.UnescapeString(string(in[1])), html.UnescapeString(string(in[2])))
	}
	if !form.Has("SAMLResponse") {
		return "", nil, errors.New("samltest: the form has no SAMLResponse")
	}
	return html.UnescapeString(string(m[1])), form, nil
}
