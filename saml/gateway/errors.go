package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/samlgate/samlgate/saml"
)

// hints are the gateway's own advice for the refusals it makes itself
// (before or after Verify, whose errors carry their own hints).
var hints = map[saml.Code]string{
	saml.CodeTooLarge:      "The POST to the ACS exceeds the size limit. Reduce the attributes or groups the IdP sends, or raise the connection's MaxResponseBytes (max_response_bytes).",
	saml.CodeMalformed:     "The request did not carry a SAML 2.0 Response. Check that the IdP posts to this ACS URL with the HTTP-POST binding.",
	saml.CodeUnavailable:   "A backing store (sessions, login state or replay cache) failed or timed out; the request was refused to stay safe. Check its health (Redis: the admin /healthz, samlgate_store_errors_total) and retry.",
	saml.CodeExpired:       "The IdP's SessionNotOnOrAfter has passed: check this server's clock (NTP) and the IdP's session settings.",
	CodeLoginRefused:       "The application refused this user after a valid login (Config.OnLogin).",
	CodeUnknownConnection:  "The ?connection= of the URL names no configured connection: check the ACS URL in the IdP and the gateway's connections.",
	CodeSessionTooLarge:    "The identity is too large for a session cookie (a user in hundreds of groups) and nothing may keep it: Config.DisableOverflow is set, or the session exceeds the overflow store's OverflowLimits.MaxBytes. Set Config.SessionStore to a shared store, allow the overflow store (examples/gateway: overflow_sessions), or keep fewer groups with the connection's Groups.Filter (groups.filter).",
	saml.CodeConfigInvalid: "Fix the gateway configuration named in the message.",
}

// newError is an *saml.Error of the gateway's, with its hint and cause.
func newError(code saml.Code, msg string, cause error) *saml.Error {
	return &saml.Error{Code: code, Message: msg, Hint: hints[code], Err: cause}
}

func configError(format string, args ...any) *saml.Error {
	return newError(saml.CodeConfigInvalid, fmt.Sprintf(format, args...), nil)
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
