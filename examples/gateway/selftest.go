package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// selftestFlow is the outcome of one flow of the selftest.
type selftestFlow struct {
	Flow   string `json:"flow"`
	User   string `json:"user"`
	Result string `json:"result"`
	// Status is the HTTP status of the gateway's answer to the response.
	Status int `json:"status,omitempty"`
	// UpstreamReceived is what the upstream read from the identity
	// headers (on a request that also carried forged copies).
	UpstreamReceived *receivedIdentity `json:"upstream_received,omitempty"`
}

// selftestReport is what -selftest prints.
type selftestReport struct {
	OK         bool                      `json:"ok"`
	Error      string                    `json:"error,omitempty"`
	GatewayURL string                    `json:"gateway_url"`
	IdPURL     string                    `json:"idp_url"`
	Flows      []selftestFlow            `json:"flows"`
	Logins     map[string]map[string]int `json:"samlgate_logins_total"`
}

// runSelftest starts the demo on free ports, runs the selftest, prints the
// report as JSON to out, and returns an error if any check failed.
func runSelftest(ctx context.Context, out io.Writer, logger *slog.Logger) error {
	d, err := startDemo(ctx, freeDemoOptions, logger)
	if err != nil {
		return err
	}
	// One transport for every client of the selftest, closed before the
	// shutdown: a connection it dialed but never used would look like a
	// request about to arrive, and hold up the servers' graceful shutdown.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	report, runErr := selftest(ctx, d, tr)
	tr.CloseIdleConnections()
	if err := d.shutdown(); err != nil && runErr == nil {
		runErr = err
	}
	report.OK = runErr == nil
	if runErr != nil {
		report.Error = runErr.Error()
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(report); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("selftest failed: %w", runErr)
	}
	return nil
}

// selftest logs in through both flows against a running demo, checks the
// refusals and the metrics, and reports what it saw.
func selftest(ctx context.Context, d *demo, tr *http.Transport) (*selftestReport, error) {
	r := &selftestReport{GatewayURL: d.GatewayURL, IdPURL: d.IdPURL}
	alice, _ := findDemoUser("alice")

	// 1. IdP-initiated: alice clicks her tile in the portal.
	wc := newWebClient(tr)
	p, submitted, err := idpInitiated(ctx, wc, d, "alice")
	if err != nil {
		return r, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	if err := expectUpstreamPage(p, d, "/", alice.Email); err != nil {
		return r, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	got, err := whoami(ctx, wc, d)
	if err != nil {
		return r, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	if err := expectIdentity(got, alice, []string{"developer", "admin"}); err != nil {
		return r, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	if err := expectTeams(got); err != nil {
		return r, fmt.Errorf("idp-initiated login of alice: %w", err)
	}
	r.Flows = append(r.Flows, selftestFlow{Flow: "idp-initiated", User: "alice", Result: "logged in", Status: p.Status, UpstreamReceived: got})
	aliceResponse := submitted[len(submitted)-1]

	// 2. SP-initiated: alice opens a protected URL first.
	wc = newWebClient(tr)
	const deepLink = "/reports/q3?team=eng&view=full"
	p, err = wc.get(ctx, d.GatewayURL+deepLink, nil)
	if err != nil {
		return r, fmt.Errorf("sp-initiated: GET %s: %w", deepLink, err)
	}
	p, reqForms, err := wc.submitSAMLForms(ctx, p) // the gateway's AuthnRequest, if sent by POST
	if err != nil {
		return r, fmt.Errorf("sp-initiated: sending the AuthnRequest: %w", err)
	}
	if p.URL.Host != mustHost(d.IdPURL) || p.URL.Path != idpSSOPath {
		return r, fmt.Errorf("sp-initiated: GET %s did not lead to the IdP's SSO URL (forms submitted: %d): %s", deepLink, len(reqForms), p)
	}
	if len(reqForms) == 0 && p.URL.Query().Get("SAMLRequest") == "" {
		return r, fmt.Errorf("sp-initiated: the IdP was reached without an AuthnRequest: %s", p.URL)
	}
	form, button, err := p.formWithButton("choose-alice")
	if err != nil {
		return r, fmt.Errorf("sp-initiated: the IdP's user chooser: %w", err)
	}
	if form.Fields.Get("RelayState") == "" {
		return r, errors.New("sp-initiated: the gateway sent no RelayState with its AuthnRequest")
	}
	p, err = wc.submit(ctx, form, button)
	if err != nil {
		return r, fmt.Errorf("sp-initiated: choosing alice: %w", err)
	}
	respForm := p.samlForm()
	if respForm == nil {
		return r, fmt.Errorf("sp-initiated: the IdP answered without a SAML form: %s", p)
	}
	if err := expectInResponseTo(respForm.Fields.Get("SAMLResponse")); err != nil {
		return r, fmt.Errorf("sp-initiated: %w", err)
	}
	if respForm.Fields.Get("RelayState") == "" {
		return r, errors.New("sp-initiated: the IdP's response form has no RelayState")
	}
	p, _, err = wc.submitSAMLForms(ctx, p)
	if err != nil {
		return r, fmt.Errorf("sp-initiated: posting the response to the ACS: %w", err)
	}
	if err := expectUpstreamPage(p, d, deepLink, alice.Email); err != nil {
		return r, fmt.Errorf("sp-initiated login of alice: %w", err)
	}
	got, err = whoami(ctx, wc, d)
	if err != nil {
		return r, fmt.Errorf("sp-initiated login of alice: %w", err)
	}
	if err := expectIdentity(got, alice, []string{"developer", "admin"}); err != nil {
		return r, fmt.Errorf("sp-initiated login of alice: %w", err)
	}
	r.Flows = append(r.Flows, selftestFlow{Flow: "sp-initiated", User: "alice", Result: "logged in, landed on " + deepLink, Status: p.Status, UpstreamReceived: got})

	// 3. Refusals: bob (group not allowed), carol (RequestDenied), and
	// alice's first response posted again.
	for _, user := range []string{"bob", "carol"} {
		wc = newWebClient(tr)
		p, _, err := idpInitiated(ctx, wc, d, user)
		if err != nil {
			return r, fmt.Errorf("idp-initiated login of %s: %w", user, err)
		}
		if err := expectRefused(ctx, wc, p, d); err != nil {
			return r, fmt.Errorf("idp-initiated login of %s: %w", user, err)
		}
		r.Flows = append(r.Flows, selftestFlow{Flow: "idp-initiated", User: user, Result: "refused", Status: p.Status})
	}
	wc = newWebClient(tr)
	p, err = wc.submit(ctx, aliceResponse, nil)
	if err != nil {
		return r, fmt.Errorf("replay: %w", err)
	}
	if err := expectRefused(ctx, wc, p, d); err != nil {
		return r, fmt.Errorf("replaying alice's response: %w", err)
	}
	r.Flows = append(r.Flows, selftestFlow{Flow: "replay", User: "alice", Result: "refused", Status: p.Status})

	// 4. Without a session the upstream is out of reach.
	wc = newWebClient(tr)
	wc.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p, err = wc.get(ctx, d.GatewayURL+"/whoami.json", forgedHeaders())
	if err != nil {
		return r, err
	}
	if p.Status == http.StatusOK {
		return r, fmt.Errorf("an anonymous request with forged identity headers reached the upstream: %s", p)
	}

	// 5. The metrics counted each outcome under its code.
	r.Logins, err = loginCounts(ctx, &http.Client{Transport: tr, Timeout: 10 * time.Second}, d.MetricsURL)
	if err != nil {
		return r, err
	}
	want := map[string]int{"ok": 2, "group_not_allowed": 1, "status_not_success": 1, "replayed": 1}
	if got := r.Logins[demoConnection]; !maps.Equal(got, want) {
		return r, fmt.Errorf("samlgate_logins_total{connection=%q} = %v, want %v", demoConnection, got, want)
	}
	return r, nil
}

// idpInitiated clicks user's tile in the portal and submits the IdP's form
// to the ACS. It returns the page the gateway answered with (after
// redirects) and the SAML forms submitted.
func idpInitiated(ctx context.Context, wc *webClient, d *demo, user string) (*page, []*htmlForm, error) {
	portal, err := wc.get(ctx, d.IdPURL+"/", nil)
	if err != nil {
		return nil, nil, err
	}
	tile, err := portal.hrefByID("tile-" + user)
	if err != nil {
		return nil, nil, err
	}
	p, err := wc.get(ctx, tile, nil)
	if err != nil {
		return nil, nil, err
	}
	p, forms, err := wc.submitSAMLForms(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	if len(forms) != 1 {
		return nil, nil, fmt.Errorf("the tile led to %d SAML forms, want 1", len(forms))
	}
	return p, forms, nil
}

// forgedHeaders are identity headers a client tries to slip past the
// gateway, in several spellings.
func forgedHeaders() http.Header {
	return http.Header{
		"X-Forwarded-User":       {"mallory@evil.example"},
		"x-forwarded-email":      {"mallory@evil.example"},
		"X_Forwarded_Groups":     {"Admins"},
		"X-Forwarded-Roles":      {"admin"},
		"X-Forwarded-User-Id":    {"mallory"},
		"X-Forwarded-Connection": {"mallory-tenant"},
	}
}

// whoami fetches the upstream's view of the identity through the gateway,
// sending forged identity headers that the gateway must replace.
func whoami(ctx context.Context, wc *webClient, d *demo) (*receivedIdentity, error) {
	p, err := wc.get(ctx, d.GatewayURL+"/whoami.json", forgedHeaders())
	if err != nil {
		return nil, err
	}
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") {
		return nil, fmt.Errorf("GET /whoami.json through the gateway: %s", p)
	}
	var id receivedIdentity
	if err := json.Unmarshal(p.Body, &id); err != nil {
		return nil, fmt.Errorf("GET /whoami.json: %w", err)
	}
	return &id, nil
}

func expectUpstreamPage(p *page, d *demo, wantPath, email string) error {
	if p.Status != http.StatusOK {
		return fmt.Errorf("the gateway answered %s", p)
	}
	if p.URL.Host != mustHost(d.GatewayURL) || p.URL.RequestURI() != wantPath {
		return fmt.Errorf("landed on %s, want %s%s", p.URL, d.GatewayURL, wantPath)
	}
	if !bytes.Contains(p.Body, []byte("Hello "+email)) {
		return fmt.Errorf("the upstream page does not greet %s: %s", email, p)
	}
	return nil
}

func expectIdentity(got *receivedIdentity, u demoUser, roles []string) error {
	if got.User != u.Email || got.Email != u.Email {
		return fmt.Errorf("upstream received user %q, email %q; want %q", got.User, got.Email, u.Email)
	}
	if !slices.Equal(got.Groups, u.Groups) {
		return fmt.Errorf("upstream received groups %q, want %q", got.Groups, u.Groups)
	}
	if !slices.Equal(got.Roles, roles) {
		return fmt.Errorf("upstream received roles %q, want %q", got.Roles, roles)
	}
	if got.Connection != demoConnection {
		return fmt.Errorf("upstream received connection %q, want %q", got.Connection, demoConnection)
	}
	for name, vals := range got.ForwardedHeaders {
		for _, v := range vals {
			if strings.Contains(v, "mallory") || (isIdentityHeader(name) && !slices.Contains(identityHeaders, name)) {
				return fmt.Errorf("a forged header reached the upstream: %s: %s", name, v)
			}
		}
	}
	if raw := got.ForwardedHeaders[HeaderGroups]; len(raw) != 1 || raw[0] != strings.Join(u.Groups, ",") {
		return fmt.Errorf("raw %s is %q, want one header %q", HeaderGroups, raw, strings.Join(u.Groups, ","))
	}
	return nil
}

// expectRefused checks that the gateway refused a response: no 2xx page
// from the upstream, and no session afterwards.
func expectRefused(ctx context.Context, wc *webClient, p *page, d *demo) error {
	if p.Status < 400 || bytes.Contains(p.Body, []byte("Hello ")) {
		return fmt.Errorf("the gateway did not refuse the response: %s", p)
	}
	wc.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { wc.c.CheckRedirect = nil }()
	after, err := wc.get(ctx, d.GatewayURL+"/whoami.json", nil)
	if err != nil {
		return err
	}
	if after.Status == http.StatusOK {
		return fmt.Errorf("refused, yet a session was created: %s", after)
	}
	return nil
}

var inResponseToRE = regexp.MustCompile(`<saml2p:Response [^>]*InResponseTo="([^"]+)"`)

// expectInResponseTo checks that an SP-initiated response answers a request.
func expectInResponseTo(samlResponse string) error {
	xml, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil {
		return fmt.Errorf("SAMLResponse is not base64: %w", err)
	}
	if !inResponseToRE.Match(xml) {
		return errors.New("the IdP's response has no InResponseTo: it did not answer the gateway's AuthnRequest")
	}
	return nil
}

var metricLineRE = regexp.MustCompile(`^samlgate_logins_total\{([^}]*)\} (\S+)$`)
var labelRE = regexp.MustCompile(`(\w+)="([^"]*)"`)

// loginCounts reads samlgate_logins_total from the metrics endpoint:
// connection -> code -> count (both flows).
func loginCounts(ctx context.Context, client *http.Client, metricsURL string) (map[string]map[string]int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", metricsURL, resp.Status)
	}
	return parseLoginCounts(resp.Body)
}

func parseLoginCounts(r io.Reader) (map[string]map[string]int, error) {
	out := map[string]map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := metricLineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		labels := map[string]string{}
		for _, l := range labelRE.FindAllStringSubmatch(m[1], -1) {
			labels[l[1]] = l[2]
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, err
		}
		if out[labels["connection"]] == nil {
			out[labels["connection"]] = map[string]int{}
		}
		out[labels["connection"]][labels["code"]] += int(v) // summed over flows
	}
	return out, sc.Err()
}

func mustHost(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}
