package saml

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Code is the stable, machine-readable reason a login was refused. Codes
// never change meaning once released: dashboards, alerts and the samlcheck
// tool key on them.
//
// A Code is an error, as syscall.Errno is: every *Error matches its code,
// so callers test for one with errors.Is:
//
//	if errors.Is(err, saml.CodeEmailNotVerified) { ... }
//
// Codes are constants: unlike exported error variables, no caller can
// change what they match.
type Code string

// Error returns the code itself.
func (c Code) Error() string { return string(c) }

// The codes Verify and NewConnection return.
const (
	CodeMalformed              Code = "malformed"
	CodeTooLarge               Code = "too_large"
	CodeUnsupported            Code = "unsupported"
	CodeSignatureMissing       Code = "signature_missing"
	CodeSignatureInvalid       Code = "signature_invalid"
	CodeUntrustedCertificate   Code = "untrusted_certificate"
	CodeCertificateExpired     Code = "certificate_expired"
	CodeWeakSignatureAlgorithm Code = "weak_signature_algorithm"
	CodeIssuerMismatch         Code = "issuer_mismatch"
	CodeAudienceMismatch       Code = "audience_mismatch"
	CodeDestinationMismatch    Code = "destination_mismatch"
	CodeRecipientMismatch      Code = "recipient_mismatch"
	CodeInResponseToMismatch   Code = "in_response_to_mismatch"
	CodeExpired                Code = "expired"
	CodeNotYetValid            Code = "not_yet_valid"
	CodeReplayed               Code = "replayed"
	CodeStatusNotSuccess       Code = "status_not_success"
	CodeEmailMissing           Code = "email_missing"
	CodeEmailNotVerified       Code = "email_not_verified"
	CodeEmailVerifiedInvalid   Code = "email_verified_invalid"
	CodeEmailDomainNotAllowed  Code = "email_domain_not_allowed"
	CodeAttributeConflict      Code = "attribute_conflict"
	CodeGroupNotAllowed        Code = "group_not_allowed"
	CodeGroupsOverage          Code = "groups_overage"
	CodeConfigInvalid          Code = "config_invalid"
	CodeUnavailable            Code = "unavailable"
)

// Error is every error Verify and NewConnection return. Its Error string
// holds the code, a message, and the expected and actual values of the
// mismatched setting (issuer, audience, URLs, time window): configuration
// values an admin compares with the IdP console, never assertion XML,
// emails or group names. The underlying cause, which may quote more of the
// message, is only in Detail, meant for server logs at Debug level.
type Error struct {
	Code Code
	// Message says what was wrong, in words an admin understands.
	Message string
	// Expected is what this connection is configured to accept, and Actual
	// what the response carried, when the error is a mismatch.
	Expected, Actual string
	// Hint names the IdP console step that fixes the error.
	Hint string
	// Connection is the name of the connection that refused the response.
	Connection string
	// Now is the clock Verify used, set on time-window errors.
	Now time.Time
	// Err is the underlying cause (a crewjam/saml, goxmldsig, groups or
	// store error), or nil. It may quote the response: it appears in
	// Detail, not in Error.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("samlgate: ")
	if e.Connection != "" {
		b.WriteString("connection ")
		b.WriteString(e.Connection)
		b.WriteString(": ")
	}
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Expected != "" || e.Actual != "" {
		fmt.Fprintf(&b, " (expected %q, got %q)", e.Expected, e.Actual)
	}
	return b.String()
}

// Is makes errors.Is(err, code) true for every *Error of that Code.
func (e *Error) Is(target error) bool {
	c, ok := target.(Code)
	return ok && c == e.Code
}

// Unwrap returns Err, so that errors.Is and errors.As reach the cause.
func (e *Error) Unwrap() error { return e.Err }

// Detail returns the error with its underlying cause, for server logs. It
// may quote parts of the response, so log it at Debug level only.
func (e *Error) Detail() string {
	if e.Err == nil {
		return e.Error()
	}
	return e.Error() + ": " + causeString(e.Err)
}

// causeString unwraps crewjam's InvalidResponseError, whose Error method
// always says "Authentication failed", to reach the real reason.
func causeString(err error) string {
	var parts []string
	for err != nil {
		type private interface{ Unwrap() error }
		s := err.Error()
		if s != "Authentication failed" {
			parts = append(parts, s)
			break
		}
		u, ok := err.(private)
		if !ok {
			parts = append(parts, s)
			break
		}
		err = u.Unwrap()
	}
	return strings.Join(parts, ": ")
}

// hints maps each code to the console step that usually fixes it. They are
// written for JumpCloud, the IdP our users start with; the step has an
// equivalent in every IdP.
var hints = map[Code]string{
	CodeMalformed:              "The request did not carry a SAML 2.0 Response. Check that the IdP posts to this ACS URL with the HTTP-POST binding.",
	CodeTooLarge:               "The response exceeds the configured size limit. Reduce the attributes or groups the IdP sends, or raise the connection's MaxResponseBytes (max_response_bytes).",
	CodeUnsupported:            "Turn off assertion encryption in the IdP application; samlgate needs the signed assertion in the clear (JumpCloud never encrypts).",
	CodeSignatureMissing:       "JumpCloud signs the Assertion by default: in the SSO app, check the \"Sign\" setting (Assertion, Response or both) against this connection's signature policy (Signature, signature).",
	CodeSignatureInvalid:       "The signature does not match this connection's IdP certificate: download certificate.pem again from the JumpCloud SSO app (SSO tab → IDP Certificate) and configure it.",
	CodeUntrustedCertificate:   "The JumpCloud app's certificate was regenerated or a different app's certificate is configured: download certificate.pem from this SSO app (SSO tab → IDP Certificate) and configure it as the connection's IdP certificate (IdPCertificatesPEM, idp_certificate_files, -idp-cert).",
	CodeCertificateExpired:     "The IdP certificate has expired: in the JumpCloud SSO app, regenerate the certificate (SSO tab → IDP Certificate), then download and configure the new certificate.pem.",
	CodeWeakSignatureAlgorithm: "The IdP signs with SHA-1: in the JumpCloud SSO app, set Signature Algorithm to RSA-SHA256. Only if that is impossible, allow SHA-1 on this connection (AllowSHA1, allow_sha1, -allow-sha1).",
	CodeIssuerMismatch:         "Set this connection's IdPEntityID to exactly the \"IdP Entity ID\" typed in the JumpCloud SSO app (or take it from the app's exported metadata).",
	CodeAudienceMismatch:       "In the JumpCloud SSO app, set \"SP Entity ID\" to exactly this connection's SP entity ID (not the IdP URL).",
	CodeDestinationMismatch:    "In the JumpCloud SSO app, set the first \"ACS URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
	CodeRecipientMismatch:      "In the JumpCloud SSO app, set the first \"ACS URL\" to exactly this connection's ACS URL, including ?connection=<name>.",
	CodeInResponseToMismatch:   "The response answers a login request this server did not make or no longer tracks: start the login again from the application.",
	CodeExpired:                "The response is outside its validity window: check the clocks of this server (NTP) and retry the login; a captured response cannot be reused later.",
	CodeNotYetValid:            "The response is dated in the future: this server's clock is behind the IdP's. Check NTP, or raise the connection's clock skew (ClockSkew, clock_skew).",
	CodeReplayed:               "This assertion was already used to log in. Start a new login from the JumpCloud user portal or the application.",
	CodeStatusNotSuccess:       "The IdP refused the login. Usually the user is not bound to the SSO app: in JumpCloud, bind the user's group to the application (User Groups tab of the SSO app).",
	CodeEmailMissing:           "In the JumpCloud SSO app, add a user attribute mapping \"email\" → email (SSO tab → Attributes), or use the email as the NameID.",
	CodeEmailNotVerified:       "In the JumpCloud SSO app, SSO tab → Constant Attributes: add email_verified = true.",
	CodeEmailVerifiedInvalid:   "In the JumpCloud SSO app, SSO tab → Constant Attributes: add email_verified = true (exactly once, with one value).",
	CodeEmailDomainNotAllowed:  "The IdP asserted an email at a domain this connection does not accept. Each tenant's IdP may vouch only for its own domains: add the domain to the connection's allowed email domains (AllowedEmailDomains, allowed_email_domains) if this IdP really owns it.",
	CodeAttributeConflict:      "The IdP sends two different values for one identity field: keep one attribute mapping for it in the SSO app.",
	CodeGroupNotAllowed:        "The user is in none of this connection's allowed groups: bind the user to one of them in JumpCloud, or change the connection's allowed groups (Groups.AllowedGroups, groups.allowed).",
	CodeGroupsOverage:          "Entra ID sent a groups link instead of the groups (the user is in more than 150): assign groups to the application, or emit only groups assigned to the app.",
	CodeConfigInvalid:          "Fix the connection configuration named in the message.",
	CodeUnavailable:            "A backing store (replay cache) failed; the login was refused to stay safe. Check its health and retry.",
}

func newError(code Code, msg string) *Error {
	return &Error{Code: code, Message: msg, Hint: hints[code]}
}

func (e *Error) withCause(err error) *Error { e.Err = err; return e }

func (e *Error) mismatch(expected, actual string) *Error {
	e.Expected, e.Actual = expected, actual
	return e
}

func configError(format string, args ...any) *Error {
	return newError(CodeConfigInvalid, fmt.Sprintf(format, args...))
}

// asError returns err as an *Error if it is one.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// truncate bounds s to n bytes, cutting at a rune boundary so that a
// quoted value never ends in half a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
