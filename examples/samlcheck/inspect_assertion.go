package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/samlgate/samlgate/saml"
)

// inspectAssertion reads the Assertion's subject, conditions, authn
// statements and attributes, recording each timestamp against now.
func inspectAssertion(r *report, a *etree.Element, now time.Time) (*assertionInfo, []attributeInfo) {
	info := &assertionInfo{
		ID:           a.SelectAttrValue("ID", ""),
		Issuer:       childText(a, "Issuer"),
		IssueInstant: a.SelectAttrValue("IssueInstant", ""),
		Audiences:    []string{},
	}
	r.addTime("Assertion IssueInstant", info.IssueInstant, now, "")
	if r.Response != nil && r.Response.Issuer != "" && info.Issuer != r.Response.Issuer {
		r.Remarks = append(r.Remarks, "The Response and the Assertion name different Issuers.")
	}
	r.inspectSubject(info, a, now)
	r.inspectConditions(info, a, now)
	r.inspectAuthnStatements(info, a, now)
	r.remarkIssueDelay(info.IssueInstant, now)
	return info, inspectAttributes(a)
}

// inspectSubject reads the NameID and every SubjectConfirmation.
func (r *report) inspectSubject(info *assertionInfo, a *etree.Element, now time.Time) {
	if n := a.FindElement("./Subject/NameID"); n != nil {
		info.NameID = strings.TrimSpace(n.Text())
		info.NameIDFormat = n.SelectAttrValue("Format", "")
	}
	for _, sc := range a.FindElements("./Subject/SubjectConfirmation") {
		c := subjectConfirmation{Method: sc.SelectAttrValue("Method", "")}
		if scd := sc.SelectElement("SubjectConfirmationData"); scd != nil {
			c.Recipient = scd.SelectAttrValue("Recipient", "")
			c.InResponseTo = scd.SelectAttrValue("InResponseTo", "")
			c.NotBefore = scd.SelectAttrValue("NotBefore", "")
			c.NotOnOrAfter = scd.SelectAttrValue("NotOnOrAfter", "")
		}
		info.SubjectConfirmations = append(info.SubjectConfirmations, c)
		r.addTime("SubjectConfirmationData NotBefore", c.NotBefore, now, "before")
		r.addTime("SubjectConfirmationData NotOnOrAfter", c.NotOnOrAfter, now, "after")
	}
}

// inspectConditions reads the validity window and the audiences.
func (r *report) inspectConditions(info *assertionInfo, a *etree.Element, now time.Time) {
	cond := a.SelectElement("Conditions")
	if cond == nil {
		return
	}
	info.NotBefore = cond.SelectAttrValue("NotBefore", "")
	info.NotOnOrAfter = cond.SelectAttrValue("NotOnOrAfter", "")
	for _, au := range cond.FindElements("./AudienceRestriction/Audience") {
		info.Audiences = append(info.Audiences, strings.TrimSpace(au.Text()))
	}
	r.addTime("Conditions NotBefore", info.NotBefore, now, "before")
	r.addTime("Conditions NotOnOrAfter", info.NotOnOrAfter, now, "after")
}

// inspectAuthnStatements reads when and how the user signed in and the
// session each statement opens.
func (r *report) inspectAuthnStatements(info *assertionInfo, a *etree.Element, now time.Time) {
	for _, st := range a.SelectElements("AuthnStatement") {
		s := authnStatementInfo{
			AuthnInstant:        st.SelectAttrValue("AuthnInstant", ""),
			SessionIndex:        st.SelectAttrValue("SessionIndex", ""),
			SessionNotOnOrAfter: st.SelectAttrValue("SessionNotOnOrAfter", ""),
		}
		if ref := st.FindElement("./AuthnContext/AuthnContextClassRef"); ref != nil {
			s.AuthnContext = strings.TrimSpace(ref.Text())
		}
		info.AuthnStatements = append(info.AuthnStatements, s)
		r.addTime("AuthnInstant", s.AuthnInstant, now, "")
		r.addTime("SessionNotOnOrAfter", s.SessionNotOnOrAfter, now, "after")
	}
}

// remarkIssueDelay remarks when the default maximum age after IssueInstant
// has passed at now: the usual reason a pasted old capture is refused.
func (r *report) remarkIssueDelay(issueInstant string, now time.Time) {
	if issueInstant == "" {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, issueInstant)
	if err != nil {
		return
	}
	limit := t.Add(saml.DefaultMaxIssueDelay + saml.DefaultClockSkew)
	if now.After(limit) {
		r.Remarks = append(r.Remarks, fmt.Sprintf("With the default settings samlgate refuses an assertion more than %s (+ %s clock skew) after its IssueInstant: this one is %s past that at now (verify reports expired; a replay needs -now).",
			fmtDuration(saml.DefaultMaxIssueDelay), fmtDuration(saml.DefaultClockSkew), fmtDuration(now.Sub(limit).Round(time.Second))))
	}
}

// inspectAttributes lists the attributes as sent; a NameID-valued
// attribute value is shown as the NameID's text.
func inspectAttributes(a *etree.Element) []attributeInfo {
	attrs := []attributeInfo{}
	for _, at := range a.FindElements("./AttributeStatement/Attribute") {
		ai := attributeInfo{
			Name:         at.SelectAttrValue("Name", ""),
			FriendlyName: at.SelectAttrValue("FriendlyName", ""),
			NameFormat:   at.SelectAttrValue("NameFormat", ""),
			Values:       []string{},
		}
		for _, v := range at.SelectElements("AttributeValue") {
			if n := v.SelectElement("NameID"); n != nil {
				ai.Values = append(ai.Values, strings.TrimSpace(n.Text()))
				continue
			}
			ai.Values = append(ai.Values, v.Text())
		}
		attrs = append(attrs, ai)
	}
	return attrs
}

// addTime records a timestamp and how it relates to now. bound is "before"
// for a NotBefore, "after" for a NotOnOrAfter.
func (r *report) addTime(what, value string, now time.Time, bound string) {
	if value == "" {
		return
	}
	ti := timeInfo{What: what, Value: value}
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		ti.Relative = "not a timestamp"
		r.Times = append(r.Times, ti)
		return
	}
	ti.Relative = relative(t, now)
	switch {
	case bound == "before" && now.Before(t):
		ti.Remark = "not reached yet at now, by " + fmtDuration(t.Sub(now).Round(time.Second))
	case bound == "after" && !now.Before(t):
		ti.Remark = "passed at now, by " + fmtDuration(now.Sub(t).Round(time.Second))
	}
	r.Times = append(r.Times, ti)
}
