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
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
