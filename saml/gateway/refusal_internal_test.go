package gateway

import (
	"net/http"
	"testing"

	"github.com/samlgate/samlgate/saml"
)

func TestExpandNames(t *testing.T) {
	for _, tc := range []struct{ s, app, idp, want string }{
		{"{app} cannot. Ask {idp}.", "samlgate demo", "JumpCloud", "samlgate demo cannot. Ask JumpCloud."},
		{"{app} cannot. {idp} did not.", defaultAppName, genericIdPName, "This application cannot. Your identity provider did not."},
		{"Sign in to {app} with {idp}.", defaultAppName, genericIdPName, "Sign in to this application with your identity provider."},
	} {
		if got := expandNames(tc.s, tc.app, tc.idp); got != tc.want {
			t.Errorf("expandNames(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

// TestFallbackRefusal: a code without a page of its own (one added later,
// such as a 503 for a failed team sync) is worded by its status: a 503
// offers a retry, a 403 asks for access, others send the user to the
// administrator with the code.
func TestFallbackRefusal(t *testing.T) {
	for _, tc := range []struct {
		status int
		retry  bool
		title  string
	}{
		{http.StatusServiceUnavailable, true, "Sign-in temporarily unavailable"},
		{http.StatusForbidden, false, "No access to {app}"},
		{http.StatusInternalServerError, false, "Sign-in failed"},
		{http.StatusBadRequest, false, "Sign-in failed"},
	} {
		rf := fallbackRefusal(tc.status)
		if rf.retry != tc.retry || rf.title != tc.title || rf.message == "" || rf.advice == "" {
			t.Errorf("%d: %+v", tc.status, rf)
		}
	}
	if _, ok := refusals[saml.CodeSignatureInvalid]; ok {
		t.Error("signature_invalid has a page of its own: this test needs another code")
	}
}
