package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"
)

// selftest logs in through both flows against a running demo, checks the
// refusals and the metrics, and reports what it saw.
func selftest(ctx context.Context, d *demo, tr *http.Transport) (*selftestReport, error) {
	r := &selftestReport{GatewayURL: d.GatewayURL, IdPURL: d.IdPURL}
	aliceResponse, err := selftestIdPInitiated(ctx, d, tr, r)
	if err != nil {
		return r, err
	}
	if err := selftestSPInitiated(ctx, d, tr, r); err != nil {
		return r, err
	}
	if err := selftestRefusals(ctx, d, tr, r, aliceResponse); err != nil {
		return r, err
	}
	if err := selftestAnonymous(ctx, d, tr); err != nil {
		return r, err
	}
	return r, selftestMetrics(ctx, d, tr, r)
}

// selftestIdPInitiated: alice clicks her tile in the portal and reaches the
// upstream with her identity and teams. It returns the form that posted
// her response, for the replay check.
func selftestIdPInitiated(ctx context.Context, d *demo, tr *http.Transport, r *selftestReport) (*htmlForm, error) {
	alice, _ := findDemoUser("alice")
	wc := newWebClient(tr)
	p, submitted, err := idpInitiated(ctx, wc, d, "alice")
	if err != nil {
		return nil, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	if err := expectUpstreamPage(p, d, "/", alice.Email); err != nil {
		return nil, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	got, err := whoami(ctx, wc, d)
	if err != nil {
		return nil, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	if err := expectIdentity(got, alice, []string{"developer", "admin"}); err != nil {
		return nil, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	if err := expectTeams(got); err != nil {
		return nil, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	r.Flows = append(r.Flows, selftestFlow{Flow: "idp-initiated", User: "alice", Result: "logged in", Status: p.Status, UpstreamReceived: got})
	return submitted[len(submitted)-1], nil
}

// selftestSPInitiated: alice opens a protected URL first, signs in at the
// IdP and lands back on that URL.
func selftestSPInitiated(ctx context.Context, d *demo, tr *http.Transport, r *selftestReport) error {
	alice, _ := findDemoUser("alice")
	wc := newWebClient(tr)
	const deepLink = "/reports/q3?team=eng&view=full"
	p, err := spToIdP(ctx, wc, d, deepLink)
	if err != nil {
		return err
	}
	p, err = spAnswerAsAlice(ctx, wc, p)
	if err != nil {
		return err
	}
	if err := expectUpstreamPage(p, d, deepLink, alice.Email); err != nil {
		return fmt.Errorf("sp-initiated login of alice: %w", err)
	}
	got, err := whoami(ctx, wc, d)
	if err != nil {
		return fmt.Errorf("sp-initiated login of alice: %w", err)
	}
	if err := expectIdentity(got, alice, []string{"developer", "admin"}); err != nil {
		return fmt.Errorf("sp-initiated login of alice: %w", err)
	}
	r.Flows = append(r.Flows, selftestFlow{Flow: "sp-initiated", User: "alice", Result: "logged in, landed on " + deepLink, Status: p.Status, UpstreamReceived: got})
	return nil
}

// spToIdP opens deepLink without a session and follows the gateway to the
// IdP's SSO URL, checking that an AuthnRequest came along.
func spToIdP(ctx context.Context, wc *webClient, d *demo, deepLink string) (*page, error) {
	p, err := wc.get(ctx, d.GatewayURL+deepLink, nil)
	if err != nil {
		return nil, fmt.Errorf("sp-initiated: GET %s: %w", deepLink, err)
	}
	p, reqForms, err := wc.submitSAMLForms(ctx, p) // the gateway's AuthnRequest, if sent by POST
	if err != nil {
		return nil, fmt.Errorf("sp-initiated: sending the AuthnRequest: %w", err)
	}
	if p.URL.Host != mustHost(d.IdPURL) || p.URL.Path != idpSSOPath {
		return nil, fmt.Errorf("sp-initiated: GET %s did not lead to the IdP's SSO URL (forms submitted: %d): %s", deepLink, len(reqForms), p)
	}
	if len(reqForms) == 0 && p.URL.Query().Get("SAMLRequest") == "" {
		return nil, fmt.Errorf("sp-initiated: the IdP was reached without an AuthnRequest: %s", p.URL)
	}
	return p, nil
}

// spAnswerAsAlice chooses alice in the IdP's user chooser, checks that the
// response answers the AuthnRequest and carries the RelayState, and posts
// it to the ACS.
func spAnswerAsAlice(ctx context.Context, wc *webClient, p *page) (*page, error) {
	form, button, err := p.formWithButton("choose-alice")
	if err != nil {
		return nil, fmt.Errorf("sp-initiated: the IdP's user chooser: %w", err)
	}
	if form.Fields.Get("RelayState") == "" {
		return nil, errors.New("sp-initiated: the gateway sent no RelayState with its AuthnRequest")
	}
	p, err = wc.submit(ctx, form, button)
	if err != nil {
		return nil, fmt.Errorf("sp-initiated: choosing alice: %w", err)
	}
	respForm := p.samlForm()
	if respForm == nil {
		return nil, fmt.Errorf("sp-initiated: the IdP answered without a SAML form: %s", p)
	}
	if err := expectInResponseTo(respForm.Fields.Get("SAMLResponse")); err != nil {
		return nil, fmt.Errorf("sp-initiated: %w", err)
	}
	if respForm.Fields.Get("RelayState") == "" {
		return nil, errors.New("sp-initiated: the IdP's response form has no RelayState")
	}
	p, _, err = wc.submitSAMLForms(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("sp-initiated: posting the response to the ACS: %w", err)
	}
	return p, nil
}

// selftestRefusals: bob (group not allowed), carol (RequestDenied), and
// alice's first response posted again are each refused.
func selftestRefusals(ctx context.Context, d *demo, tr *http.Transport, r *selftestReport, aliceResponse *htmlForm) error {
	for _, user := range []string{"bob", "carol"} {
		wc := newWebClient(tr)
		p, _, err := idpInitiated(ctx, wc, d, user)
		if err != nil {
			return fmt.Errorf("idp-initiated login of %s: %w", user, err)
		}
		if err := expectRefused(ctx, wc, p, d); err != nil {
			return fmt.Errorf("idp-initiated login of %s: %w", user, err)
		}
		r.Flows = append(r.Flows, selftestFlow{Flow: "idp-initiated", User: user, Result: "refused", Status: p.Status})
	}
	wc := newWebClient(tr)
	p, err := wc.submit(ctx, aliceResponse, nil)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if err := expectRefused(ctx, wc, p, d); err != nil {
		return fmt.Errorf("replaying alice's response: %w", err)
	}
	r.Flows = append(r.Flows, selftestFlow{Flow: "replay", User: "alice", Result: "refused", Status: p.Status})
	return nil
}

// selftestAnonymous: without a session the upstream is out of reach, even
// with forged identity headers.
func selftestAnonymous(ctx context.Context, d *demo, tr *http.Transport) error {
	wc := newWebClient(tr)
	wc.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p, err := wc.get(ctx, d.GatewayURL+"/whoami.json", forgedHeaders())
	if err != nil {
		return err
	}
	if p.Status == http.StatusOK {
		return fmt.Errorf("an anonymous request with forged identity headers reached the upstream: %s", p)
	}
	return nil
}

// selftestMetrics: the metrics counted each outcome above under its code.
func selftestMetrics(ctx context.Context, d *demo, tr *http.Transport, r *selftestReport) error {
	var err error
	r.Logins, err = loginCounts(ctx, &http.Client{Transport: tr, Timeout: 10 * time.Second}, d.MetricsURL)
	if err != nil {
		return err
	}
	want := map[string]int{"ok": 2, "group_not_allowed": 1, "status_not_success": 1, "replayed": 1}
	if got := r.Logins[demoConnection]; !maps.Equal(got, want) {
		return fmt.Errorf("samlgate_logins_total{connection=%q} = %v, want %v", demoConnection, got, want)
	}
	return nil
}
