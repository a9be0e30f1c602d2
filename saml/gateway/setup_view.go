package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// The setup assistant's view models: what its templates show, built from
// saml's exported API only (Connection.Config, Certificates,
// ExpiringCertificates, MetadataFetcher).

type indexView struct {
	Connections []indexEntry
	RequestID   string
	Found       []refusalView
}

type indexEntry struct {
	Name, Link, IdP string
	Refusals        int
}

type setupView struct {
	Name      string
	IdP       string // the IdP family's name, as detected or configured
	RequestID string // the request ID searched for, if any

	SPEntityID, ACSURL, MetadataURL string
	MetadataFile, MetadataLink      string
	TestLink                        string

	Warnings []string
	Guides   []idpGuide

	IdPEntityID, IdPSSOURL string
	Certificates           []certView
	CertificatesError      string
	Fetcher                *fetcherView
	Policies               []policyView

	Refusals []refusalView
}

type certView struct {
	Subject, Fingerprint string
	NotBefore, NotAfter  string
	Left                 string
	Expiring, Expired    bool
}

type fetcherView struct {
	URL, LastRefresh, Age string
	Stale                 bool
}

type policyView struct{ Name, Value string }

type refusalView struct {
	Connection, Link        string
	Time, Age               string
	Code, RequestID         string
	Message                 string
	Expected, Actual, Hint  string
	IdPInitiated, Test, Hit bool
}

// connectionView is the setup page of c.
func (h *setupHandler) connectionView(r *http.Request, c *conn, requestID string) setupView {
	ctx := r.Context()
	cfg := c.Config()
	now := h.g.now()
	name := queryEscape(c.Name())
	v := setupView{
		Name:         c.Name(),
		IdP:          idpTitle(cfg.IdP),
		RequestID:    requestID,
		SPEntityID:   cfg.SPEntityID,
		ACSURL:       cfg.ACSURL,
		MetadataFile: metadataFileName(c.Name()),
		MetadataLink: "?connection=" + name + "&action=metadata",
		TestLink:     "?connection=" + name + "&action=test",
		IdPEntityID:  cfg.IdPEntityID,
		IdPSSOURL:    cfg.IdPSSOURL,
		Policies:     policies(cfg),
	}
	md := h.g.publicURL(c, h.g.cfg.MetadataPath)
	md.RawQuery = url.Values{"connection": {c.Name()}}.Encode()
	v.MetadataURL = md.String()
	v.Guides = guides(cfg, v.MetadataFile)

	v.Certificates, v.CertificatesError = h.certificates(ctx, c, now)
	if f, ok := cfg.Certificates.(*saml.MetadataFetcher); ok {
		v.Fetcher = fetcherOf(f, now)
	}
	v.Warnings = h.warnings(c, cfg, v)

	refusals := h.g.RecentRefusals(c.Name())
	if requestID != "" {
		refusals = matchingRefusals(refusals, requestID)
	}
	v.Refusals = refusalViews(now, refusals)
	return v
}

// certificates lists the certificates c trusts now, flagging those
// ExpiringCertificates reports.
func (h *setupHandler) certificates(ctx context.Context, c *conn, now time.Time) ([]certView, string) {
	certs, err := c.Certificates(ctx)
	if err != nil {
		return nil, err.Error()
	}
	expiring, _ := c.ExpiringCertificates(ctx, h.cfg.CertificateWarning)
	soon := map[string]bool{}
	for _, e := range expiring {
		if e != nil {
			soon[saml.Fingerprint(e)] = true
		}
	}
	out := make([]certView, 0, len(certs))
	for _, cert := range certs {
		if cert == nil {
			continue
		}
		cv := certView{
			Subject:     cert.Subject.String(),
			Fingerprint: saml.Fingerprint(cert),
			NotBefore:   formatTime(cert.NotBefore),
			NotAfter:    formatTime(cert.NotAfter),
			Expired:     !now.Before(cert.NotAfter),
		}
		cv.Expiring = soon[cv.Fingerprint] && !cv.Expired
		if cv.Expired {
			cv.Left = "expired " + ago(now.Sub(cert.NotAfter))
		} else {
			cv.Left = "expires in " + span(cert.NotAfter.Sub(now))
		}
		out = append(out, cv)
	}
	return out, ""
}

func fetcherOf(f *saml.MetadataFetcher, now time.Time) *fetcherView {
	fv := &fetcherView{URL: f.URL, LastRefresh: "never", Age: "no good copy yet"}
	if u, err := url.Parse(f.URL); err == nil {
		fv.URL = u.Redacted()
	}
	interval := f.Interval
	if interval <= 0 {
		interval = saml.DefaultMetadataInterval
	}
	if last := f.LastRefresh(); !last.IsZero() {
		fv.LastRefresh = formatTime(last)
		fv.Age = ago(now.Sub(last))
		// Run refreshes every Interval: two missed in a row is a failure
		// that the Warn log has been reporting.
		fv.Stale = now.Sub(last) > 2*interval
	} else {
		fv.Stale = true
	}
	return fv
}

// warnings are what an admin should fix first.
func (h *setupHandler) warnings(c *conn, cfg saml.ConnectionConfig, v setupView) []string {
	var out []string
	if c.acsURL.Scheme != "https" && !loopbackHost(c.acsURL.Hostname()) {
		out = append(out, "The ACS URL is not https: IdPs post the user's assertion to it in the clear, and browsers drop Secure cookies there (except on localhost).")
	}
	for _, cv := range v.Certificates {
		switch {
		case cv.Expired:
			out = append(out, "Certificate "+cv.Fingerprint+" has expired: logins it signs are refused unless the connection allows expired certificates. Configure the IdP's new certificate.")
		case cv.Expiring:
			out = append(out, "Certificate "+cv.Fingerprint+" "+cv.Left+": add the IdP's next certificate to the connection before the IdP switches to it (JumpCloud's rotation is a hard cut-over).")
		}
	}
	if v.CertificatesError != "" {
		out = append(out, "The connection has no certificates to trust right now: "+v.CertificatesError)
	}
	if v.Fetcher != nil && v.Fetcher.Stale {
		out = append(out, "The IdP metadata has not been refreshed for more than two refresh intervals ("+v.Fetcher.Age+"): the Warn log says why; a certificate rotation at the IdP will not reach this connection until it is.")
	}
	if cfg.EmailVerified == saml.EmailVerifiedRequire && cfg.IdP == saml.IdPGoogle {
		out = append(out, "Google Workspace cannot send email_verified, and this connection requires it: every login will be refused with email_not_verified. Trust the Workspace's emails (email_verified: trust) with AllowedEmailDomains set to its domains.")
	}
	if cfg.EmailVerified == saml.EmailVerifiedTrust && len(cfg.AllowedEmailDomains) == 0 {
		out = append(out, "Every email this IdP asserts is trusted as verified, for any domain: set AllowedEmailDomains to the domains the IdP owns.")
	}
	return out
}

// policies are what the connection accepts, in the admin's words.
func policies(cfg saml.ConnectionConfig) []policyView {
	orNone := func(list []string, none string) string {
		if len(list) == 0 {
			return none
		}
		return strings.Join(list, ", ")
	}
	ev := string(cfg.EmailVerified)
	switch cfg.EmailVerified {
	case saml.EmailVerifiedRequire:
		ev += ": the assertion must carry email_verified = true"
	case saml.EmailVerifiedTrust:
		ev += ": every email is taken as verified (the IdP does not say)"
	case saml.EmailVerifiedIgnore:
		ev += ": read when present, never a reason to refuse"
	}
	if cfg.EmailOptional {
		ev += "; an assertion without email is accepted"
	}
	var roles []string
	for _, m := range cfg.Groups.Roles {
		roles = append(roles, m.Group+" → "+m.Role)
	}
	groupAttr := orNone(cfg.Groups.AttributeNames, "")
	if groupAttr == "" {
		groupAttr = "memberOf, groups or Entra's groups claim (the defaults)"
	}
	if cfg.Groups.Delimiter != "" {
		groupAttr += fmt.Sprintf(", values split on %q", cfg.Groups.Delimiter)
	}
	idpInit := "accepted (the IdP's portal tiles work)"
	if cfg.DisableIdPInitiated {
		idpInit = "refused: logins must start at the application"
	}
	sha1 := "refused"
	if cfg.AllowSHA1 {
		sha1 = "accepted (AllowSHA1)"
	}
	expired := "refused"
	if cfg.AllowExpiredCertificate {
		expired = "accepted (AllowExpiredCertificate)"
	}
	return []policyView{
		{"Signature", string(cfg.Signature) + " (which elements must be signed)"},
		{"SHA-1 signatures", sha1},
		{"Expired certificates", expired},
		{"email_verified", ev},
		{"Allowed email domains", orNone(cfg.AllowedEmailDomains, "any domain")},
		{"Allowed groups", orNone(cfg.Groups.AllowedGroups, "none set: everyone the IdP signs in")},
		{"Group attribute", groupAttr},
		{"Groups kept (filter)", orNone(cfg.Groups.Filter, "all")},
		{"Roles", orNone(roles, "none mapped")},
		{"IdP-initiated logins", idpInit},
		{"Clock skew", cfg.ClockSkew.String()},
		{"Maximum assertion age", cfg.MaxIssueDelay.String()},
		{"Maximum response size", fmt.Sprintf("%d bytes", cfg.MaxResponseBytes)},
	}
}

// matchingRefusals are the refusals of one request ID (exact match).
func matchingRefusals(list []Refusal, requestID string) []Refusal {
	var out []Refusal
	for _, r := range list {
		if r.RequestID == requestID {
			out = append(out, r)
		}
	}
	return out
}

func refusalViews(now time.Time, list []Refusal) []refusalView {
	out := make([]refusalView, 0, len(list))
	for _, r := range list {
		out = append(out, refusalView{
			Connection:   r.Connection,
			Link:         "?connection=" + queryEscape(r.Connection) + "&request_id=" + queryEscape(r.RequestID),
			Time:         formatTime(r.Time),
			Age:          ago(now.Sub(r.Time)),
			Code:         string(r.Code),
			RequestID:    r.RequestID,
			Message:      r.Message,
			Expected:     r.Expected,
			Actual:       r.Actual,
			Hint:         r.Hint,
			IdPInitiated: r.IdPInitiated,
			Test:         r.Test,
		})
	}
	return out
}

func queryEscape(s string) string { return url.QueryEscape(s) }

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// ago is a rounded past duration: "12 seconds ago", "3 hours ago".
func ago(d time.Duration) string {
	if d < 0 {
		return "in " + span(-d)
	}
	return span(d) + " ago"
}

// span is a duration in its largest whole unit.
func span(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	switch {
	case d < time.Minute:
		return unit(int64(d/time.Second), "second")
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	}
	return unit(int64(d/(24*time.Hour)), "day")
}
