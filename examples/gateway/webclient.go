package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// webClient is a minimal browser for the selftest: a cookie jar, redirects
// followed, and HTML forms submitted the way a browser would (including the
// auto-submitting forms of the SAML HTTP-POST binding).
type webClient struct {
	c *http.Client
}

// newWebClient returns a client with an empty cookie jar (a new browser
// profile) that connects through tr.
func newWebClient(tr *http.Transport) *webClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err) // cookiejar.New never fails with nil options
	}
	return &webClient{c: &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second}}
}

// page is a fetched page.
type page struct {
	URL    *url.URL // after redirects
	Status int
	Header http.Header
	Body   []byte
}

func (p *page) String() string {
	body := string(p.Body)
	if len(body) > 300 {
		body = body[:300] + "..."
	}
	return fmt.Sprintf("%d %s: %s", p.Status, p.URL, strings.TrimSpace(body))
}

// browserAccept is what a browser sends when it navigates: the gateway
// redirects such requests to the login, and answers others with 401.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func (wc *webClient) do(req *http.Request) (*page, error) {
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", browserAccept)
	}
	resp, err := wc.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	return &page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

func (wc *webClient) get(ctx context.Context, u string, header http.Header) (*page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v // raw keys, so that odd spellings go out as given
	}
	return wc.do(req)
}

// htmlForm is a form of a page: its absolute action, method, the values of
// its named inputs (hidden, text...) and its submit buttons.
type htmlForm struct {
	Action  *url.URL
	Method  string
	Fields  url.Values
	Buttons []formButton
}

type formButton struct{ ID, Name, Value string }

// submit sends the form as a browser would, with button's name and value
// if button is not nil.
func (wc *webClient) submit(ctx context.Context, f *htmlForm, button *formButton) (*page, error) {
	vals := url.Values{}
	for k, v := range f.Fields {
		vals[k] = append([]string(nil), v...)
	}
	if button != nil && button.Name != "" {
		vals.Add(button.Name, button.Value)
	}
	if f.Method == http.MethodGet {
		u := *f.Action
		u.RawQuery = vals.Encode()
		return wc.get(ctx, u.String(), nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Action.String(), strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return wc.do(req)
}

// forms parses the forms of p.
func (p *page) forms() ([]*htmlForm, error) {
	doc, err := html.Parse(bytes.NewReader(p.Body))
	if err != nil {
		return nil, err
	}
	var forms []*htmlForm
	var cur *htmlForm
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				action, err := p.URL.Parse(attr(n, "action"))
				if err != nil {
					action = p.URL
				}
				method := strings.ToUpper(attr(n, "method"))
				if method != http.MethodPost {
					method = http.MethodGet
				}
				f := &htmlForm{Action: action, Method: method, Fields: url.Values{}}
				forms = append(forms, f)
				prev := cur
				cur = f
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
				cur = prev
				return
			case "input":
				if cur != nil {
					name, typ := attr(n, "name"), strings.ToLower(attr(n, "type"))
					switch {
					case typ == "submit":
						cur.Buttons = append(cur.Buttons, formButton{ID: attr(n, "id"), Name: name, Value: attr(n, "value")})
					case name != "":
						cur.Fields.Add(name, attr(n, "value"))
					}
				}
			case "button":
				if cur != nil && strings.ToLower(attr(n, "type")) != "button" {
					cur.Buttons = append(cur.Buttons, formButton{ID: attr(n, "id"), Name: attr(n, "name"), Value: attr(n, "value")})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms, nil
}

// samlForm returns the page's form carrying SAMLRequest or SAMLResponse (a
// SAML HTTP-POST binding page), or nil. A form with a named button asks
// for a choice (the demo IdP's login page, which hands the AuthnRequest
// on), so it does not count: the binding's forms submit themselves.
func (p *page) samlForm() *htmlForm {
	if !strings.Contains(p.Header.Get("Content-Type"), "html") {
		return nil
	}
	forms, err := p.forms()
	if err != nil {
		return nil
	}
	for _, f := range forms {
		if f.Method == http.MethodPost && (f.Fields.Has("SAMLRequest") || f.Fields.Has("SAMLResponse")) && !f.hasNamedButton() {
			return f
		}
	}
	return nil
}

func (f *htmlForm) hasNamedButton() bool {
	for _, b := range f.Buttons {
		if b.Name != "" {
			return true
		}
	}
	return false
}

// hrefByID returns the absolute href of the element with the id.
func (p *page) hrefByID(id string) (string, error) {
	doc, err := html.Parse(bytes.NewReader(p.Body))
	if err != nil {
		return "", err
	}
	var found *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if found != nil {
			return
		}
		if n.Type == html.ElementNode && attr(n, "id") == id {
			found = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if found == nil {
		return "", fmt.Errorf("no element with id %q on %s", id, p.URL)
	}
	href := attr(found, "href")
	if href == "" {
		return "", fmt.Errorf("element %q has no href", id)
	}
	u, err := p.URL.Parse(href)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// formWithButton returns the form holding the button with the id.
func (p *page) formWithButton(id string) (*htmlForm, *formButton, error) {
	forms, err := p.forms()
	if err != nil {
		return nil, nil, err
	}
	for _, f := range forms {
		for i := range f.Buttons {
			if f.Buttons[i].ID == id {
				return f, &f.Buttons[i], nil
			}
		}
	}
	return nil, nil, fmt.Errorf("no button %q on %s", id, p)
}

// submitSAMLForms submits auto-submitting SAML forms until the page has
// none (at most a few: request to the IdP, response to the ACS). It
// returns the last page and the SAML forms it submitted.
func (wc *webClient) submitSAMLForms(ctx context.Context, p *page) (*page, []*htmlForm, error) {
	var submitted []*htmlForm
	for range 4 {
		f := p.samlForm()
		if f == nil {
			return p, submitted, nil
		}
		submitted = append(submitted, f)
		var err error
		if p, err = wc.submit(ctx, f, nil); err != nil {
			return nil, submitted, err
		}
	}
	return nil, submitted, errors.New("too many SAML forms in a row")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}
