package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// maxXMLDepth bounds element nesting, as saml's guard does: a response is
// about eight elements deep.
const maxXMLDepth = 32

// parseGuarded parses untrusted XML with the limits package saml applies
// before verifying: no DTD (entity expansion, XXE), no processing
// instruction, UTF-8 only, bounded nesting, exactly one root element.
// inspect never verifies, but it reads the same hostile input.
func parseGuarded(data []byte) (*etree.Document, error) {
	if hasDoctype(data) {
		return nil, errors.New("the XML has a DOCTYPE/DTD, which SAML messages never carry")
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{MaxDepth: maxXMLDepth, CharsetReader: utf8Only}
	if err := doc.ReadFromBytes(data); err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, fmt.Errorf("the XML is nested more than %d elements deep", maxXMLDepth)
		}
		return nil, fmt.Errorf("the XML is not well-formed: %v", err)
	}
	roots := 0
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Element:
			roots++
		case *etree.ProcInst:
			if t.Target != "xml" {
				return nil, errors.New("the XML has a processing instruction")
			}
		case *etree.Directive:
			return nil, errors.New("the XML has a DOCTYPE or other directive")
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, errors.New("the XML has text outside its root element")
			}
		}
	}
	if roots != 1 {
		return nil, fmt.Errorf("the XML has %d root elements, not 1", roots)
	}
	if err := checkTokens(doc.Root()); err != nil {
		return nil, err
	}
	return doc, nil
}

func checkTokens(el *etree.Element) error {
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if err := checkTokens(t); err != nil {
				return err
			}
		case *etree.Directive:
			return errors.New("the XML has a directive inside an element")
		case *etree.ProcInst:
			return errors.New("the XML has a processing instruction inside an element")
		}
	}
	return nil
}

// hasDoctype looks for "<!DOCTYPE" anywhere, case-insensitively, before
// the parser sees the bytes.
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

func utf8Only(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	}
	return nil, fmt.Errorf("encoding %q is not supported", charset)
}
