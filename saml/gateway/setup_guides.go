package gateway

import (
	"strings"

	"github.com/samlgate/samlgate/saml"
)

// The IdP consoles' steps, with the connection's values filled in: the
// seed's JumpCloud setup (docs: jumpcloud.md), and the same settings in
// the Okta, Entra ID and Google Workspace consoles.

// idpGuide is one IdP console's steps.
type idpGuide struct {
	Kind  saml.IdPKind
	Title string
	Where string // where in the console the steps start
	Steps []setupStep
	Open  bool // the connection's own IdP: shown unfolded
}

// setupStep is one step: Text, then Value (to paste) in a code box, then
// a Note.
type setupStep struct{ Text, Value, Note string }

var idpTitles = map[saml.IdPKind]string{
	saml.IdPGeneric:      "an IdP samlgate does not recognize",
	saml.IdPJumpCloud:    "JumpCloud",
	saml.IdPOkta:         "Okta",
	saml.IdPEntra:        "Microsoft Entra ID",
	saml.IdPGoogle:       "Google Workspace",
	saml.IdPKeycloak:     "Keycloak",
	saml.IdPPingOne:      "PingOne",
	saml.IdPPingFederate: "PingFederate",
	saml.IdPADFS:         "AD FS",
	saml.IdPOneLogin:     "OneLogin",
}

func idpTitle(k saml.IdPKind) string {
	if t, ok := idpTitles[k]; ok {
		return t
	}
	return string(k)
}

// guides are the four consoles' steps for cfg, the connection's own IdP
// first and unfolded (JumpCloud's when it is none of the four).
func guides(cfg saml.ConnectionConfig, metadataFile string) []idpGuide {
	groupAttr := "memberOf"
	if len(cfg.Groups.AttributeNames) > 0 {
		groupAttr = cfg.Groups.AttributeNames[0]
	}
	bind := "the groups whose members may sign in"
	if len(cfg.Groups.AllowedGroups) > 0 {
		bind = "the allowed groups: " + strings.Join(cfg.Groups.AllowedGroups, ", ")
	}
	all := []idpGuide{
		jumpCloudGuide(cfg, metadataFile, groupAttr, bind),
		oktaGuide(cfg, groupAttr, bind),
		entraGuide(cfg, metadataFile, groupAttr, bind),
		googleGuide(cfg, groupAttr, bind),
	}
	open := 0
	for i, g := range all {
		if g.Kind == cfg.IdP {
			open = i
		}
	}
	all[open].Open = true
	out := []idpGuide{all[open]}
	for i, g := range all {
		if i != open {
			out = append(out, g)
		}
	}
	return out
}

// emailVerifiedStep is the constant attribute step, or why it is not
// needed under the connection's policy.
func emailVerifiedNote(cfg saml.ConnectionConfig) string {
	if cfg.EmailVerified == saml.EmailVerifiedRequire {
		return "Required by this connection: without it every login is refused (email_not_verified)."
	}
	return "This connection does not require it (email_verified policy " + string(cfg.EmailVerified) + ")."
}

func signatureNote(cfg saml.ConnectionConfig) string {
	switch cfg.Signature {
	case saml.SignatureResponse:
		return "This connection requires the Response to be signed."
	case saml.SignatureBoth:
		return "This connection requires both the Response and the Assertion to be signed."
	case saml.SignatureAssertion:
		return "This connection requires the Assertion to be signed (JumpCloud's default)."
	}
	return "This connection accepts either (JumpCloud signs the Assertion by default)."
}

func jumpCloudGuide(cfg saml.ConnectionConfig, metadataFile, groupAttr, bind string) idpGuide {
	return idpGuide{
		Kind:  saml.IdPJumpCloud,
		Title: "JumpCloud",
		Where: "JumpCloud Admin Portal → SSO Applications → + Add New Application → Custom Application → Manage Single Sign-On (SSO) → Configure SSO with SAML.",
		Steps: []setupStep{
			{Text: "On the SSO tab, IdP Entity ID (free text; it becomes the Issuer of every response):", Value: orUnset(cfg.IdPEntityID), Note: "Exactly this value, as the gateway expects it."},
			{Text: "SP Entity ID:", Value: cfg.SPEntityID},
			{Text: "ACS URLs (query string included; IdP-initiated logins use the first one):", Value: cfg.ACSURL},
			{Text: "Or, instead of the two values above, Upload SP Metadata:", Value: metadataFile, Note: "The file from the download link above."},
			{Text: "SAMLSubject NameID: email; SAMLSubject NameID Format: unspecified or emailAddress."},
			{Text: "Signature: Sign Assertion, with RSA-SHA256.", Note: signatureNote(cfg)},
			{Text: "User Attribute Mapping: email ← email, given_name ← firstname, family_name ← lastname."},
			{Text: "Constant Attributes: add", Value: "email_verified = true", Note: emailVerifiedNote(cfg)},
			{Text: "Group Attributes: tick \"include group attribute\" and name it", Value: groupAttr},
			{Text: "User Groups tab: bind " + bind + ". A user outside them gets JumpCloud's \"You have not been given access\"."},
			{Text: "Activate, then give the gateway the IdP's side: Export Metadata (or the metadata URL), or certificate.pem and the IdP URL.", Note: "The IdP URL is where logins go; it is not a metadata URL."},
		},
	}
}

func oktaGuide(cfg saml.ConnectionConfig, groupAttr, bind string) idpGuide {
	return idpGuide{
		Kind:  saml.IdPOkta,
		Title: "Okta",
		Where: "Okta Admin Console → Applications → Applications → Create App Integration → SAML 2.0.",
		Steps: []setupStep{
			{Text: "Single sign-on URL, with \"Use this for Recipient URL and Destination URL\" ticked:", Value: cfg.ACSURL},
			{Text: "Audience URI (SP Entity ID):", Value: cfg.SPEntityID},
			{Text: "Name ID format: EmailAddress; Application username: Email."},
			{Text: "Attribute Statements: email = user.email, given_name = user.firstName, family_name = user.lastName, and", Value: `email_verified = "true"`, Note: emailVerifiedNote(cfg)},
			{Text: "Group Attribute Statements: name", Value: groupAttr, Note: "Filter: Matches regex .* (or only the groups this application needs)."},
			{Text: "Assignments: assign " + bind + "."},
			{Text: "Sign On tab: copy the Metadata URL (or the Issuer and signing certificate) for the gateway.", Note: "The Issuer (http://www.okta.com/…) is the connection's IdP entity ID."},
		},
	}
}

func entraGuide(cfg saml.ConnectionConfig, metadataFile, groupAttr, bind string) idpGuide {
	return idpGuide{
		Kind:  saml.IdPEntra,
		Title: "Microsoft Entra ID",
		Where: "Microsoft Entra admin center → Enterprise applications → New application → Create your own application → Single sign-on → SAML.",
		Steps: []setupStep{
			{Text: "Basic SAML Configuration, Identifier (Entity ID):", Value: cfg.SPEntityID},
			{Text: "Reply URL (Assertion Consumer Service URL):", Value: cfg.ACSURL},
			{Text: "Or Upload metadata file:", Value: metadataFile},
			{Text: "Attributes & Claims → Add new claim: name email_verified, source Attribute, the constant", Value: `"true"`, Note: emailVerifiedNote(cfg)},
			{Text: "Add a group claim: Groups assigned to the application; customize the name as", Value: groupAttr, Note: "Entra sends group Object IDs unless the source attribute says otherwise: allowed groups must match what it sends. Assigned groups only avoids the 150-group overage."},
			{Text: "Users and groups: add " + bind + "."},
			{Text: "SAML Certificates: copy the App Federation Metadata Url for the gateway."},
		},
	}
}

func googleGuide(cfg saml.ConnectionConfig, groupAttr, bind string) idpGuide {
	ev := "Google cannot send email_verified (its mapping has no constants): set the connection's email_verified policy to trust, with AllowedEmailDomains set to the Workspace's domains."
	if cfg.EmailVerified != saml.EmailVerifiedRequire {
		ev = "Google cannot send email_verified; this connection does not require it (policy " + string(cfg.EmailVerified) + ")."
	}
	return idpGuide{
		Kind:  saml.IdPGoogle,
		Title: "Google Workspace",
		Where: "Google Admin console → Apps → Web and mobile apps → Add app → Add custom SAML app.",
		Steps: []setupStep{
			{Text: "Google Identity Provider details: download the IdP metadata for the gateway."},
			{Text: "Service provider details, ACS URL:", Value: cfg.ACSURL},
			{Text: "Entity ID:", Value: cfg.SPEntityID},
			{Text: "Name ID format: EMAIL; Name ID: Basic Information → Primary email."},
			{Text: "SAML attribute mapping: Primary email → email, First name → given_name, Last name → family_name.", Note: ev},
			{Text: "Group membership: choose the groups to send, App attribute", Value: groupAttr},
			{Text: "User access: turn the app ON for the organizational units or groups with " + bind + "."},
		},
	}
}

func orUnset(s string) string {
	if s == "" {
		return "(not configured)"
	}
	return s
}
