package saml

import "time"

// SPMetadata returns the SP metadata of a connection with this SP entity
// ID, ACS URL and signature policy ("" is the default, SignatureEither),
// byte for byte what Connection.Metadata returns. The policy sets
// WantAssertionsSigned (see Connection.Metadata). It needs none of the
// IdP's settings: an admin creating the IdP application uploads this
// metadata first, and gets the IdP's entity ID and certificate only once
// the application exists.
func SPMetadata(spEntityID, acsURL string, sig SignaturePolicy) ([]byte, error) {
	if spEntityID == "" {
		return nil, configError("SPEntityID is empty")
	}
	acs, err := parseACSURL(acsURL)
	if err != nil {
		return nil, err
	}
	switch sig {
	case "":
		sig = SignatureEither
	case SignatureEither, SignatureAssertion, SignatureResponse, SignatureBoth:
	default:
		return nil, configError("Signature %q is not one of either, assertion, response, both", sig)
	}
	// Metadata reads only the SP's side of a connection.
	c := &Connection{cfg: ConnectionConfig{SPEntityID: spEntityID, ACSURL: acsURL, Signature: sig}, acsURL: *acs, now: time.Now}
	return c.Metadata()
}
