package saml

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"slices"
	"strings"
	"testing"
)

// markers are the product names each family's hints name: a family's
// console hints must name its own, and no hint may name another's.
var markers = map[IdPKind]string{
	IdPJumpCloud:    "JumpCloud",
	IdPOkta:         "Okta",
	IdPEntra:        "Entra",
	IdPGoogle:       "Google",
	IdPKeycloak:     "Keycloak",
	IdPPingOne:      "PingOne",
	IdPPingFederate: "PingFederate",
	IdPADFS:         "AD FS",
	IdPOneLogin:     "OneLogin",
}

// TestHintsPerFamily iterates every IdP family × every code: each hint is
// non-empty; a console code's hint names the family's console and differs
// from JumpCloud's (every console differs from JumpCloud's); no hint names
// another family's product; and the neutral wording names none.
func TestHintsPerFamily(t *testing.T) {
	if len(markers) != len(idpKinds)-1 {
		t.Fatalf("markers cover %d families, idpKinds has %d besides generic", len(markers), len(idpKinds)-1)
	}
	keys := slices.Clone(consoleKeys)
	for _, c := range codes {
		if !slices.Contains(keys, hintKey(c)) {
			keys = append(keys, hintKey(c))
		}
	}
	for key, h := range neutralHints {
		if strings.TrimSpace(h) == "" {
			t.Errorf("neutral %s: empty", key)
		}
		for kind, m := range markers {
			if strings.Contains(h, m) {
				t.Errorf("neutral %s names %s: %q", key, kind, h)
			}
		}
	}
	for _, c := range codes {
		if neutralHints[hintKey(c)] == "" {
			t.Errorf("code %s has no neutral hint", c)
		}
	}
	for kind, hints := range familyHints {
		for key := range hints {
			if _, ok := neutralHints[key]; !ok {
				t.Errorf("%s: hint key %q has no neutral hint (a typo?)", kind, key)
			}
		}
	}
	for _, kind := range idpKinds[1:] {
		for _, key := range keys {
			t.Run(string(kind)+"/"+string(key), func(t *testing.T) {
				h := hintFor(kind, key)
				if strings.TrimSpace(h) == "" {
					t.Fatal("empty hint")
				}
				console := slices.Contains(consoleKeys, key)
				if _, own := familyHints[kind][key]; console && !own {
					t.Fatalf("no %s hint of its own", kind)
				}
				if console && !strings.Contains(h, markers[kind]) {
					t.Errorf("hint does not name %s: %q", markers[kind], h)
				}
				if console && kind != IdPJumpCloud && h == hintFor(IdPJumpCloud, key) {
					t.Errorf("hint is JumpCloud's: %q", h)
				}
				if !console && h != neutralHints[key] && !strings.Contains(h, markers[kind]) {
					t.Errorf("a hint of the family's own that does not name it: %q", h)
				}
				for other, m := range markers {
					if other != kind && strings.Contains(h, m) {
						t.Errorf("hint names %s: %q", other, h)
					}
				}
			})
		}
	}
}

// TestLocalize: a hint from the table is reworded for the family; one set
// by hand is kept.
func TestLocalize(t *testing.T) {
	e := newError(CodeEmailVerifiedInvalid, "x")
	e.localize(IdPGoogle)
	if e.Hint != familyHints[IdPGoogle][hintKey(CodeEmailVerifiedInvalid)] {
		t.Errorf("not localized: %q", e.Hint)
	}
	e = newError(CodeMalformed, "x")
	e.Hint = "by hand"
	e.localize(IdPOkta)
	if e.Hint != "by hand" {
		t.Errorf("a hand-set hint was replaced: %q", e.Hint)
	}
	e = newError(CodeGroupNotAllowed, "x").withHint(hintGroupsAttributeMissing)
	e.localize(IdPKeycloak)
	if !strings.Contains(e.Hint, "Group list") {
		t.Errorf("finer diagnosis not localized: %q", e.Hint)
	}
	e = newError(CodeExpired, "x")
	e.localize(IdPEntra)
	if e.Hint != neutralHints[hintKey(CodeExpired)] {
		t.Errorf("a neutral code got %q", e.Hint)
	}
}

func TestDetectIdP(t *testing.T) {
	cert := func(n pkix.Name) []*x509.Certificate { return []*x509.Certificate{{Subject: n}} }
	tests := []struct {
		name             string
		entityID, ssoURL string
		certs            []*x509.Certificate
		want             IdPKind
	}{
		{name: "Entra, sts.windows.net", entityID: "https://sts.windows.net/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/", want: IdPEntra},
		{name: "Entra, login.microsoftonline.com", entityID: "urn:x", ssoURL: "https://login.microsoftonline.com/0f1e2d3c/saml2", want: IdPEntra},
		{name: "Google", entityID: "https://accounts.google.com/o/saml2?idpid=C029op2ga", want: IdPGoogle},
		{name: "Okta", entityID: "http://www.okta.com/exkdoocxa1VmjpXmX697", want: IdPOkta},
		{name: "Okta preview SSO URL", entityID: "urn:x", ssoURL: "https://dev-1.oktapreview.com/app/a/exk1/sso/saml", want: IdPOkta},
		{name: "Keycloak", entityID: "https://id.example.com/realms/acme", want: IdPKeycloak},
		{name: "Keycloak before 17", entityID: "https://id.example.com/auth/realms/acme", want: IdPKeycloak},
		{name: "PingOne", entityID: "https://auth.pingone.com/5b1f0e2a-0000-4000-8000-000000000000", want: IdPPingOne},
		{name: "PingOne EU", entityID: "https://auth.pingone.eu/5b1f0e2a", want: IdPPingOne},
		{name: "PingFederate SSO endpoint", entityID: "pf.example.com", ssoURL: "https://pf.example.com/idp/SSO.saml2", want: IdPPingFederate},
		{name: "AD FS", entityID: "http://adfs.example.com/adfs/services/trust", want: IdPADFS},
		{name: "OneLogin", entityID: "https://app.onelogin.com/saml/metadata/1234567", want: IdPOneLogin},
		{name: "JumpCloud SSO URL, free-text entity ID", entityID: "JumpCloud", ssoURL: "https://sso.jumpcloud.com/saml2/acme", want: IdPJumpCloud},
		{name: "JumpCloud certificate only", entityID: "IdP Entity ID", certs: cert(pkix.Name{OrganizationalUnit: []string{"JumpCloudSAMLIdP"}, CommonName: "JumpCloudSAMLUser"}), want: IdPJumpCloud},
		{name: "Okta certificate", entityID: "urn:x", certs: cert(pkix.Name{Organization: []string{"Okta"}, OrganizationalUnit: []string{"SSOProvider"}, CommonName: "trial-1022863"}), want: IdPOkta},
		{name: "Google certificate", entityID: "urn:x", certs: cert(pkix.Name{Organization: []string{"Google Inc."}, OrganizationalUnit: []string{"Google For Work"}, CommonName: "Google"}), want: IdPGoogle},
		{name: "Entra certificate", entityID: "urn:x", certs: cert(pkix.Name{CommonName: "Microsoft Azure Federated SSO Certificate"}), want: IdPEntra},
		{name: "AD FS certificate", entityID: "urn:x", certs: cert(pkix.Name{CommonName: "ADFS Signing - adfs.example.com"}), want: IdPADFS},
		{name: "OneLogin certificate", entityID: "urn:x", certs: cert(pkix.Name{CommonName: "OneLogin Account"}), want: IdPOneLogin},
		{name: "entity ID wins over the certificate", entityID: "http://www.okta.com/exk1", certs: cert(pkix.Name{CommonName: "JumpCloudSAMLUser"}), want: IdPOkta},
		{name: "look-alike host", entityID: "https://okta.com.evil.test/exk1", want: IdPGeneric},
		{name: "look-alike query", entityID: "https://idp.example.com/sso?next=/realms/acme", want: IdPGeneric},
		{name: "unknown", entityID: "urn:example:idp", ssoURL: "https://idp.example.com/sso", certs: cert(pkix.Name{CommonName: "idp.example.com"}), want: IdPGeneric},
		{name: "nothing", want: IdPGeneric},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detectIdP(tt.entityID, tt.ssoURL, tt.certs); got != tt.want {
				t.Errorf("detectIdP = %q, want %q", got, tt.want)
			}
		})
	}
}
