// Package xmlsectest holds the tests that tie samlgate's fixtures to
// xmlsec1, an XML Signature implementation independent of goxmldsig: the
// responses xmlsec1 signed (testdata/xmlsec) must verify with goxmldsig,
// and, when xmlsec1 is installed, the golden responses samltest signed
// must verify with xmlsec1. It has no non-test code.
package xmlsectest
