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

// codes is every Code above: each has a neutral hint, and the console
// codes a hint per IdP family (hints.go; TestHintsPerFamily).
var codes = []Code{
	CodeMalformed, CodeTooLarge, CodeUnsupported, CodeSignatureMissing, CodeSignatureInvalid,
	CodeUntrustedCertificate, CodeCertificateExpired, CodeWeakSignatureAlgorithm, CodeIssuerMismatch,
	CodeAudienceMismatch, CodeDestinationMismatch, CodeRecipientMismatch, CodeInResponseToMismatch,
	CodeExpired, CodeNotYetValid, CodeReplayed, CodeStatusNotSuccess, CodeEmailMissing,
	CodeEmailNotVerified, CodeEmailVerifiedInvalid, CodeEmailDomainNotAllowed, CodeAttributeConflict,
	CodeGroupNotAllowed, CodeGroupsOverage, CodeConfigInvalid, CodeUnavailable,
}

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
	// Hint names the IdP console step that fixes the error, in the
	// console of the connection's IdP family (ConnectionConfig.IdP), or in
	// neutral words for an IdP samlgate does not recognize.
	Hint string
	// Connection is the name of the connection that refused the response.
	Connection string
	// Now is the clock Verify used, set on time-window errors.
	Now time.Time
	// Err is the underlying cause (a goxmldsig, timestamp, groups or
	// store error), or nil. Its text may quote values of the response: it
	// appears in Detail, not in Error, and not in the JSON encoding. It
	// never holds the response itself.
	Err error `json:"-"`

	// key selects Hint in the hint table, so that the connection can word
	// it for its IdP's console.
	key hintKey
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

// newError returns an *Error with the neutral hint of its code; the
// connection that returns it rewords the hint for its IdP (localize).
func newError(code Code, msg string) *Error {
	return (&Error{Code: code, Message: msg}).withHint(hintKey(code))
}

// withHint gives e the hint of a finer diagnosis than its code's.
func (e *Error) withHint(k hintKey) *Error {
	e.key, e.Hint = k, hintFor(IdPGeneric, k)
	return e
}

// localize words e's hint for the IdP family kind. A hint some code set
// by hand (not one of the table's) is kept: it is more specific.
func (e *Error) localize(kind IdPKind) {
	if e.key != "" && e.Hint == hintFor(IdPGeneric, e.key) {
		e.Hint = hintFor(kind, e.key)
	}
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
