package samltest

import (
	"path/filepath"
	"time"
)

// The standard fixture settings: those of every response generated into
// samlgate's testdata (testdata/README.md in the repository), which its
// tests, examples and fixture generators verify against. They describe a
// JumpCloud app that signs alice in to connection "acme" of a gateway at
// auth.example.com.
const (
	// FixtureIdPEntityID is the IdP entity ID: the Issuer of the responses,
	// and the IdP SSO URL.
	FixtureIdPEntityID = "https://sso.jumpcloud.com/saml2/acme"
	// FixtureSPEntityID is the SP entity ID of connection acme: the
	// Audience.
	FixtureSPEntityID = "urn:samlgate:acme"
	// FixtureACSURL is the ACS URL of connection acme: the Destination and
	// the Recipient.
	FixtureACSURL = "https://auth.example.com/login/callback?connection=acme"
	// FixtureEmail is alice's email, also her NameID.
	FixtureEmail = "alice@example.com"
	// FixtureRequestID is the AuthnRequest ID that the SP-initiated fixture
	// answers (its InResponseTo).
	FixtureRequestID = "id-REQUEST-0001"
)

// FixtureClock returns the pinned clock of the fixtures,
// 2026-01-15T10:00:00Z: the IssueInstant of every fixture response, whose
// conditions run from five minutes before it to five minutes after.
func FixtureClock() time.Time {
	return time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
}

// FixtureResponse returns the options of the standard fixture response:
// addressed to connection acme (FixtureSPEntityID, FixtureACSURL), for
// alice (NameID and email FixtureEmail, email_verified "true", given name
// Alice, family name Liddell) in the groups Engineering, Admins and
// Everyone, in that order. Every call returns a new Groups slice.
func FixtureResponse() Response {
	return Response{
		Audience:      FixtureSPEntityID,
		Destination:   FixtureACSURL,
		NameID:        FixtureEmail,
		Email:         FixtureEmail,
		EmailVerified: "true",
		GivenName:     "Alice",
		FamilyName:    "Liddell",
		Groups:        []string{"Engineering", "Admins", "Everyone"},
	}
}

// LoadFixtureIdP returns the IdP of the fixtures, signing with the key
// pair NAME.crt.pem and NAME.key.pem of keysDir (in the repository,
// testdata/keys, whose README.md lists the pairs): entity ID
// FixtureIdPEntityID, clock FixtureClock. A new IdP numbers its responses
// from the start, so the same calls on it write the same bytes.
func LoadFixtureIdP(keysDir, name string) (*IdP, error) {
	key, cert, err := LoadKeyPair(filepath.Join(keysDir, name+".crt.pem"), filepath.Join(keysDir, name+".key.pem"))
	if err != nil {
		return nil, err
	}
	idp := New(key, cert, FixtureIdPEntityID)
	idp.Now = FixtureClock
	return idp, nil
}
