package main

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestInputForms runs the built command on the standard response in every
// form an admin captures, and checks the form it reports.
func TestInputForms(t *testing.T) {
	tests := []struct {
		name, file string
		stdin      string // a file to feed on stdin, for file "-"
		form       string
		found      string // on stderr
	}{
		{"raw_xml", golden + "jumpcloud-default.xml", "", formXML, "found raw XML (5850 bytes)"},
		{"base64_wrapped", "testdata/jumpcloud-default.b64", "", formBase64, "found a base64 SAMLResponse value"},
		{"form_body", "testdata/jumpcloud-default.form", "", formBody, "found a URL-encoded form body (fields SAMLResponse, RelayState)"},
		{"har_last_post", "testdata/jumpcloud-default.har", "", formHAR,
			"found a HAR export: the POST to " + acsURL + " (request 5 of 6; the last of 2 POSTs with a SAMLResponse), for connection acme"},
		{"har_params_only", "testdata/jumpcloud-default-params.har", "", formHAR, "found a HAR export: the POST to " + acsURL + " (request 3 of 4), for connection acme"},
		{"stdin_form_body", "-", "testdata/jumpcloud-default.form", formBody, "-: found a URL-encoded form body"},
		{"stdin_har", "-", "testdata/jumpcloud-default.har", formHAR, "-: found a HAR export"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := tt.file
			stdin := func() *bytes.Reader {
				if tt.stdin == "" {
					return bytes.NewReader(nil)
				}
				data, err := os.ReadFile(tt.stdin)
				if err != nil {
					t.Fatal(err)
				}
				return bytes.NewReader(data)
			}
			res := samlcheck(t, stdin(), append(append([]string{"verify", "-json"}, acme("-now", pinned)...), file)...)
			if res.code != exitOK {
				t.Fatalf("exit status %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			lines := jsonLines(t, res.stdout)
			if len(lines) != 1 || !lines[0].OK || lines[0].Form != tt.form || lines[0].File != file {
				t.Fatalf("want %s accepted as %s:\n%s", file, tt.form, res.stdout)
			}
			if lines[0].Identity.AssertionID != "P23WNTHZQG0GPG1OZAMSTC1XVNZK5JT58BQ08BFK" {
				t.Errorf("assertion %s, not the standard response's", lines[0].Identity.AssertionID)
			}
			if res.stderr != "" {
				t.Errorf("-json wrote to stderr: %s", res.stderr)
			}
			res = samlcheck(t, stdin(), append(append([]string{"verify"}, acme("-now", pinned)...), file)...)
			if !strings.Contains(res.stderr, file+": "+strings.TrimPrefix(tt.found, "-: ")) {
				t.Errorf("stderr %q does not say %q", res.stderr, tt.found)
			}
		})
	}
}

// TestInputFormsRejected checks that a failing response is diagnosed the
// same in a form body and in a HAR export, and that the HAR's connection
// is named.
func TestInputFormsRejected(t *testing.T) {
	res := samlcheck(t, nil, append(append([]string{"verify", "-json"}, acme("-now", pinned)...), "testdata/wrong-key.form", "testdata/other-connection.har")...)
	if res.code != exitRejected {
		t.Fatalf("exit status %d", res.code)
	}
	lines := jsonLines(t, res.stdout)
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	if lines[0].Form != formBody || lines[0].Error == nil || lines[0].Error.Code != "untrusted_certificate" {
		t.Errorf("wrong-key.form: %+v", lines[0])
	}
	if lines[1].Form != formHAR || lines[1].Error == nil || lines[1].Error.Code != "destination_mismatch" ||
		!strings.Contains(strings.Join(lines[1].Error.Notes, " "), "connection globex") {
		t.Errorf("other-connection.har: %+v", lines[1].Error)
	}
	res = samlcheck(t, nil, append(append([]string{"verify"}, acme("-now", pinned)...), "testdata/other-connection.har")...)
	if !strings.Contains(res.stderr, "for connection globex") {
		t.Errorf("stderr %q does not name the HAR's connection", res.stderr)
	}
}

// TestDecodeInput covers the detection rules on inputs that are not worth
// a fixture file.
func TestDecodeInput(t *testing.T) {
	xml, err := os.ReadFile(golden + "jumpcloud-default.xml")
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(xml)
	if !strings.Contains(b64, "+") {
		t.Fatal("the fixture's base64 has no '+': the unencoded-form case tests nothing")
	}
	tests := []struct {
		name, data string
		form       string
		code       string // for a rejected input
	}{
		{"xml_with_bom_and_space", "\ufeff \n" + string(xml) + "\n", formXML, ""},
		{"base64_url_encoded", url.QueryEscape(b64), formBase64, ""},
		{"base64_crlf_wrapped", b64[:100] + "\r\n" + b64[100:] + "\r\n", formBase64, ""},
		{"form_body_not_url_encoded", "RelayState=x&SAMLResponse=" + b64, formBody, ""},
		{"form_body_url_encoded", "SAMLResponse=" + url.QueryEscape(b64), formBody, ""},
		{"har_text_only", `{"log":{"entries":[{"request":{"method":"POST","url":"https://a/cb?connection=acme","postData":{"text":"SAMLResponse=` + url.QueryEscape(b64) + `"}}}]}}`, formHAR, ""},
		{"har_params_decoded", `{"log":{"entries":[{"request":{"method":"post","url":"https://a/cb","postData":{"params":[{"name":"SAMLResponse","value":"` + b64 + `"}]}}}]}}`, formHAR, ""},
		{"empty", " \n", "", "malformed"},
		{"json_not_har", `{"SAMLResponse":"x"}`, "", "malformed"},
		{"har_get_only", `{"log":{"entries":[{"request":{"method":"GET","url":"https://a/?SAMLResponse=x"}}]}}`, formHAR, "malformed"},
		{"empty_form_field", "SAMLResponse=&RelayState=x", "", "malformed"},
		{"too_large", "<" + strings.Repeat("x", maxInputBytes), "", "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, derr := decodeInput(input{name: "f", data: []byte(tt.data)}, maxInputBytes)
			if tt.code != "" {
				if derr == nil || derr.Code != tt.code || derr.Hint == "" {
					t.Fatalf("got %+v, want code %s with a hint", derr, tt.code)
				}
				if tt.form != "" && (d == nil || d.form != tt.form) {
					t.Errorf("form %+v, want %s", d, tt.form)
				}
				return
			}
			if derr != nil {
				t.Fatalf("rejected: %+v", derr)
			}
			if d.form != tt.form {
				t.Errorf("form %s, want %s", d.form, tt.form)
			}
			got, err := responseXML(d.value)
			if err != nil || !bytes.Equal(bytes.TrimSpace(got), xml) {
				t.Errorf("decoded value is not the response (err %v)", err)
			}
		})
	}
}

// TestHARSizeLimit checks the larger limit of HAR exports and the limit
// of other inputs, through the command.
func TestHARSizeLimit(t *testing.T) {
	big := `{"log":{"entries":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
	res := runInProcess(strings.NewReader(big), append(append([]string{"verify", "-json"}, acme("-now", pinned)...), "-")...)
	lines := jsonLines(t, res.stdout)
	if len(lines) != 1 || lines[0].Error == nil || lines[0].Error.Code != "malformed" || lines[0].Form != formHAR {
		t.Errorf("a 2 MiB HAR must be read (and found empty): %s", res.stdout)
	}
	res = runInProcess(strings.NewReader(strings.Repeat("A", 2<<20)), append(append([]string{"verify", "-json"}, acme("-now", pinned)...), "-")...)
	lines = jsonLines(t, res.stdout)
	if len(lines) != 1 || lines[0].Error == nil || lines[0].Error.Code != "too_large" {
		t.Errorf("a 2 MiB base64 value must be refused before decoding: %s", res.stdout)
	}
}

// TestHostileXML checks that verify and inspect refuse a DTD.
func TestHostileXML(t *testing.T) {
	bomb := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;</samlp:Response>`
	res := runInProcess(strings.NewReader(bomb), append(append([]string{"verify", "-json"}, acme("-now", pinned)...), "-")...)
	lines := jsonLines(t, res.stdout)
	if res.code != exitRejected || len(lines) != 1 || lines[0].Error.Code != "malformed" || !strings.Contains(lines[0].Error.Message, "DOCTYPE") {
		t.Errorf("verify: %d %s", res.code, res.stdout)
	}
	res = runInProcess(strings.NewReader(bomb), "inspect", "-json", "-")
	lines = jsonLines(t, res.stdout)
	if res.code != exitRejected || len(lines) != 1 || lines[0].Error.Code != "malformed" || !strings.Contains(lines[0].Error.Message, "DOCTYPE") {
		t.Errorf("inspect: %d %s", res.code, res.stdout)
	}
}

// TestNoSecretsPrinted checks that the SAMLResponse itself, a bearer
// credential for a few minutes, is never echoed.
func TestNoSecretsPrinted(t *testing.T) {
	xml, err := os.ReadFile(golden + "jumpcloud-default.xml")
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(xml)
	sigValue := between(string(xml), "<ds:SignatureValue>", "</ds:SignatureValue>")
	if sigValue == "" {
		t.Fatal("no SignatureValue in the fixture")
	}
	for _, args := range [][]string{
		append(append([]string{"verify"}, acme("-now", pinned)...), "testdata/jumpcloud-default.har"),
		append(append([]string{"verify", "-json"}, acme("-now", pinned)...), "testdata/jumpcloud-default.form"),
		append(append([]string{"verify"}, acme("-now", "2026-01-15T11:00:00Z")...), "testdata/jumpcloud-default.har"),
		{"inspect", "testdata/jumpcloud-default.har"},
		{"inspect", "-json", "testdata/jumpcloud-default.har"},
	} {
		res := samlcheck(t, nil, args...)
		out := res.stdout + res.stderr
		if strings.Contains(out, b64[:60]) || strings.Contains(out, sigValue[:40]) {
			t.Errorf("%v printed the response or its signature", args)
		}
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	j := strings.Index(s, to)
	if j < 0 {
		return ""
	}
	return s[:j]
}
