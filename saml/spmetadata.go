package saml

import "time"

// SPMetadata returns the SP metadata of a connection with this SP entity ID
// and ACS URL, byte for byte what Connection.Metadata returns. It needs
// none of the IdP's settings: an admin creating the IdP application
// uploads this metadata first, and gets the IdP's entity ID and
// certificate only once the application exists.
func SPMetadata(spEntityID, acsURL string) ([]byte, error) {
	if spEntityID == "" {
		return nil, configError("SPEntityID is empty")
	}
	acs, err := parseACSURL(acsURL)
	if err != nil {
		return nil, err
	}
	// Metadata reads only the SP's side of a connection.
	c := &Connection{cfg: ConnectionConfig{SPEntityID: spEntityID, ACSURL: acsURL}, acsURL: *acs, now: time.Now}
	return c.Metadata()
}
