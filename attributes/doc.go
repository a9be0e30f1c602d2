// Package attributes turns the attribute statement of an already verified
// SAML assertion into the handful of identity fields an application needs:
// email address, given name, family name and display name.
//
// This package does no XML parsing and no signature checking. The caller
// (package saml) hands it attribute names and values that it has already
// verified; everything here is plain string handling that can be tested
// without certificates.
//
// # Why a separate package
//
// Every identity provider names the same facts differently. JumpCloud and
// Okta send whatever the administrator typed ("email", "firstname"), Entra ID
// sends URIs ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"),
// and directory-backed IdPs send LDAP OIDs ("urn:oid:0.9.2342.19200300.100.1.3").
// Keeping the alias tables and the rules for combining them in one small,
// dependency-free package makes those rules easy to audit.
//
// # Matching rules
//
// Attribute names are compared case-insensitively against both Name and
// FriendlyName, because administrators routinely change the capitalisation
// of hand-typed attribute names and some IdPs put the short name only in
// FriendlyName. Names are tried in priority order: [Set.Lookup] returns
// attributes matching the first name before those matching the second, so
// the first entry of a [Mapping] list wins when values are taken "first".
//
// # Conflicts
//
// An assertion may carry the same fact under several aliases. [Mapping.Extract]
// refuses to guess when those aliases disagree about the email address,
// because the email is usually the account key and picking one silently could
// log a user into someone else's account; it returns a [*ConflictError]
// instead. Disagreeing names (given, family, display) are harmless
// cosmetics, so the first value in priority order is used.
//
// # Error messages
//
// Errors from this package carry attribute names only, never attribute
// values: values are personal data (email addresses, names) and errors tend
// to end up in logs.
package attributes
