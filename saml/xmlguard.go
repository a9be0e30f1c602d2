package saml

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// maxXMLDepth bounds element nesting. A SAML response is about eight deep
// (Response/Assertion/Signature/KeyInfo/X509Data/...); anything far deeper
// is an attack on recursive code further down (canonicalization).
const maxXMLDepth = 32

// parseGuarded parses untrusted XML into one etree document, refusing what
// a SAML message never contains and parsers have historically mishandled:
// DTDs (entity expansion, XXE), processing instructions, non-UTF-8
// encodings, deep nesting, and anything but exactly one root element.
func parseGuarded(data []byte) (*etree.Document, *Error) {
	if hasDoctype(data) {
		return nil, newError(CodeMalformed, "the XML has a DOCTYPE/DTD, which SAML messages never carry")
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{
		MaxDepth:      maxXMLDepth,
		CharsetReader: utf8Only,
	}
	if err := doc.ReadFromBytes(data); err != nil {
		if err == etree.ErrMaxDepth {
			return nil, newError(CodeMalformed, fmt.Sprintf("the XML is nested more than %d elements deep", maxXMLDepth)).withCause(err)
		}
		return nil, newError(CodeMalformed, "the XML is not well-formed").withCause(err)
	}
	roots := 0
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Element:
			roots++
		case *etree.ProcInst:
			if t.Target != "xml" {
				return nil, newError(CodeMalformed, "the XML has a processing instruction")
			}
		case *etree.Directive:
			return nil, newError(CodeMalformed, "the XML has a DOCTYPE or other directive")
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, newError(CodeMalformed, "the XML has text outside its root element")
			}
		}
	}
	if roots != 1 {
		return nil, newError(CodeMalformed, fmt.Sprintf("the XML has %d root elements, not 1", roots))
	}
	if err := checkTokens(doc.Root()); err != nil {
		return nil, err
	}
	return doc, nil
}

// checkTokens refuses directives and processing instructions below the
// root, which etree keeps as tokens.
func checkTokens(el *etree.Element) *Error {
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if err := checkTokens(t); err != nil {
				return err
			}
		case *etree.Directive:
			return newError(CodeMalformed, "the XML has a directive inside an element")
		case *etree.ProcInst:
			return newError(CodeMalformed, "the XML has a processing instruction inside an element")
		}
	}
	return nil
}

// hasDoctype looks for "<!DOCTYPE" anywhere, case-insensitively: the cheap
// test runs before the parser sees the bytes, so an entity bomb is never
// expanded or even tokenized.
func hasDoctype(data []byte) bool {
	for i := bytes.Index(data, []byte("<!")); i >= 0; {
		rest := data[i+2:]
		if len(rest) >= 7 && bytes.EqualFold(rest[:7], []byte("DOCTYPE")) {
			return true
		}
		j := bytes.Index(rest, []byte("<!"))
		if j < 0 {
			return false
		}
		i += 2 + j
	}
	return false
}

// utf8Only refuses declared encodings other than UTF-8: a response is
// always UTF-8, and a second decoding path is a second way to disagree with
// the signature check about what the text says.
func utf8Only(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	}
	return nil, fmt.Errorf("encoding %q is not supported", charset)
}

// ParseUntrustedXML parses XML from an untrusted source (a response, IdP
// metadata, a capture) with the guards Verify applies before anything else:
// no DTD, no processing instructions, UTF-8 only, nesting at most 32 deep,
// exactly one root element. Errors are *Error with Code malformed. It does
// not verify anything; tools that only display a message use it so that
// they read hostile input as safely as Verify does.
func ParseUntrustedXML(data []byte) (*etree.Document, error) {
	doc, err := parseGuarded(data)
	if err != nil {
		return nil, err
	}
	return doc, nil
}
