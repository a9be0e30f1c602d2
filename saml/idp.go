package saml

import (
	"crypto/x509"
	"net/url"
	"slices"
	"strings"
)

// IdPKind names the product family of a connection's IdP. It only chooses
// the wording of error hints, so that an Okta admin is sent to the Okta
// Admin Console and not to JumpCloud's: it never changes what is verified.
type IdPKind string

// The IdP families whose consoles the hints know.
const (
	// IdPGeneric is the neutral wording, for an IdP samlgate does not
	// recognize: hints name the setting without naming a console.
	IdPGeneric      IdPKind = "generic"
	IdPJumpCloud    IdPKind = "jumpcloud"
	IdPOkta         IdPKind = "okta"
	IdPEntra        IdPKind = "entra" // Microsoft Entra ID (Azure AD)
	IdPGoogle       IdPKind = "google"
	IdPKeycloak     IdPKind = "keycloak"
	IdPPingOne      IdPKind = "pingone"
	IdPPingFederate IdPKind = "pingfederate"
	IdPADFS         IdPKind = "adfs"
	IdPOneLogin     IdPKind = "onelogin"
)

// idpKinds is every IdPKind, IdPGeneric first.
var idpKinds = []IdPKind{IdPGeneric, IdPJumpCloud, IdPOkta, IdPEntra, IdPGoogle, IdPKeycloak, IdPPingOne, IdPPingFederate, IdPADFS, IdPOneLogin}

func (k IdPKind) valid() bool { return slices.Contains(idpKinds, k) }

// detectIdP recognizes the IdP family from the values every admin has: the
// entity ID (the Issuer), the SSO URL and the signing certificates. The
// entity ID and URL are tried first because they are the most specific;
// the certificate subject is what identifies JumpCloud, whose entity ID is
// free text. Anything unrecognized is IdPGeneric: a wrong console named in
// a hint would be worse than none.
func detectIdP(entityID, ssoURL string, certs []*x509.Certificate) IdPKind {
	for _, s := range []string{entityID, ssoURL} {
		if k := kindOfURL(s); k != IdPGeneric {
			return k
		}
	}
	for _, cert := range certs {
		if k := kindOfSubject(cert); k != IdPGeneric {
			return k
		}
	}
	return IdPGeneric
}

// kindOfURL reads the host and path conventions of each IdP's entity IDs
// and endpoints. Hosts are compared by domain, not substring, so that
// https://okta.com.evil.test/ is no Okta; it only chooses a hint, but a
// hint naming the wrong console misleads an admin as much as a wrong check.
func kindOfURL(s string) IdPKind {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return IdPGeneric
	}
	host := strings.ToLower(u.Hostname())
	path := strings.ToLower(u.Path)
	switch {
	case inDomain(host, "jumpcloud.com"):
		return IdPJumpCloud
	case inDomain(host, "okta.com", "oktapreview.com", "okta-emea.com"):
		return IdPOkta // entity IDs are http://www.okta.com/exk...
	case inDomain(host, "sts.windows.net", "login.microsoftonline.com", "login.microsoftonline.us"):
		return IdPEntra
	case host == "accounts.google.com":
		return IdPGoogle
	case inDomain(host, "pingone.com", "pingone.eu", "pingone.asia", "pingone.ca", "pingone.com.au"):
		return IdPPingOne
	case inDomain(host, "onelogin.com"):
		return IdPOneLogin
	case strings.HasPrefix(path, "/adfs/"):
		return IdPADFS // http://adfs.example.com/adfs/services/trust, /adfs/ls/
	case strings.HasPrefix(path, "/realms/") || strings.HasPrefix(path, "/auth/realms/"):
		return IdPKeycloak // https://host/realms/<realm>, /auth/ before Keycloak 17
	case strings.HasPrefix(path, "/idp/sso.saml2"), strings.HasPrefix(path, "/idp/startsso.ping"):
		return IdPPingFederate // PingFederate's own endpoints; its entity ID is free text
	}
	return IdPGeneric
}

func inDomain(host string, domains ...string) bool {
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// kindOfSubject recognizes the default signing certificates some IdPs
// generate: JumpCloud's (every app's certificate has the same names),
// Okta's, Google Workspace's, Entra ID's, AD FS's and OneLogin's.
func kindOfSubject(cert *x509.Certificate) IdPKind {
	s := cert.Subject
	has := func(list []string, v string) bool { return slices.Contains(list, v) }
	switch {
	case has(s.OrganizationalUnit, "JumpCloudSAMLIdP") || s.CommonName == "JumpCloudSAMLUser":
		return IdPJumpCloud
	case has(s.Organization, "Okta") && has(s.OrganizationalUnit, "SSOProvider"):
		return IdPOkta
	case has(s.Organization, "Google Inc.") && has(s.OrganizationalUnit, "Google For Work"):
		return IdPGoogle
	case s.CommonName == "Microsoft Azure Federated SSO Certificate":
		return IdPEntra
	case strings.HasPrefix(s.CommonName, "ADFS Signing - "):
		return IdPADFS
	case s.CommonName == "OneLogin Account" || has(s.OrganizationalUnit, "OneLogin IdP"):
		return IdPOneLogin
	}
	return IdPGeneric
}
