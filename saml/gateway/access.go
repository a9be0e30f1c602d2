package gateway

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
)

// gateAttribute is the attribute name under which a session's groups are
// handed to a groups.Resolver to apply a gate to them again: the resolver
// works on assertion attributes, and the session keeps names only.
const gateAttribute = "samlgate-session-groups"

// sessionAccess is what a session of a connection must still satisfy on
// every request, so that settings tightened after a login (a stricter
// connection set with SetConnection) reach the sessions that exist: the
// allowed-groups gate, the allowed email domains and the email_verified
// policy are checked again; a change of the rules that derived the
// session's groups and roles ends it.
type sessionAccess struct {
	// gate is AllowedGroups over gateAttribute; nil when not set.
	gate *groups.Resolver
	// hidden, set when the connection has both a gate and a Filter,
	// reads at login the user's groups that match the gate, Filter or
	// not: the gate sees every group at login (groups.Config), so a
	// session must keep those the Filter drops from Identity.Groups, or
	// the gate would refuse on the next request a user it just admitted.
	hidden *groups.Resolver
	// emailDomains are AllowedEmailDomains in lower-case ASCII form, as
	// saml.Connection compares them.
	emailDomains []string
	// requireVerified: the email_verified policy is require.
	requireVerified bool
	// policy fingerprints what derived Identity.Groups and Roles (group
	// attribute names, delimiter, filter, role mapping): a session carries
	// the fingerprint of its connection at login.
	policy string
	// err: a groups configuration that does not compile; no session is
	// admitted.
	err error
}

func newSessionAccess(cfg saml.ConnectionConfig) sessionAccess {
	a := sessionAccess{requireVerified: cfg.EmailVerified == saml.EmailVerifiedRequire}
	gc := cfg.Groups
	if len(gc.AllowedGroups) > 0 {
		// Filter only trims the result (the gate sees every group): the
		// same patterns there keep each request from copying the list.
		a.gate, a.err = groups.Config{AttributeNames: []string{gateAttribute}, AllowedGroups: gc.AllowedGroups, Filter: gc.AllowedGroups}.Compile()
		if a.err == nil && len(gc.Filter) > 0 {
			a.hidden, a.err = groups.Config{AttributeNames: gc.AttributeNames, Delimiter: gc.Delimiter, Filter: gc.AllowedGroups}.Compile()
		}
	}
	for _, d := range cfg.AllowedEmailDomains {
		ascii, err := attributes.NormalizeDomain(strings.TrimSpace(d))
		if err != nil && a.err == nil {
			// saml.NewConnection refused it already. Should it reach here,
			// fail closed: skipping it could leave no restriction at all.
			a.err = err
		}
		a.emailDomains = append(a.emailDomains, ascii)
	}
	fp, _ := json.Marshal(struct {
		A []string             `json:"a"`
		D string               `json:"d"`
		F []string             `json:"f"`
		R []groups.RoleMapping `json:"r"`
	}{gc.AttributeNames, gc.Delimiter, gc.Filter, gc.Roles})
	sum := sha256.Sum256(fp)
	a.policy = base64.RawURLEncoding.EncodeToString(sum[:12])
	return a
}

// gateGroups returns, at login, the user's groups that the gate matches
// and that the Filter left out of id.Groups; nil when there is no Filter
// or no gate. Should the assertion's groups not resolve (Verify resolved
// them already), it returns none: the session then fails the gate on its
// next request, closed.
func (a *sessionAccess) gateGroups(id *saml.Identity) []string {
	if a.hidden == nil {
		return nil
	}
	res, err := a.hidden.Resolve(id.Attributes)
	if err != nil {
		return nil
	}
	var out []string
	for _, g := range res.Groups {
		if !slices.Contains(id.Groups, g) {
			out = append(out, g)
		}
	}
	return out
}

// Why a session no longer opens, for the Info log (never a value of the
// identity).
const (
	endedPolicy   = "the connection's group attribute, delimiter, filter or role mapping changed since the login"
	endedGate     = "the user is no longer in any of the connection's allowed groups"
	endedDomain   = "the user's email is not at one of the connection's allowed email domains"
	endedVerified = "the connection requires a verified email, and the session's is not"
	endedBroken   = "the connection's groups configuration does not compile"
)

// admits reports whether a session still meets the connection's rules,
// and if not, why. The answer depends on st and a alone, both immutable
// (a decoded session is shared read only; a connection's rules change only
// by replacing the connection, and with it a), so it is kept on st for a:
// the gate's Resolve is then not run again on every request of the
// session. Another a (the connection replaced) checks afresh.
func (a *sessionAccess) admits(st *sessionState) (bool, string) {
	if v := st.verdict.Load(); v != nil && v.access == a {
		return v.why == "", v.why
	}
	ok, why := a.check(st)
	st.verdict.Store(&accessVerdict{access: a, why: why})
	return ok, why
}

// accessVerdict is admits' answer for one session under one
// sessionAccess: why is "" when it admits the session.
type accessVerdict struct {
	access *sessionAccess
	why    string
}

// check is admits without the memory.
func (a *sessionAccess) check(st *sessionState) (bool, string) {
	id := st.ID
	switch {
	case a.err != nil:
		return false, endedBroken
	case st.Policy != a.policy:
		return false, endedPolicy
	case a.requireVerified && id.Email != "" && !id.EmailVerified:
		// As at login: without an email (EmailOptional) there is
		// nothing to verify.
		return false, endedVerified
	}
	if len(a.emailDomains) > 0 {
		domain, plain := attributes.EmailDomain(id.Email)
		if !plain || !slices.Contains(a.emailDomains, domain) {
			return false, endedDomain
		}
	}
	if a.gate != nil {
		values := make([]string, 0, len(id.Groups)+len(st.GateGroups))
		values = append(append(values, id.Groups...), st.GateGroups...)
		if _, err := a.gate.Resolve(attributes.Set{{Name: gateAttribute, Values: values}}); err != nil {
			return false, endedGate
		}
	}
	return true, ""
}
