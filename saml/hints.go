package saml

// hintKey selects a hint: the usual fix of a Code (hintKey(code)), or of a
// finer diagnosis of one code that needs other advice.
type hintKey string

// The finer diagnoses with hints of their own.
const (
	// hintGroupsAttributeMissing: group_not_allowed because the assertion
	// has no groups attribute at all, not because of the user's groups.
	hintGroupsAttributeMissing hintKey = "group_not_allowed/no_attribute"
	// hintAuthnStatementMissing: malformed because the assertion says
	// nothing about the authentication (Keycloak's "Include AuthnStatement"
	// turned off).
	hintAuthnStatementMissing hintKey = "malformed/no_authn_statement"
	// hintSignatureAltered: signature_invalid although the response names
	// a configured certificate, so its content was changed after signing.
	hintSignatureAltered hintKey = "signature_invalid/altered"
	// hintIdPInitiatedRefused: an IdP-initiated login at a connection that
	// accepts only logins it started.
	hintIdPInitiatedRefused hintKey = "in_response_to_mismatch/idp_initiated"
	// hintTimeBounds: the timestamps of the response contradict each
	// other, whatever the server's clock.
	hintTimeBounds hintKey = "time/inconsistent"
)

// consoleKeys are the hints whose fix is a setting of the IdP's console:
// every family of familyHints words each of them for its own console. The
// other codes (the server's clock, a pending request, samlgate's own
// configuration or stores) have one neutral hint for every IdP.
var consoleKeys = []hintKey{
	hintKey(CodeMalformed), hintKey(CodeTooLarge), hintKey(CodeUnsupported),
	hintKey(CodeSignatureMissing), hintKey(CodeSignatureInvalid), hintKey(CodeUntrustedCertificate),
	hintKey(CodeCertificateExpired), hintKey(CodeWeakSignatureAlgorithm),
	hintKey(CodeIssuerMismatch), hintKey(CodeAudienceMismatch),
	hintKey(CodeDestinationMismatch), hintKey(CodeRecipientMismatch),
	hintKey(CodeReplayed), hintKey(CodeStatusNotSuccess),
	hintKey(CodeEmailMissing), hintKey(CodeEmailNotVerified), hintKey(CodeEmailVerifiedInvalid),
	hintKey(CodeAttributeConflict), hintKey(CodeGroupNotAllowed), hintGroupsAttributeMissing,
}

// hintFor returns the hint of key worded for the IdP family kind: the
// family's own when it has one, the neutral one otherwise.
func hintFor(kind IdPKind, key hintKey) string {
	if h, ok := familyHints[kind][key]; ok {
		return h
	}
	return neutralHints[key]
}

// Suffixes several hints share, so that the opt-ins are spelled the same
// everywhere.
const (
	orMaxBytes      = " or raise the connection's MaxResponseBytes (max_response_bytes)."
	orSHA1          = " Only if that is impossible, allow SHA-1 on this connection (AllowSHA1, allow_sha1, -allow-sha1)."
	asIdPCert       = " as the connection's IdP certificate (IdPCertificatesPEM, idp_certificate_files, -idp-cert)."
	againstPolicy   = " against this connection's signature policy (Signature, signature)."
	orEmailOptional = " If this IdP identifies users by an opaque NameID and sends no email, make the email optional on this connection (EmailOptional, email_optional, -email-optional)."
	orTrustEmail    = " Or, if you vouch for this IdP's emails, trust them on this connection (EmailVerified: trust, email_verified: trust, -email-verified trust)."
	orAllowed       = ", or change the connection's allowed groups (Groups.AllowedGroups, groups.allowed)."
)

// neutralHints name the setting without naming a console: the wording for
// IdPGeneric, and for every family on the codes outside consoleKeys.
var neutralHints = map[hintKey]string{
	hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. Check that the IdP application posts to this ACS URL with the HTTP-POST binding.",
	hintKey(CodeTooLarge):               "The response exceeds the configured size limit. Reduce the attributes or groups the IdP sends," + orMaxBytes,
	hintKey(CodeUnsupported):            "Turn off assertion encryption in the IdP application; samlgate needs the signed assertion in the clear.",
	hintKey(CodeSignatureMissing):       "Check which elements the IdP application signs (the Assertion, the Response or both)" + againstPolicy,
	hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: download the IdP application's signing certificate (or its metadata) again and configure it.",
	hintKey(CodeUntrustedCertificate):   "The IdP application's signing certificate changed, or another application's certificate is configured: download its current signing certificate (or its metadata) and configure it" + asIdPCert,
	hintKey(CodeCertificateExpired):     "The IdP certificate has expired: create a new signing certificate in the IdP application, then download and configure it.",
	hintKey(CodeWeakSignatureAlgorithm): "The IdP signs with SHA-1: set the IdP application's signature algorithm to RSA-SHA256." + orSHA1,
	hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly the IdP's entity ID (the Issuer it sends), or take it from the IdP's metadata.",
	hintKey(CodeAudienceMismatch):       "In the IdP application, set the SP entity ID (audience) to exactly this connection's SP entity ID.",
	hintKey(CodeDestinationMismatch):    "In the IdP application, set the ACS URL to exactly this connection's ACS URL, including ?connection=<name>.",
	hintKey(CodeRecipientMismatch):      "In the IdP application, set the ACS URL (and the Recipient, if it is a separate setting) to exactly this connection's ACS URL, including ?connection=<name>.",
	hintKey(CodeInResponseToMismatch):   "The response answers a login request this server did not make or no longer tracks: start the login again from the application.",
	hintKey(CodeExpired):                "The response is outside its validity window: check the clocks of this server (NTP) and retry the login; a captured response cannot be reused later.",
	hintKey(CodeNotYetValid):            "The response is dated in the future: this server's clock is behind the IdP's. Check NTP, or raise the connection's clock skew (ClockSkew, clock_skew).",
	hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from the IdP's portal or the application.",
	hintKey(CodeStatusNotSuccess):       "The IdP refused the login. Usually the user is not assigned to the IdP application: assign the user, or one of the user's groups, to it.",
	hintKey(CodeEmailMissing):           "Make the IdP application send the user's email in an attribute named email, or as an email-format NameID." + orEmailOptional,
	hintKey(CodeEmailNotVerified):       "The IdP says this email is not verified. Make the IdP application send email_verified = true only for emails it vouches for (a constant, or the directory's own verification flag)." + orTrustEmail,
	hintKey(CodeEmailVerifiedInvalid):   "Make the IdP application send the attribute email_verified = true, exactly once with one value (a constant, or the directory's own verification flag)." + orTrustEmail,
	hintKey(CodeEmailDomainNotAllowed):  "The IdP asserted an email at a domain this connection does not accept. Each tenant's IdP may vouch only for its own domains: add the domain to the connection's allowed email domains (AllowedEmailDomains, allowed_email_domains) if this IdP really owns it.",
	hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one attribute mapping for it in the IdP application.",
	hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups: add the user to one of them at the IdP" + orAllowed,
	hintKey(CodeGroupsOverage):          "The IdP sent a link to the user's groups (a groups overage claim) instead of the groups: emit only the groups assigned to the application, or assign fewer groups to the user.",
	hintKey(CodeConfigInvalid):          "Fix the connection configuration named in the message.",
	hintKey(CodeUnavailable):            "A backing store (replay cache) failed; the login was refused to stay safe. Check its health and retry.",

	hintGroupsAttributeMissing: "Make the IdP application send the user's groups in an attribute named memberOf (or set the connection's Groups.AttributeNames, groups.attributes), and assign the user's groups to the application.",
	hintAuthnStatementMissing:  "A login response's assertion must say how the user authenticated (an AuthnStatement, SAML Profiles §4.1.4.2): turn on the IdP application's option that includes it.",
	hintSignatureAltered:       "Capture the response again, unmodified (a proxy or tool that rewrites the POST body breaks the signature). If fresh responses fail too, the IdP signs something other than what it sends: contact its support.",
	hintIdPInitiatedRefused:    "Start the login from the application, not from the IdP's portal; or allow IdP-initiated logins on this connection (DisableIdPInitiated).",
	hintTimeBounds:             "The IdP's own timestamps (IssueInstant, NotBefore, NotOnOrAfter) disagree: check the clocks of the IdP's servers and its assertion lifetime settings. Raise the connection's clock skew (ClockSkew, clock_skew) only for an IdP whose servers are known to drift.",
}

// familyHints word the consoleKeys (and some finer diagnoses) for each
// family's console, naming the menu path an admin clicks through. Each
// family's hints name its product and no other's; TestHintsPerFamily checks
// that every family has every console key.
var familyHints = map[IdPKind]map[hintKey]string{
	IdPJumpCloud: {
		hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. In the JumpCloud SSO app (SSO tab), check that the first \"ACS URL\" is this connection's ACS URL, so that JumpCloud posts the response there with the HTTP-POST binding.",
		hintKey(CodeTooLarge):               "The response exceeds the configured size limit. Send fewer groups or attributes from the JumpCloud SSO app (bind fewer user groups, remove user attributes on the SSO tab)," + orMaxBytes,
		hintKey(CodeUnsupported):            "Turn off assertion encryption in the IdP application; samlgate needs the signed assertion in the clear (JumpCloud never encrypts).",
		hintKey(CodeSignatureMissing):       "JumpCloud signs the Assertion by default: in the SSO app, check the \"Sign\" setting (Assertion, Response or both)" + againstPolicy,
		hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: download certificate.pem again from the JumpCloud SSO app (SSO tab → IDP Certificate) and configure it.",
		hintKey(CodeUntrustedCertificate):   "The JumpCloud app's certificate was regenerated or a different app's certificate is configured: download certificate.pem from this SSO app (SSO tab → IDP Certificate) and configure it" + asIdPCert,
		hintKey(CodeCertificateExpired):     "The IdP certificate has expired: in the JumpCloud SSO app, regenerate the certificate (SSO tab → IDP Certificate), then download and configure the new certificate.pem.",
		hintKey(CodeWeakSignatureAlgorithm): "The IdP signs with SHA-1: in the JumpCloud SSO app, set Signature Algorithm to RSA-SHA256." + orSHA1,
		hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly the \"IdP Entity ID\" typed in the JumpCloud SSO app (or take it from the app's exported metadata).",
		hintKey(CodeAudienceMismatch):       "In the JumpCloud SSO app, set \"SP Entity ID\" to exactly this connection's SP entity ID (not the IdP URL).",
		hintKey(CodeDestinationMismatch):    "In the JumpCloud SSO app, set the first \"ACS URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeRecipientMismatch):      "In the JumpCloud SSO app, set the first \"ACS URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from the JumpCloud user portal or the application.",
		hintKey(CodeStatusNotSuccess):       "The IdP refused the login. Usually the user is not bound to the SSO app: in JumpCloud, bind the user's group to the application (User Groups tab of the SSO app).",
		hintKey(CodeEmailMissing):           "In the JumpCloud SSO app, add a user attribute mapping \"email\" → email (SSO tab → Attributes), or use the email as the NameID." + orEmailOptional,
		hintKey(CodeEmailNotVerified):       "In the JumpCloud SSO app, SSO tab → Constant Attributes: add email_verified = true.",
		hintKey(CodeEmailVerifiedInvalid):   "In the JumpCloud SSO app, SSO tab → Constant Attributes: add email_verified = true (exactly once, with one value).",
		hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one attribute mapping for it in the JumpCloud SSO app (SSO tab → Attributes).",
		hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups: bind the user to one of them in JumpCloud" + orAllowed,
		hintGroupsAttributeMissing:          "In the JumpCloud SSO app, tick \"include group attribute\" and name it memberOf (SSO tab → Group Attributes), and bind the user's groups to the app.",
	},
	IdPOkta: {
		hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit: set \"Single sign-on URL\" to this connection's ACS URL, so that Okta posts the response there.",
		hintKey(CodeTooLarge):               "The response exceeds the configured size limit. In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit, narrow the Group Attribute Statements filter (Starts with, Matches regex) or remove attribute statements," + orMaxBytes,
		hintKey(CodeUnsupported):            "Okta encrypts the assertion: in the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit → Show Advanced Settings, set Assertion Encryption to Unencrypted; samlgate needs the signed assertion in the clear.",
		hintKey(CodeSignatureMissing):       "In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit → Show Advanced Settings, check Response and Assertion Signature (Signed or Unsigned)" + againstPolicy,
		hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: in the Okta Admin Console, Applications → Applications → your app → Sign On → SAML Signing Certificates, download the active certificate again and configure it.",
		hintKey(CodeUntrustedCertificate):   "The Okta app signs with another certificate (a new one was activated) or a different app's certificate is configured: in the Okta Admin Console, Applications → Applications → your app → Sign On → SAML Signing Certificates, download the Active certificate and configure it" + asIdPCert,
		hintKey(CodeCertificateExpired):     "The IdP certificate has expired: in the Okta Admin Console, Applications → Applications → your app → Sign On → SAML Signing Certificates, generate a new certificate and activate it, then download and configure it.",
		hintKey(CodeWeakSignatureAlgorithm): "The IdP signs with SHA-1: in the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit → Show Advanced Settings, set Signature Algorithm to RSA-SHA256 and Digest Algorithm to SHA256." + orSHA1,
		hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly the Okta app's \"Identity Provider Issuer\" (http://www.okta.com/…; Okta Admin Console: Applications → Applications → your app → Sign On → View SAML setup instructions), or take it from the app's metadata.",
		hintKey(CodeAudienceMismatch):       "In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit: set \"Audience URI (SP Entity ID)\" to exactly this connection's SP entity ID.",
		hintKey(CodeDestinationMismatch):    "In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit: set \"Single sign-on URL\" to exactly this connection's ACS URL, including ?connection=<name>, and keep \"Use this for Recipient URL and Destination URL\" ticked.",
		hintKey(CodeRecipientMismatch):      "In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit: set \"Single sign-on URL\" to exactly this connection's ACS URL, including ?connection=<name>, and tick \"Use this for Recipient URL and Destination URL\" (or set the Recipient URL to it).",
		hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from the Okta End-User Dashboard or the application.",
		hintKey(CodeStatusNotSuccess):       "The IdP refused the login. Usually the user is not assigned to the app: in the Okta Admin Console, Applications → Applications → your app → Assignments → Assign to People or Assign to Groups.",
		hintKey(CodeEmailMissing):           "In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit → Attribute Statements: add Name email with Value user.email; or set Name ID format to EmailAddress with Application username Email." + orEmailOptional,
		hintKey(CodeEmailNotVerified):       "Okta sends no email_verified of its own. In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit → Attribute Statements, an attribute email_verified with Value \"true\" (an Okta Expression Language string, quotes included) vouches for the user's email; send it only if you do.",
		hintKey(CodeEmailVerifiedInvalid):   "In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit → Attribute Statements: add one attribute email_verified with Value \"true\" (an Okta Expression Language string, quotes included)." + orTrustEmail,
		hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one Okta attribute statement for it (Okta Admin Console: Applications → Applications → your app → General → SAML Settings → Attribute Statements).",
		hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups (or the Okta Group Attribute Statements filter leaves them out): add the user to one of them in the Okta Admin Console (Directory → Groups)" + orAllowed,
		hintGroupsAttributeMissing:          "In the Okta Admin Console, Applications → Applications → your app → General → SAML Settings → Edit → Group Attribute Statements: add Name memberOf with a filter that matches the user's groups (Matches regex .*), and assign the user's groups to the app.",
	},
	IdPEntra: {
		hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. In the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Basic SAML Configuration: set \"Reply URL (Assertion Consumer Service URL)\" to this connection's ACS URL.",
		hintKey(CodeTooLarge):               "The response exceeds the configured size limit. In the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Attributes & Claims, make the groups claim emit only \"Groups assigned to the application\", or remove claims," + orMaxBytes,
		hintKey(CodeUnsupported):            "Entra ID encrypts the token: in the Microsoft Entra admin center, Enterprise applications → your app → Security → Token encryption, deactivate the certificate; samlgate needs the signed assertion in the clear.",
		hintKey(CodeSignatureMissing):       "Entra ID signs the Assertion by default: in the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → SAML Certificates → Edit, check Signing Option (Sign SAML assertion, Sign SAML response, or both)" + againstPolicy,
		hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: in the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → SAML Certificates, download Certificate (Base64) again and configure it.",
		hintKey(CodeUntrustedCertificate):   "The Entra app's token signing certificate changed (another one was made active) or a different app's certificate is configured: in the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → SAML Certificates, download Certificate (Base64) of the active certificate, or the Federation Metadata XML, and configure it" + asIdPCert,
		hintKey(CodeCertificateExpired):     "The IdP certificate has expired: in the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → SAML Certificates → Edit, add a new certificate and make it active, then download and configure it.",
		hintKey(CodeWeakSignatureAlgorithm): "The IdP signs with SHA-1: in the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → SAML Certificates → Edit, set Signing Algorithm to SHA-256." + orSHA1,
		hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly the \"Microsoft Entra Identifier\" (https://sts.windows.net/<tenant-id>/), shown in the Microsoft Entra admin center under Enterprise applications → your app → Single sign-on → Set up <app>, or take it from the Federation Metadata XML.",
		hintKey(CodeAudienceMismatch):       "In the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Basic SAML Configuration: set \"Identifier (Entity ID)\" to exactly this connection's SP entity ID (the default one, if there are several).",
		hintKey(CodeDestinationMismatch):    "In the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Basic SAML Configuration: set the default \"Reply URL (Assertion Consumer Service URL)\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeRecipientMismatch):      "In the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Basic SAML Configuration: set the default \"Reply URL (Assertion Consumer Service URL)\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from Microsoft Entra My Apps (myapps.microsoft.com) or the application.",
		hintKey(CodeStatusNotSuccess):       "The IdP refused the login. Usually the app requires assignment and the user is not assigned: in the Microsoft Entra admin center, Enterprise applications → your app → Users and groups → Add user/group.",
		hintKey(CodeEmailMissing):           "In the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Attributes & Claims: add a claim named email with source attribute user.mail, or set Unique User Identifier (Name ID) to user.mail." + orEmailOptional,
		hintKey(CodeEmailNotVerified):       "Entra ID sends no email_verified claim of its own. In the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Attributes & Claims → Add new claim, a claim email_verified whose source attribute is the constant true vouches for the user's email; send it only if you do.",
		hintKey(CodeEmailVerifiedInvalid):   "In the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Attributes & Claims → Add new claim: name email_verified, source Attribute, with the constant true typed as the source attribute (one claim, one value)." + orTrustEmail,
		hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one claim for it (Microsoft Entra admin center: Enterprise applications → your app → Single sign-on → Attributes & Claims).",
		hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups: add the user to one of them in the Microsoft Entra admin center (Groups → All groups → the group → Members)" + orAllowed + " Entra's groups claim carries group Object IDs unless its source attribute says otherwise (Attributes & Claims → the groups claim): the allowed groups must match what it sends.",
		hintKey(CodeGroupsOverage):          "Entra ID sent a groups link instead of the groups (the user is in more than 150): in the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Attributes & Claims → the groups claim, emit \"Groups assigned to the application\", and assign those groups to the app (Users and groups).",
		hintGroupsAttributeMissing:          "In the Microsoft Entra admin center, Enterprise applications → your app → Single sign-on → Attributes & Claims → Add a group claim (Groups assigned to the application, or Security groups), and assign the user's groups to the app (Users and groups).",
	},
	IdPGoogle: {
		hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. In the Google Admin console, Apps → Web and mobile apps → your app → Service provider details: set \"ACS URL\" to this connection's ACS URL.",
		hintKey(CodeTooLarge):               "The response exceeds the configured size limit. In the Google Admin console, Apps → Web and mobile apps → your app → SAML attribute mapping, send fewer groups (Group membership) or attributes," + orMaxBytes,
		hintKey(CodeUnsupported):            "Google Workspace never encrypts SAML assertions: this response does not come from the Google Workspace app configured here (Google Admin console: Apps → Web and mobile apps). samlgate needs the signed assertion in the clear.",
		hintKey(CodeSignatureMissing):       "Google Workspace signs the Assertion, and the whole Response too only with \"Signed response\": in the Google Admin console, Apps → Web and mobile apps → your app → Service provider details, check \"Signed response\"" + againstPolicy,
		hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: in the Google Admin console, Apps → Web and mobile apps → your app → Download metadata, download the certificate (or the IdP metadata) again and configure it.",
		hintKey(CodeUntrustedCertificate):   "The Google Workspace app signs with another certificate (another IdP certificate was selected for it) or a different certificate is configured: in the Google Admin console, Apps → Web and mobile apps → your app → Download metadata, download the certificate and configure it" + asIdPCert,
		hintKey(CodeCertificateExpired):     "The IdP certificate has expired (Google's last five years): in the Google Admin console, Security → Authentication → SSO with SAML applications, add a certificate; select it in Apps → Web and mobile apps → your app → Service provider details, then download and configure it.",
		hintKey(CodeWeakSignatureAlgorithm): "Google Workspace signs with RSA-SHA256 only: a SHA-1 signature does not come from the Google Workspace app configured here (Google Admin console: Apps → Web and mobile apps)." + orSHA1,
		hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly the Google app's Entity ID (https://accounts.google.com/o/saml2?idpid=…), shown in the Google Admin console under Apps → Web and mobile apps → your app → Download metadata, or take it from that metadata.",
		hintKey(CodeAudienceMismatch):       "In the Google Admin console, Apps → Web and mobile apps → your app → Service provider details: set \"Entity ID\" to exactly this connection's SP entity ID.",
		hintKey(CodeDestinationMismatch):    "In the Google Admin console, Apps → Web and mobile apps → your app → Service provider details: set \"ACS URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeRecipientMismatch):      "In the Google Admin console, Apps → Web and mobile apps → your app → Service provider details: set \"ACS URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from the Google apps menu or the application.",
		hintKey(CodeStatusNotSuccess):       "The IdP refused the login. Usually the app is off for the user: in the Google Admin console, Apps → Web and mobile apps → your app → User access, turn it on for the user's organizational unit or group.",
		hintKey(CodeEmailMissing):           "In the Google Admin console, Apps → Web and mobile apps → your app: set Service provider details → Name ID to Basic Information > Primary email, or add an App attribute email ← Primary email under SAML attribute mapping." + orEmailOptional,
		hintKey(CodeEmailNotVerified):       "Google Workspace sends no email_verified of its own, and its SAML attribute mapping (Google Admin console: Apps → Web and mobile apps → your app) only maps directory fields. A Workspace's primary emails are addresses of its own verified domains: trust them on this connection (EmailVerified: trust, email_verified: trust, -email-verified trust), with AllowedEmailDomains set to those domains.",
		hintKey(CodeEmailVerifiedInvalid):   "Google Workspace cannot send email_verified: its SAML attribute mapping (Google Admin console: Apps → Web and mobile apps → your app) maps directory fields, not constants. A Workspace's primary emails are addresses of its own verified domains: trust them on this connection (EmailVerified: trust, email_verified: trust, -email-verified trust), with AllowedEmailDomains set to those domains.",
		hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one App attribute for it (Google Admin console: Apps → Web and mobile apps → your app → SAML attribute mapping).",
		hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups: add the user to one of them in the Google Admin console (Directory → Groups) and list that group under the app's SAML attribute mapping → Group membership" + orAllowed,
		hintGroupsAttributeMissing:          "In the Google Admin console, Apps → Web and mobile apps → your app → SAML attribute mapping → Group membership: add the groups to send and name the App attribute memberOf.",
	},
	IdPKeycloak: {
		hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. In the Keycloak Admin Console, Clients → your client → Advanced → Fine Grain SAML Endpoint Configuration: set \"Assertion Consumer Service POST Binding URL\" to this connection's ACS URL.",
		hintKey(CodeTooLarge):               "The response exceeds the configured size limit. In the Keycloak Admin Console, Clients → your client → Client scopes → <client>-dedicated, remove mappers or send fewer groups," + orMaxBytes,
		hintKey(CodeUnsupported):            "Keycloak encrypts the assertion: in the Keycloak Admin Console, Clients → your client → Keys, turn off \"Encrypt assertions\"; samlgate needs the signed assertion in the clear.",
		hintKey(CodeSignatureMissing):       "In the Keycloak Admin Console, Clients → your client → Settings → Signature and Encryption, check \"Sign documents\" (the Response) and \"Sign assertions\"" + againstPolicy,
		hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: in the Keycloak Admin Console, Realm settings → Keys, copy the Certificate of the RS256 key again (or use /realms/<realm>/protocol/saml/descriptor) and configure it.",
		hintKey(CodeUntrustedCertificate):   "The Keycloak realm signs with another key (a new RS256 key became active) or another realm's certificate is configured: in the Keycloak Admin Console, Realm settings → Keys → the active RS256 key → Certificate, copy it and configure it" + asIdPCert,
		hintKey(CodeCertificateExpired):     "The IdP certificate has expired: in the Keycloak Admin Console, Realm settings → Keys → Add providers, add an rsa-generated key with a higher priority, then configure its certificate.",
		hintKey(CodeWeakSignatureAlgorithm): "The IdP signs with SHA-1: in the Keycloak Admin Console, Clients → your client → Settings → Signature and Encryption, set \"Signature algorithm\" to RSA_SHA256." + orSHA1,
		hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly the realm's issuer, https://<host>/realms/<realm> (the entityID of the realm's SAML 2.0 Identity Provider Metadata, Keycloak Admin Console: Realm settings → General → Endpoints).",
		hintKey(CodeAudienceMismatch):       "In the Keycloak Admin Console, Clients → your client → Settings: the Client ID is the audience Keycloak sends; it must be exactly this connection's SP entity ID.",
		hintKey(CodeDestinationMismatch):    "In the Keycloak Admin Console, Clients → your client → Advanced → Fine Grain SAML Endpoint Configuration: set \"Assertion Consumer Service POST Binding URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeRecipientMismatch):      "In the Keycloak Admin Console, Clients → your client → Advanced → Fine Grain SAML Endpoint Configuration: set \"Assertion Consumer Service POST Binding URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from the Keycloak account console (Applications) or the application.",
		hintKey(CodeStatusNotSuccess):       "The IdP refused the login (a required role is missing, or the authentication flow denied the user): look for this login under Events in the Keycloak Admin Console, and check Clients → your client → Advanced → Authentication flow overrides.",
		hintKey(CodeEmailMissing):           "In the Keycloak Admin Console, Clients → your client → Client scopes → <client>-dedicated → Add mapper → By configuration → User Property: Property email, SAML Attribute Name email; or set Settings → Name ID format to email." + orEmailOptional,
		hintKey(CodeEmailNotVerified):       "Keycloak says this user's email is not verified: verify it (Keycloak Admin Console: Users → the user → Email verified), or have users verify their email (Realm settings → Login → Verify email).",
		hintKey(CodeEmailVerifiedInvalid):   "Keycloak knows whether each email is verified: in the Keycloak Admin Console, Clients → your client → Client scopes → <client>-dedicated → Add mapper → By configuration → User Property: Property emailVerified, SAML Attribute Name email_verified (one mapper).",
		hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one mapper for it (Keycloak Admin Console: Clients → your client → Client scopes → <client>-dedicated → Mappers).",
		hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups: add the user to one of them in the Keycloak Admin Console (Users → the user → Groups → Join Group)" + orAllowed + " A Group list mapper with Full group path on sends /parent/group.",
		hintGroupsAttributeMissing:          "In the Keycloak Admin Console, Clients → your client → Client scopes → <client>-dedicated → Add mapper → By configuration → Group list: Group attribute name memberOf, Full group path off.",
		hintAuthnStatementMissing:           "In the Keycloak Admin Console, Clients → your client → Settings → SAML capabilities: turn \"Include AuthnStatement\" on.",
	},
	IdPPingOne: {
		hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. In the PingOne admin console, Applications → Applications → your app → Configuration: set \"ACS URLs\" to this connection's ACS URL.",
		hintKey(CodeTooLarge):               "The response exceeds the configured size limit. In the PingOne admin console, Applications → Applications → your app → Attribute Mappings, remove attributes or send fewer groups," + orMaxBytes,
		hintKey(CodeUnsupported):            "PingOne encrypts the assertion: in the PingOne admin console, Applications → Applications → your app → Configuration, turn off \"Enable Encryption\"; samlgate needs the signed assertion in the clear.",
		hintKey(CodeSignatureMissing):       "In the PingOne admin console, Applications → Applications → your app → Configuration → Signing Key, check Sign Assertion, Sign Response or Sign Assertion & Response" + againstPolicy,
		hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: in the PingOne admin console, Applications → Applications → your app → Configuration, download the signing certificate (or the IdP metadata) again and configure it.",
		hintKey(CodeUntrustedCertificate):   "The PingOne app signs with another key (another signing key was selected or rotated) or a different certificate is configured: in the PingOne admin console, Applications → Applications → your app → Configuration → Signing Key, download the signing certificate and configure it" + asIdPCert,
		hintKey(CodeCertificateExpired):     "The IdP certificate has expired: in the PingOne admin console, Settings → Certificates & Key Pairs, add a signing key pair, select it in Applications → your app → Configuration → Signing Key, then download and configure it.",
		hintKey(CodeWeakSignatureAlgorithm): "The IdP signs with SHA-1: in the PingOne admin console, Applications → Applications → your app → Configuration → Signing Key, set the signing algorithm to SHA256withRSA." + orSHA1,
		hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly the app's Issuer ID (https://auth.pingone.com/<environment-id>), shown in the PingOne admin console under Applications → Applications → your app → Configuration, or take it from the app's IdP metadata.",
		hintKey(CodeAudienceMismatch):       "In the PingOne admin console, Applications → Applications → your app → Configuration: set \"Entity ID\" to exactly this connection's SP entity ID.",
		hintKey(CodeDestinationMismatch):    "In the PingOne admin console, Applications → Applications → your app → Configuration: set the first \"ACS URLs\" entry to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeRecipientMismatch):      "In the PingOne admin console, Applications → Applications → your app → Configuration: set the first \"ACS URLs\" entry to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from the PingOne application portal or the application.",
		hintKey(CodeStatusNotSuccess):       "The IdP refused the login. Usually the user may not use the app: in the PingOne admin console, Applications → Applications → your app → Access, add one of the user's groups.",
		hintKey(CodeEmailMissing):           "In the PingOne admin console, Applications → Applications → your app → Attribute Mappings: add email mapped to Email Address (saml_subject is the NameID)." + orEmailOptional,
		hintKey(CodeEmailNotVerified):       "PingOne says this user's email is not verified: verify it (PingOne admin console: Directory → Users → the user), or map email_verified to something you vouch for (Applications → your app → Attribute Mappings).",
		hintKey(CodeEmailVerifiedInvalid):   "PingOne knows whether each email is verified: in the PingOne admin console, Applications → Applications → your app → Attribute Mappings, add email_verified mapped to Email Verified (one mapping)." + orTrustEmail,
		hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one mapping for it (PingOne admin console: Applications → Applications → your app → Attribute Mappings).",
		hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups: add the user to one of them in the PingOne admin console (Directory → Groups)" + orAllowed,
		hintGroupsAttributeMissing:          "In the PingOne admin console, Applications → Applications → your app → Attribute Mappings: add memberOf mapped to Group Names.",
	},
	IdPPingFederate: {
		hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. In the PingFederate administrative console, Applications → Integration → SP Connections → your connection → Browser SSO → Protocol Settings → Assertion Consumer Service URL: add this connection's ACS URL with the POST binding, as the default.",
		hintKey(CodeTooLarge):               "The response exceeds the configured size limit. In the PingFederate administrative console, SP Connections → your connection → Browser SSO → Assertion Creation → Attribute Contract, drop attributes or fulfil the groups attribute with fewer groups," + orMaxBytes,
		hintKey(CodeUnsupported):            "PingFederate encrypts the assertion: in the PingFederate administrative console, SP Connections → your connection → Browser SSO → Protocol Settings → Encryption Policy, choose None; samlgate needs the signed assertion in the clear.",
		hintKey(CodeSignatureMissing):       "In the PingFederate administrative console, SP Connections → your connection → Browser SSO → Protocol Settings → Signature Policy, check \"Always sign the SAML Assertion\" and \"Sign response as required\"" + againstPolicy,
		hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: in the PingFederate administrative console, Security → Certificate & Key Management → Signing & Decryption Keys & Certificates, export the certificate chosen in the SP connection's Credentials → Digital Signature Settings again and configure it.",
		hintKey(CodeUntrustedCertificate):   "The PingFederate SP connection signs with another certificate (changed in Credentials → Digital Signature Settings, or rotated) or a different certificate is configured: in the PingFederate administrative console, Security → Certificate & Key Management → Signing & Decryption Keys & Certificates, export it and configure it" + asIdPCert,
		hintKey(CodeCertificateExpired):     "The IdP certificate has expired: in the PingFederate administrative console, Security → Certificate & Key Management → Signing & Decryption Keys & Certificates, create or import a key pair, select it in the SP connection's Credentials → Digital Signature Settings, then export and configure its certificate.",
		hintKey(CodeWeakSignatureAlgorithm): "The IdP signs with SHA-1: in the PingFederate administrative console, SP Connections → your connection → Credentials → Digital Signature Settings, set the signing algorithm to RSA SHA256." + orSHA1,
		hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly PingFederate's SAML 2.0 Entity ID (PingFederate administrative console: System → Protocol Settings → Federation Info), or take it from the IdP metadata PingFederate exports.",
		hintKey(CodeAudienceMismatch):       "In the PingFederate administrative console, SP Connections → your connection → General Info: set \"Partner's Entity ID (Connection ID)\" to exactly this connection's SP entity ID.",
		hintKey(CodeDestinationMismatch):    "In the PingFederate administrative console, SP Connections → your connection → Browser SSO → Protocol Settings → Assertion Consumer Service URL: make the default endpoint exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeRecipientMismatch):      "In the PingFederate administrative console, SP Connections → your connection → Browser SSO → Protocol Settings → Assertion Consumer Service URL: make the default endpoint exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from the application, or from PingFederate's IdP-initiated SSO link.",
		hintKey(CodeStatusNotSuccess):       "The IdP refused the login: look for it in the PingFederate server log, and check the authentication policies (PingFederate administrative console: Authentication → Policies) that apply to this SP connection.",
		hintKey(CodeEmailMissing):           "In the PingFederate administrative console, SP Connections → your connection → Browser SSO → Assertion Creation → Attribute Contract: add email, and fulfil it in Authentication Source Mapping → Attribute Contract Fulfillment (for example from the LDAP attribute mail)." + orEmailOptional,
		hintKey(CodeEmailNotVerified):       "PingFederate sent email_verified false. In the PingFederate administrative console, SP Connections → your connection → Browser SSO → Assertion Creation → Attribute Contract Fulfillment, fulfil email_verified from what vouches for the email (or Source Text, Value true, if you do).",
		hintKey(CodeEmailVerifiedInvalid):   "In the PingFederate administrative console, SP Connections → your connection → Browser SSO → Assertion Creation → Attribute Contract: add email_verified, and in Attribute Contract Fulfillment give it Source Text with Value true (one value).",
		hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one attribute for it in the PingFederate SP connection's Attribute Contract (Browser SSO → Assertion Creation).",
		hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups: add the user to one of them in the directory PingFederate reads, and check what the SP connection's Attribute Contract Fulfillment sends for the groups attribute" + orAllowed,
		hintGroupsAttributeMissing:          "In the PingFederate administrative console, SP Connections → your connection → Browser SSO → Assertion Creation → Attribute Contract: add memberOf, fulfilled from the directory's group memberships (the LDAP attribute memberOf).",
	},
	IdPADFS: {
		hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. In AD FS Management, Relying Party Trusts → your trust → Properties → Endpoints: add this connection's ACS URL as a SAML Assertion Consumer Endpoint with the POST binding, as the default.",
		hintKey(CodeTooLarge):               "The response exceeds the configured size limit. In AD FS Management, Relying Party Trusts → your trust → Edit Claim Issuance Policy, issue fewer group claims (a custom rule can filter them) or fewer attributes," + orMaxBytes,
		hintKey(CodeUnsupported):            "AD FS encrypts the assertion when the relying party trust has an encryption certificate: in AD FS Management, Relying Party Trusts → your trust → Properties → Encryption, remove it; samlgate needs the signed assertion in the clear.",
		hintKey(CodeSignatureMissing):       "AD FS signs the Assertion by default; Set-AdfsRelyingPartyTrust -TargetName <trust> -SamlResponseSignature AssertionOnly, MessageOnly or MessageAndAssertion changes that. Check it" + againstPolicy,
		hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: in AD FS Management, Service → Certificates → Token-signing → View Certificate → Details → Copy to File (Base-64 encoded X.509), and configure it.",
		hintKey(CodeUntrustedCertificate):   "AD FS rolled its token-signing certificate over (AutoCertificateRollover) or another certificate is configured: in AD FS Management, Service → Certificates, export the primary Token-signing certificate (View Certificate → Details → Copy to File, Base-64), or read /FederationMetadata/2007-06/FederationMetadata.xml, and configure it" + asIdPCert,
		hintKey(CodeCertificateExpired):     "The IdP certificate has expired: in AD FS Management, Service → Certificates, add a token-signing certificate (or let AutoCertificateRollover renew it) and make it primary, then export and configure it.",
		hintKey(CodeWeakSignatureAlgorithm): "The IdP signs with SHA-1: in AD FS Management, Relying Party Trusts → your trust → Properties → Advanced, set Secure hash algorithm to SHA-256." + orSHA1,
		hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly the AD FS Federation Service identifier (AD FS Management: Service → Edit Federation Service Properties; usually http://<adfs-host>/adfs/services/trust), or take it from the federation metadata.",
		hintKey(CodeAudienceMismatch):       "In AD FS Management, Relying Party Trusts → your trust → Properties → Identifiers: add exactly this connection's SP entity ID as a Relying party identifier.",
		hintKey(CodeDestinationMismatch):    "In AD FS Management, Relying Party Trusts → your trust → Properties → Endpoints: make the default SAML Assertion Consumer Endpoint (POST) exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeRecipientMismatch):      "In AD FS Management, Relying Party Trusts → your trust → Properties → Endpoints: make the default SAML Assertion Consumer Endpoint (POST) exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from the application, or from the AD FS sign-on page (/adfs/ls/idpinitiatedsignon).",
		hintKey(CodeStatusNotSuccess):       "The IdP refused the login. Usually the relying party trust's access control policy does not permit this user: in AD FS Management, Relying Party Trusts → your trust → Edit Access Control Policy.",
		hintKey(CodeEmailMissing):           "In AD FS Management, Relying Party Trusts → your trust → Edit Claim Issuance Policy → Add Rule → Send LDAP Attributes as Claims: attribute store Active Directory, E-Mail-Addresses → E-Mail Address." + orEmailOptional,
		hintKey(CodeEmailNotVerified):       "AD FS sent email_verified false. In AD FS Management, Relying Party Trusts → your trust → Edit Claim Issuance Policy, issue email_verified = true only for emails you vouch for (Send Claims Using a Custom Rule).",
		hintKey(CodeEmailVerifiedInvalid):   "In AD FS Management, Relying Party Trusts → your trust → Edit Claim Issuance Policy → Add Rule → Send Claims Using a Custom Rule: => issue(Type = \"email_verified\", Value = \"true\"); (one rule)." + orTrustEmail,
		hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one claim rule that issues it (AD FS Management: Relying Party Trusts → your trust → Edit Claim Issuance Policy).",
		hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups: add the user to one of them in Active Directory (the groups AD FS issues are those its claim rules send)" + orAllowed,
		hintGroupsAttributeMissing:          "In AD FS Management, Relying Party Trusts → your trust → Edit Claim Issuance Policy → Add Rule → Send LDAP Attributes as Claims: Token-Groups - Unqualified Names → outgoing claim type memberOf.",
	},
	IdPOneLogin: {
		hintKey(CodeMalformed):              "The request did not carry a SAML 2.0 Response. In the OneLogin admin portal, Applications → Applications → your app → Configuration: set \"ACS (Consumer) URL\" to this connection's ACS URL (and let the ACS URL Validator match it).",
		hintKey(CodeTooLarge):               "The response exceeds the configured size limit. In the OneLogin admin portal, Applications → Applications → your app → Parameters, send fewer groups or parameters," + orMaxBytes,
		hintKey(CodeUnsupported):            "OneLogin encrypts the assertion: in the OneLogin admin portal, Applications → Applications → your app, turn off assertion encryption (Encrypt assertion); samlgate needs the signed assertion in the clear.",
		hintKey(CodeSignatureMissing):       "In the OneLogin admin portal, Applications → Applications → your app → Configuration, check \"SAML signature element\" (Assertion, Response or Both)" + againstPolicy,
		hintKey(CodeSignatureInvalid):       "The signature does not match this connection's IdP certificate: in the OneLogin admin portal, Applications → Applications → your app → SSO → X.509 Certificate → View Details, download the certificate again and configure it.",
		hintKey(CodeUntrustedCertificate):   "The OneLogin app signs with another certificate (another one was chosen under SSO → X.509 Certificate → Change) or a different app's certificate is configured: in the OneLogin admin portal, Applications → Applications → your app → SSO → View Details, download it and configure it" + asIdPCert,
		hintKey(CodeCertificateExpired):     "The IdP certificate has expired: in the OneLogin admin portal, Security → Certificates → New, create a certificate, select it in the app's SSO → X.509 Certificate → Change, then download and configure it.",
		hintKey(CodeWeakSignatureAlgorithm): "The IdP signs with SHA-1: in the OneLogin admin portal, Applications → Applications → your app → SSO, set SAML Signature Algorithm to SHA-256." + orSHA1,
		hintKey(CodeIssuerMismatch):         "Set this connection's IdPEntityID to exactly the app's Issuer URL (https://app.onelogin.com/saml/metadata/<id>), shown in the OneLogin admin portal under Applications → Applications → your app → SSO, or take it from the app's metadata (More Actions → SAML Metadata).",
		hintKey(CodeAudienceMismatch):       "In the OneLogin admin portal, Applications → Applications → your app → Configuration: set \"Audience (EntityID)\" to exactly this connection's SP entity ID.",
		hintKey(CodeDestinationMismatch):    "In the OneLogin admin portal, Applications → Applications → your app → Configuration: set \"ACS (Consumer) URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeRecipientMismatch):      "In the OneLogin admin portal, Applications → Applications → your app → Configuration: set \"Recipient\" and \"ACS (Consumer) URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
		hintKey(CodeReplayed):               "This assertion was already used to log in. Start a new login from the OneLogin portal or the application.",
		hintKey(CodeStatusNotSuccess):       "The IdP refused the login. Usually the app is not assigned to the user: in the OneLogin admin portal, give the user a role that has the app (Applications → Applications → your app → Access, or Users → the user → Applications).",
		hintKey(CodeEmailMissing):           "In the OneLogin admin portal, Applications → Applications → your app → Parameters: add a parameter email with value Email and \"Include in SAML assertion\" ticked, or set the SAML nameID to Email." + orEmailOptional,
		hintKey(CodeEmailNotVerified):       "OneLogin sent email_verified false. In the OneLogin admin portal, Applications → Applications → your app → Parameters, give email_verified the value true (a Macro) only if you vouch for the users' emails.",
		hintKey(CodeEmailVerifiedInvalid):   "In the OneLogin admin portal, Applications → Applications → your app → Parameters: add one parameter email_verified, \"Include in SAML assertion\" ticked, with the value - Macro - true." + orTrustEmail,
		hintKey(CodeAttributeConflict):      "The IdP sends two different values for one identity field: keep one parameter for it (OneLogin admin portal: Applications → Applications → your app → Parameters).",
		hintKey(CodeGroupNotAllowed):        "The user is in none of this connection's allowed groups: give the user a role or group of one of those names in the OneLogin admin portal (Users → the user)" + orAllowed,
		hintGroupsAttributeMissing:          "In the OneLogin admin portal, Applications → Applications → your app → Parameters: add a parameter memberOf (\"Include in SAML assertion\" and \"Multi-value parameter\" ticked) with the value User Roles or MemberOf.",
	},
}
