package main

import (
	"context"
	"crypto/x509"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
)

// parseResponse decodes and parses the response for explanations; nil if
// it cannot.
func parseResponse(value string) *etree.Document {
	raw, err := responseXML(value)
	if err != nil {
		return nil
	}
	doc, err := saml.ParseUntrustedXML(raw)
	if err != nil {
		return nil
	}
	return doc
}

func assertionOf(doc *etree.Document) *etree.Element {
	if doc == nil || doc.Root() == nil {
		return nil
	}
	return doc.Root().SelectElement("Assertion")
}

func keyInfoCertificate(doc *etree.Document) *x509.Certificate {
	if doc == nil {
		return nil
	}
	for _, el := range doc.FindElements("//Signature/KeyInfo/X509Data/X509Certificate") {
		if certs, err := saml.ParseCertificatesPEM([]byte(el.Text())); err == nil {
			return certs[0]
		}
	}
	return nil
}

// pinnedCertificates are the connection's trusted certificates; its
// source is static here, so it cannot fail.
func pinnedCertificates(conn *saml.Connection) []*x509.Certificate {
	certs, _ := conn.Certificates(context.Background())
	return certs
}

func isPinned(conn *saml.Connection, cert *x509.Certificate) bool {
	for _, p := range pinnedCertificates(conn) {
		if p.Equal(cert) {
			return true
		}
	}
	return false
}

func destination(doc *etree.Document) string {
	if doc == nil || doc.Root() == nil {
		return ""
	}
	return doc.Root().SelectAttrValue("Destination", "")
}

func connectionOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("connection")
}

func issueInstant(doc *etree.Document) time.Time {
	a := assertionOf(doc)
	if a == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, a.SelectAttrValue("IssueInstant", ""))
	return t
}

func assertionID(doc *etree.Document) string {
	a := assertionOf(doc)
	if a == nil {
		return ""
	}
	return a.SelectAttrValue("ID", "")
}

// groupsAttribute returns the first attribute of the response named as a
// groups attribute (case-insensitively, like package groups), and its
// values.
func groupsAttribute(doc *etree.Document, names []string) (string, []string) {
	a := assertionOf(doc)
	if a == nil {
		return "", nil
	}
	if names == nil {
		names = groups.DefaultAttributeNames
	}
	attrs := a.FindElements("./AttributeStatement/Attribute")
	for _, want := range names {
		var found string
		var values []string
		for _, at := range attrs {
			n := at.SelectAttrValue("Name", "")
			if !strings.EqualFold(n, want) && !strings.EqualFold(at.SelectAttrValue("FriendlyName", ""), want) {
				continue
			}
			found = n
			for _, v := range at.SelectElements("AttributeValue") {
				values = append(values, strings.TrimSpace(v.Text()))
			}
		}
		if found != "" {
			return found, values
		}
	}
	return "", nil
}

func statusMessage(doc *etree.Document) string {
	if doc == nil || doc.Root() == nil {
		return ""
	}
	if el := doc.Root().FindElement("./Status/StatusMessage"); el != nil {
		return strings.TrimSpace(el.Text())
	}
	return ""
}
