package main

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samlconfig"
)

// scrapeFamilies GETs url (a /metrics endpoint) and parses the text format.
func scrapeFamilies(t *testing.T, client *http.Client, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// series returns the metrics of family name whose labels include want.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range f.GetMetric() {
		ok := true
		for k, v := range want {
			if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == k && l.GetValue() == v }) {
				ok = false
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func labelNames(m *dto.Metric) []string {
	var names []string
	for _, l := range m.GetLabel() {
		names = append(names, l.GetName())
	}
	slices.Sort(names)
	return names
}

// TestMetricsAfterLogins runs the selftest's logins (both flows, three
// refusals, upstream requests) against the demo, then scrapes the admin
// listener's /metrics over HTTP and checks each series and its labels.
func TestMetricsAfterLogins(t *testing.T) {
	d, err := startDemo(t.Context(), freeDemoOptions, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if err := d.shutdown(); err != nil {
			t.Error(err)
		}
	})
	if _, err := selftest(t.Context(), d, tr); err != nil {
		t.Fatal(err)
	}
	fams := scrapeFamilies(t, &http.Client{Transport: tr, Timeout: 10 * time.Second}, d.MetricsURL)

	// Logins by connection, flow and code.
	for _, tc := range []struct {
		flow, code string
		want       float64
	}{
		{flowIdP, "ok", 1},
		{flowSP, "ok", 1},
		{flowIdP, "group_not_allowed", 1},
		{flowIdP, "status_not_success", 1},
		{flowIdP, "replayed", 1},
	} {
		s := series(fams, "samlgate_logins_total", map[string]string{"connection": demoConnection, "flow": tc.flow, "code": tc.code})
		if len(s) != 1 || s[0].GetCounter().GetValue() != tc.want {
			t.Errorf("samlgate_logins_total{flow=%q,code=%q} = %v, want %v", tc.flow, tc.code, s, tc.want)
		}
	}
	for _, m := range fams["samlgate_logins_total"].GetMetric() {
		if got := labelNames(m); !slices.Equal(got, []string{"code", "connection", "flow"}) {
			t.Errorf("samlgate_logins_total labels %v", got)
		}
	}

	// The demo IdP's certificate: one series, by fingerprint, about a year.
	certs, err := saml.ParseCertificatesPEM(d.idp.idp.CertificatePEM())
	if err != nil || len(certs) != 1 {
		t.Fatalf("demo IdP certificate: %v", err)
	}
	s := series(fams, "samlgate_idp_certificate_expiry_days", map[string]string{"connection": demoConnection})
	if len(s) != 1 {
		t.Fatalf("samlgate_idp_certificate_expiry_days: %d series, want 1", len(s))
	}
	wantDays := time.Until(certs[0].NotAfter).Hours() / 24
	if got := s[0].GetGauge().GetValue(); math.Abs(got-wantDays) > 0.1 {
		t.Errorf("expiry days = %v, want about %v", got, wantDays)
	}
	if fp := series(fams, "samlgate_idp_certificate_expiry_days", map[string]string{"fingerprint": saml.Fingerprint(certs[0])}); len(fp) != 1 {
		t.Error("the certificate series is not labelled with its fingerprint")
	}
	if s := series(fams, "samlgate_idp_certificate_read_errors", map[string]string{"connection": demoConnection}); len(s) != 1 || s[0].GetGauge().GetValue() != 0 {
		t.Errorf("samlgate_idp_certificate_read_errors = %v", s)
	}

	// The demo fetches its IdP metadata: a fresh copy, no failure yet.
	if s := series(fams, "samlgate_idp_metadata_age_seconds", map[string]string{"connection": demoConnection}); len(s) != 1 || s[0].GetGauge().GetValue() < 0 || s[0].GetGauge().GetValue() > 300 {
		t.Errorf("samlgate_idp_metadata_age_seconds = %v", s)
	}
	if s := series(fams, "samlgate_idp_metadata_refresh_failures_total", map[string]string{"connection": demoConnection}); len(s) != 1 || s[0].GetCounter().GetValue() != 0 {
		t.Errorf("samlgate_idp_metadata_refresh_failures_total = %v", s)
	}

	// The upstream served the selftest's pages: a histogram by code.
	if f := fams["samlgate_upstream_duration_seconds"]; f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatal("no samlgate_upstream_duration_seconds histogram")
	}
	up := series(fams, "samlgate_upstream_duration_seconds", map[string]string{"code": "200"})
	if len(up) != 1 || up[0].GetHistogram().GetSampleCount() < 4 {
		t.Errorf("samlgate_upstream_duration_seconds{code=\"200\"} = %v, want at least the selftest's 4 upstream pages", up)
	}
	for _, m := range fams["samlgate_upstream_duration_seconds"].GetMetric() {
		if got := labelNames(m); !slices.Equal(got, []string{"code"}) {
			t.Errorf("samlgate_upstream_duration_seconds labels %v", got)
		}
	}
}

// TestMetadataRefreshFailureMetrics: a refresh that fails counts in
// samlgate_idp_metadata_refresh_failures_total, and the last good copy
// ages.
func TestMetadataRefreshFailureMetrics(t *testing.T) {
	idp := loadTestIdP(t)
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(idp.Metadata())
	}))
	defer srv.Close()
	cfg := &Config{
		Upstream:    "http://127.0.0.1:1",
		PublicURL:   testPublicURL,
		SessionKeys: []string{testKey32},
		Connections: []samlconfig.Connection{{Name: "test", SPEntityID: testSPEntity, IdPMetadataURL: srv.URL + "/md"}},
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	a, err := newApp(t.Context(), cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.fetchers) != 1 {
		t.Fatalf("%d fetchers", len(a.fetchers))
	}
	// metadata_refresh is at least a minute; the test does not wait that long.
	a.fetchers[0].Interval = 5 * time.Millisecond
	down.Store(true)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a.run(ctx)

	admin := httptest.NewServer(a.adminHandler())
	defer admin.Close()
	value := func(name string) (float64, bool) {
		fams := scrapeFamilies(t, admin.Client(), admin.URL+"/metrics")
		s := series(fams, name, map[string]string{"connection": "test"})
		if len(s) != 1 {
			return 0, false
		}
		if c := s[0].GetCounter(); c != nil {
			return c.GetValue(), true
		}
		return s[0].GetGauge().GetValue(), true
	}
	if !waitFor(t, 10*time.Second, func() bool { n, ok := value("samlgate_idp_metadata_refresh_failures_total"); return ok && n >= 2 }) {
		n, _ := value("samlgate_idp_metadata_refresh_failures_total")
		t.Fatalf("refresh failures = %v, want at least 2", n)
	}
	age1, ok := value("samlgate_idp_metadata_age_seconds")
	if !ok {
		t.Fatal("no samlgate_idp_metadata_age_seconds")
	}
	time.Sleep(20 * time.Millisecond)
	if age2, _ := value("samlgate_idp_metadata_age_seconds"); age2 <= age1 {
		t.Errorf("the metadata age did not grow while refreshes failed: %v then %v", age1, age2)
	}
	// The certificates are still those of the last good copy.
	if n, ok := value("samlgate_idp_certificate_expiry_days"); !ok || n <= 0 {
		t.Errorf("certificate expiry days while the metadata is down = %v, %v", n, ok)
	}
}
