package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// Size limits on input files, checked before any decoding: a response is a
// few kilobytes (a thousand groups make 60 KB), while a HAR export holds a
// whole browsing session.
const (
	maxInputBytes = 1 << 20
	maxHARBytes   = 50 << 20
)

// Input forms, as reported in the "form" field of -json output.
const (
	formHAR    = "har"
	formXML    = "xml"
	formBody   = "form"
	formBase64 = "base64"
)

// input is one FILE argument, read but not yet decoded.
type input struct {
	name string // as given on the command line; "-" is stdin
	data []byte
	// truncated is set when the file is larger than maxHARBytes.
	truncated bool
}

// readInputs reads every FILE before anything is verified, so that a
// missing file is a usage error rather than a rejection halfway through.
func readInputs(names []string, stdin io.Reader) ([]input, error) {
	stdinUsed := false
	inputs := make([]input, 0, len(names))
	for _, name := range names {
		var r io.Reader
		if name == "-" {
			if stdinUsed {
				return nil, errors.New("- (stdin) is given more than once")
			}
			stdinUsed = true
			r = stdin
		} else {
			data, err := readFile(name)
			if err != nil {
				return nil, err
			}
			r = bytes.NewReader(data)
		}
		data, err := io.ReadAll(io.LimitReader(r, maxHARBytes+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		in := input{name: name, data: data}
		if len(data) > maxHARBytes {
			in.truncated = true
		}
		inputs = append(inputs, in)
	}
	return inputs, nil
}

// readFile reads at most maxHARBytes+1 bytes of a file.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", name)
	}
	return io.ReadAll(io.LimitReader(f, maxHARBytes+1))
}

// decoded is a SAMLResponse found in an input.
type decoded struct {
	form string
	// description says, for people, which form was found and where.
	description string
	// value is the SAMLResponse form value, base64 as the browser posts it.
	value string
	// postURL is the URL the HAR's POST went to; connection is its
	// ?connection= parameter.
	postURL, connection string
}

// decodeInput finds the SAMLResponse in data, in whichever form an admin
// captured it. The forms are tried in this order: a HAR export (JSON with
// a "log" object), raw XML (the first non-space character is '<'), a
// URL-encoded form body (it contains "SAMLResponse="), and else the base64
// value itself, where line breaks and other white space are allowed.
func decodeInput(in input, maxPlain int) (*decoded, *diagnosis) {
	if in.truncated {
		return nil, inputError("too_large", fmt.Sprintf("the input is over %d MiB, the limit even for a HAR export", maxHARBytes>>20),
			"Capture only the login: clear the network log, log in, then export the HAR (or copy the SAMLResponse form value).")
	}
	// White space, and a byte order mark from Windows editors.
	data := bytes.TrimLeft(in.data, " \t\r\n\ufeff")
	if len(data) == 0 {
		return nil, inputError("malformed", "the input is empty", pasteHint)
	}
	if data[0] == '{' {
		return decodeHAR(data, maxPlain)
	}
	if len(data) > maxPlain {
		return nil, inputError("too_large", fmt.Sprintf("the input is %d bytes, over the limit of %d for a response that is not in a HAR export", len(data), maxPlain),
			"A SAML response is a few kilobytes: check that the file holds only the SAMLResponse value, the form body or the XML.")
	}
	switch {
	case data[0] == '<':
		xml := bytes.TrimRight(data, " \t\r\n")
		return &decoded{
			form:        formXML,
			description: fmt.Sprintf("raw XML (%d bytes)", len(xml)),
			value:       base64.StdEncoding.EncodeToString(xml),
		}, nil
	case bytes.Contains(data, []byte("SAMLResponse=")):
		fields := parseForm(string(bytes.TrimSpace(data)))
		value, ok := fields["SAMLResponse"]
		if !ok || value == "" {
			return nil, inputError("malformed", "the form body has an empty SAMLResponse field", pasteHint)
		}
		names := []string{"SAMLResponse"}
		if _, ok := fields["RelayState"]; ok {
			names = append(names, "RelayState")
		}
		return &decoded{
			form:        formBody,
			description: fmt.Sprintf("a URL-encoded form body (fields %s)", strings.Join(names, ", ")),
			value:       value,
		}, nil
	}
	value := string(data)
	desc := "a base64 SAMLResponse value"
	if strings.Contains(value, "%") {
		if u, err := url.QueryUnescape(stripSpace(value)); err == nil {
			value = u
			desc = "a URL-encoded base64 SAMLResponse value"
		}
	}
	return &decoded{form: formBase64, description: desc, value: value}, nil
}

const pasteHint = "Give samlcheck the SAMLResponse value the browser posts to the ACS URL (base64), the form body (SAMLResponse=...&RelayState=...), the decoded XML, or a HAR export of the login."

// parseForm splits an application/x-www-form-urlencoded body. A value is
// URL-decoded only when it holds a %-escape: a value pasted already decoded
// keeps its '+' characters, which in base64 are data, not spaces.
func parseForm(body string) map[string]string {
	fields := map[string]string{}
	for kv := range strings.SplitSeq(body, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		fields[k] = formValue(v)
	}
	return fields
}

func formValue(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	if u, err := url.QueryUnescape(v); err == nil {
		return u
	}
	return v
}

// The fields of a HAR 1.2 export that matter here.
type harFile struct {
	Log *struct {
		Entries []harEntry `json:"entries"`
	} `json:"log"`
}

type harEntry struct {
	Request struct {
		Method   string `json:"method"`
		URL      string `json:"url"`
		PostData *struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
			Params   []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"params"`
		} `json:"postData"`
	} `json:"request"`
}

// samlResponse returns the SAMLResponse the entry posted, from
// postData.text or, when an exporter left the text out, postData.params.
func (e *harEntry) samlResponse() string {
	pd := e.Request.PostData
	if !strings.EqualFold(e.Request.Method, "POST") || pd == nil {
		return ""
	}
	if pd.Text != "" {
		if v := parseForm(strings.TrimSpace(pd.Text))["SAMLResponse"]; v != "" {
			return v
		}
	}
	for _, p := range pd.Params {
		if p.Name == "SAMLResponse" && p.Value != "" {
			return formValue(p.Value)
		}
	}
	return ""
}

// decodeHAR picks the POST that carries a SAMLResponse (the last one, if
// the capture holds several logins).
func decodeHAR(data []byte, maxPlain int) (*decoded, *diagnosis) {
	var h harFile
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, inputError("malformed", "the input looks like JSON but cannot be read as a HAR export: "+err.Error(), pasteHint)
	}
	if h.Log == nil {
		return nil, inputError("malformed", `the input is JSON without a "log" object, so not a HAR export`, pasteHint)
	}
	found, last := 0, -1
	for i := range h.Log.Entries {
		if h.Log.Entries[i].samlResponse() != "" {
			found++
			last = i
		}
	}
	if found == 0 {
		return &decoded{form: formHAR}, inputError("malformed",
			fmt.Sprintf("the HAR export has %d requests and none is a POST with a SAMLResponse", len(h.Log.Entries)),
			"In the browser's developer tools (Network tab), tick \"Preserve log\", log in again from the JumpCloud user portal, then export the HAR: it must hold the POST to the ACS URL.")
	}
	e := &h.Log.Entries[last]
	d := &decoded{form: formHAR, value: e.samlResponse(), postURL: e.Request.URL}
	if u, err := url.Parse(e.Request.URL); err == nil {
		d.connection = u.Query().Get("connection")
	}
	d.description = fmt.Sprintf("a HAR export: the POST to %s (request %d of %d", e.Request.URL, last+1, len(h.Log.Entries))
	if found > 1 {
		d.description += fmt.Sprintf("; the last of %d POSTs with a SAMLResponse", found)
	}
	d.description += ")"
	if d.connection != "" {
		d.description += ", for connection " + d.connection
	}
	if len(d.value) > maxPlain {
		return d, inputError("too_large", fmt.Sprintf("the SAMLResponse in the HAR export is %d bytes, over the limit of %d", len(d.value), maxPlain),
			"A SAML response is a few kilobytes; a larger one usually carries thousands of groups: send only the groups the app needs.")
	}
	return d, nil
}

// responseXML decodes the base64 SAMLResponse value, tolerantly: it is
// used only to explain an error or to inspect, never to verify.
func responseXML(value string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(stripSpace(value))
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, s)
}
