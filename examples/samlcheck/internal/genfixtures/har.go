package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/samlgate/samlgate/saml/samltest"
)

type harPost struct {
	url, value, relayState string
	at                     time.Time
}

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the fields a
// browser's "Save all as HAR" writes that matter here.
type (
	har struct {
		Log harLog `json:"log"`
	}
	harLog struct {
		Version string       `json:"version"`
		Creator harNameValue `json:"creator"`
		Entries []harEntry   `json:"entries"`
	}
	harNameValue struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
		Value   string `json:"value,omitempty"`
	}
	harEntry struct {
		StartedDateTime string      `json:"startedDateTime"`
		Time            float64     `json:"time"`
		Request         harRequest  `json:"request"`
		Response        harResponse `json:"response"`
		Cache           struct{}    `json:"cache"`
		Timings         harTimings  `json:"timings"`
	}
	harRequest struct {
		Method      string         `json:"method"`
		URL         string         `json:"url"`
		HTTPVersion string         `json:"httpVersion"`
		Headers     []harNameValue `json:"headers"`
		QueryString []harNameValue `json:"queryString"`
		Cookies     []harNameValue `json:"cookies"`
		HeadersSize int            `json:"headersSize"`
		BodySize    int            `json:"bodySize"`
		PostData    *harPostData   `json:"postData,omitempty"`
	}
	harPostData struct {
		MimeType string     `json:"mimeType"`
		Text     string     `json:"text,omitempty"`
		Params   []harParam `json:"params"`
	}
	harParam struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harResponse struct {
		Status      int            `json:"status"`
		StatusText  string         `json:"statusText"`
		HTTPVersion string         `json:"httpVersion"`
		Headers     []harNameValue `json:"headers"`
		Cookies     []harNameValue `json:"cookies"`
		Content     harContent     `json:"content"`
		RedirectURL string         `json:"redirectURL"`
		HeadersSize int            `json:"headersSize"`
		BodySize    int            `json:"bodySize"`
	}
	harContent struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
		Text     string `json:"text,omitempty"`
	}
	harTimings struct {
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
	}
)

// harFile returns a HAR export of a JumpCloud login: the user opens the
// application, is sent to the JumpCloud user portal, and the browser posts
// each response to the ACS. paramsOnly leaves postData.text out, as some
// exporters do, so that only postData.params carries the form (URL-encoded,
// as Chrome writes them).
func harFile(posts []harPost, paramsOnly bool) ([]byte, error) {
	entries := []harEntry{
		harGet(samltest.FixtureClock().Add(-2*time.Minute), "https://app.example.com/", 302, "https://auth.example.com/login?connection=acme"),
		harGet(samltest.FixtureClock().Add(-2*time.Minute+100*time.Millisecond), "https://console.jumpcloud.com/userconsole/", 200, ""),
	}
	for _, p := range posts {
		entries = append(entries, harPostEntry(p, paramsOnly))
		entries = append(entries, harGet(p.at.Add(100*time.Millisecond), "https://app.example.com/dashboard", 200, ""))
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].StartedDateTime < entries[j].StartedDateTime })
	h := har{Log: harLog{Version: "1.2", Creator: harNameValue{Name: "WebInspector", Version: "537.36"}, Entries: entries}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // browsers write & and < as they are
	enc.SetIndent("", "  ")
	if err := enc.Encode(h); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// harGet is a page load the browser records around the login: a redirect
// when location is set, else an HTML page.
func harGet(at time.Time, u string, status int, location string) harEntry {
	e := harEntry{
		StartedDateTime: at.Format("2006-01-02T15:04:05.000Z"),
		Time:            41.5,
		Request: harRequest{
			Method: "GET", URL: u, HTTPVersion: "http/2.0",
			Headers:     []harNameValue{{Name: "accept", Value: "text/html"}},
			QueryString: []harNameValue{}, Cookies: []harNameValue{},
			HeadersSize: -1,
		},
		Response: harResponse{
			Status: status, StatusText: "", HTTPVersion: "http/2.0",
			Headers: []harNameValue{}, Cookies: []harNameValue{},
			Content:     harContent{MimeType: "text/html"},
			RedirectURL: location, HeadersSize: -1, BodySize: -1,
		},
		Timings: harTimings{Send: 0.2, Wait: 40, Receive: 1.3},
	}
	if location != "" {
		e.Response.Headers = append(e.Response.Headers, harNameValue{Name: "location", Value: location})
	}
	return e
}

// harPostEntry is the browser's form post of one response to the ACS, with
// the form both as text and as params (params only when paramsOnly).
func harPostEntry(p harPost, paramsOnly bool) harEntry {
	body := formBody(p.value, p.relayState)
	pd := &harPostData{MimeType: "application/x-www-form-urlencoded", Text: body}
	for _, kv := range strings.Split(body, "&") {
		k, v, _ := strings.Cut(kv, "=")
		pd.Params = append(pd.Params, harParam{Name: k, Value: v})
	}
	if paramsOnly {
		pd.Text = ""
	}
	return harEntry{
		StartedDateTime: p.at.Format("2006-01-02T15:04:05.000Z"),
		Time:            87.1,
		Request: harRequest{
			Method: "POST", URL: p.url, HTTPVersion: "http/2.0",
			Headers: []harNameValue{
				{Name: "content-type", Value: "application/x-www-form-urlencoded"},
				{Name: "origin", Value: "https://sso.jumpcloud.com"},
			},
			QueryString: queryString(p.url), Cookies: []harNameValue{},
			HeadersSize: -1, BodySize: len(body), PostData: pd,
		},
		Response: harResponse{
			Status: 302, StatusText: "", HTTPVersion: "http/2.0",
			Headers:     []harNameValue{{Name: "location", Value: "https://app.example.com/dashboard"}},
			Cookies:     []harNameValue{},
			Content:     harContent{MimeType: "text/plain"},
			RedirectURL: "https://app.example.com/dashboard", HeadersSize: -1, BodySize: 0,
		},
		Timings: harTimings{Send: 0.4, Wait: 85, Receive: 1.7},
	}
}

// queryString is the HAR request's queryString: the URL's query parameters
// sorted by name.
func queryString(u string) []harNameValue {
	parsed, err := url.Parse(u)
	if err != nil {
		return []harNameValue{}
	}
	qs := []harNameValue{}
	for k, vs := range parsed.Query() {
		for _, v := range vs {
			qs = append(qs, harNameValue{Name: k, Value: v})
		}
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].Name < qs[j].Name })
	return qs
}
