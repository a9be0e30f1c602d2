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
// Keeping the alias tables and the rules for combining them in one small
// package, whose only dependency is golang.org/x/net/idna (for domain
// names), makes those rules easy to audit.
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
// # Plain email addresses
//
// An email string can hold more than one address, or an address hidden in
// a display name or comment, and parsers disagree on which one it is:
// "CEO <ceo@acme.example> x@beta.example" ends in beta.example, but Python's
// email.utils.parseaddr reads ceo@acme.example. [PlainEmail] accepts only
// one plain address (one '@', no display name, comment, quoting, brackets
// or white space, a valid domain name), which every parser reads the same
// way; package saml refuses any other email, and a gateway should forward
// an email to an upstream only when PlainEmail says so. [EmailDomain] and
// [NormalizeDomain] give domains in one form (lower-case ASCII, Punycode for
// internationalized names), so that a domain check compares like with
// like.
//
// # Error messages
//
// Errors from this package carry attribute names only, never attribute
// values: values are personal data (email addresses, names) and errors tend
// to end up in logs. (NormalizeDomain, meant for configured domains, quotes
// the domain it was given; never pass it an attribute value.)
package attributes
