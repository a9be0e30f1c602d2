package gateway

import (
	"net/http"
	"net/url"

	"github.com/samlgate/samlgate/saml"
)

// refusal is what a refused login's page says: written for the person
// signing in, with {app} and {idp} standing for the application's and the
// IdP's names. retry offers "Sign in again", only where a new login can
// succeed without anyone changing anything.
type refusal struct {
	title, message, advice string
	retry                  bool
}

// refusals are the pages of the codes a user can meet and act on.
// Every other code gets fallbackRefusal, by HTTP status.
var refusals = map[saml.Code]refusal{
	saml.CodeStatusNotSuccess: {
		title:   "No access to {app}",
		message: "{idp} did not let you sign in to {app}. Usually this means your account is not assigned to this application at {idp}.",
		advice:  "Ask your administrator to give your account access to {app} in {idp}. Signing in again will not help until they do.",
	},
	saml.CodeGroupNotAllowed: {
		title:   "No access to {app}",
		message: "You signed in with {idp}, but your account is not in a group that may use {app}.",
		advice:  "Ask your administrator to add you to a group that has access to {app}.",
	},
	saml.CodeEmailNotVerified: {
		title:   "Email address not verified",
		message: "Only verified email addresses may sign in to {app}, and {idp} did not confirm that yours is verified.",
		advice:  "If {idp} asks you to verify your email address, do so, then sign in again. Otherwise, ask your administrator for help.",
	},
	saml.CodeEmailVerifiedInvalid: {
		title:   "Email address not verified",
		message: "Only verified email addresses may sign in to {app}, and {idp} did not say clearly whether yours is.",
		advice:  "Ask your administrator to check how {idp} reports verified addresses to {app}.",
	},
	saml.CodeEmailDomainNotAllowed: {
		title:   "No access to {app}",
		message: "Your email address is not in a domain that may sign in to {app} through {idp}.",
		advice:  "Sign in with your organization's account, or ask your administrator for access.",
	},
	CodeLoginRefused: {
		title:   "No access to {app}",
		message: "You signed in with {idp}, but {app} does not accept your account.",
		advice:  "Ask your administrator for access to {app}.",
	},
	saml.CodeReplayed: {
		title:   "Sign-in link already used",
		message: "This sign-in was already completed once, and a sign-in can be used only once. This happens when the page is reloaded, or opened again from the browser's history.",
		advice:  "Sign in again to continue.",
		retry:   true,
	},
	saml.CodeExpired: {
		title:   "Sign-in link expired",
		message: "This sign-in is too old to be accepted: sign-in links are valid for a few minutes only.",
		advice:  "Sign in again. If it keeps failing, give your administrator the code and request ID below: the clocks of {app} and {idp} may disagree.",
		retry:   true,
	},
	saml.CodeNotYetValid: {
		title:   "Sign-in not yet valid",
		message: "This sign-in is not valid yet: the clocks of {app} and {idp} seem to disagree.",
		advice:  "Sign in again in a minute. If it keeps failing, give your administrator the code and request ID below.",
		retry:   true,
	},
	saml.CodeInResponseToMismatch: {
		title:   "Sign-in could not be completed",
		message: "This sign-in was not started from this browser, or it has expired.",
		advice:  "Sign in again from {app}, in this browser.",
		retry:   true,
	},
	saml.CodeUnavailable: {
		title:   "Sign-in temporarily unavailable",
		message: "Sign-ins to {app} cannot be completed right now.",
		advice:  "Try again in a few minutes. If it keeps failing, give your administrator the code and request ID below.",
		retry:   true,
	},
	CodeSessionTooLarge: {
		title:   "Sign-in could not be completed",
		message: "Your account is in too many groups for {app} to keep your sign-in.",
		advice:  "Give your administrator the code and request ID below.",
	},
	saml.CodeConfigInvalid: {
		title:   "Sign-in is not set up correctly",
		message: "Sign-ins to {app} through {idp} are not set up correctly.",
		advice:  "Give your administrator the code and request ID below.",
	},
}

// fallbackRefusal words a code refusals does not know (a response an IdP
// misconfiguration makes invalid, and any code added later) by the HTTP
// status it is refused with.
func fallbackRefusal(status int) refusal {
	switch {
	case status == http.StatusServiceUnavailable:
		return refusals[saml.CodeUnavailable]
	case status == http.StatusForbidden:
		return refusal{
			title:   "No access to {app}",
			message: "You signed in with {idp}, but your account may not use {app}.",
			advice:  "Ask your administrator for access, and give them the code and request ID below.",
		}
	case status >= 500:
		return refusal{
			title:   "Sign-in failed",
			message: "Something went wrong on the side of {app} while signing you in.",
			advice:  "Try again later. If it keeps failing, give your administrator the code and request ID below.",
		}
	}
	// 400 and 413: the response was not accepted, nearly always because
	// of a setting at the IdP or here that only an administrator changes.
	return refusal{
		title:   "Sign-in failed",
		message: "The sign-in from {idp} was not accepted by {app}.",
		advice:  "This usually needs your administrator: give them the code and request ID below.",
	}
}

// refusalPage is the page of a refused callback.
func (g *Gateway) refusalPage(w http.ResponseWriter, connection string, code saml.Code, note, reqID string) {
	status := statusFor(code)
	c, _ := g.conn(connection)
	d := g.page(PageError, status, c)
	rf, ok := refusals[code]
	if !ok {
		rf = fallbackRefusal(status)
	}
	if code == saml.CodeInResponseToMismatch {
		switch note {
		case noteCookieMissing:
			rf.message = "Your browser did not send back the cookie it was given when this sign-in started, so the sign-in cannot be completed."
			rf.advice = "Sign in again from {app}, in this browser. If it keeps failing, allow cookies for this site."
		case noteRequestExpired:
			rf.message = "This sign-in took too long to complete."
		}
	}
	fill := func(s string) string { return expandNames(s, d.AppName, d.IdPName) }
	d.Title, d.Message, d.Advice = fill(rf.title), fill(rf.message), fill(rf.advice)
	d.Code, d.RequestID = string(code), reqID
	if rf.retry && c != nil {
		d.RetryURL = g.cfg.LoginPath + "?" + url.Values{"connection": {c.Name()}}.Encode()
	}
	g.render(w, d)
}

// expandNames replaces {app} and {idp}. The generic names ("this
// application", "your identity provider") start a sentence with a capital;
// a product's own name is kept as its owner writes it.
func expandNames(s, app, idp string) string {
	var out []byte
	for i := 0; i < len(s); {
		var name string
		switch {
		case hasAt(s, i, "{app}"):
			name = app
		case hasAt(s, i, "{idp}"):
			name = idp
		default:
			out = append(out, s[i])
			i++
			continue
		}
		if sentenceStart(out) && (name == defaultAppName || name == genericIdPName) {
			name = string(name[0]-'a'+'A') + name[1:]
		}
		out = append(out, name...)
		i += len("{app}")
	}
	return string(out)
}

func hasAt(s string, i int, tok string) bool { return len(s)-i >= len(tok) && s[i:i+len(tok)] == tok }

// sentenceStart reports whether text written so far ends a sentence (or
// is empty).
func sentenceStart(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case ' ':
			continue
		case '.', '!', '?':
			return true
		}
		return false
	}
	return true
}
