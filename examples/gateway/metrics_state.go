package main

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// The flow label of samlgate_logins_total.
const (
	flowSP  = "sp_initiated"
	flowIdP = "idp_initiated"
	// flowTest is a setup assistant's test login: counted apart, so that
	// an admin trying a connection does not move the users' figures.
	flowTest = "test"
)

// certificateCollectTimeout bounds reading a connection's certificates at
// scrape time (a CertificateSource may do I/O; the gateway's own are in
// memory).
const certificateCollectTimeout = 2 * time.Second

// newStateMetrics creates the metrics of the gateway's state and of its
// upstream, beside the login counters:
//
//	samlgate_upstream_duration_seconds{code}                 histogram
//	samlgate_idp_metadata_refresh_failures_total{connection} counter
//	samlgate_idp_metadata_age_seconds{connection}            gauge, at scrape
//	samlgate_idp_certificate_expiry_days{connection,fingerprint} gauge, at scrape
func (m *metrics) newStateMetrics() {
	m.upstream = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "samlgate_upstream_duration_seconds",
		Help: "Time from handing a request to the upstream to the end of its response, by status code " +
			`(code="101": the whole life of a WebSocket; 502: the upstream could not be reached).`,
		Buckets: prometheus.DefBuckets,
	}, []string{"code"})
	m.upstreamByCode = newCodeObservers(m.upstream)
	m.metadataFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "samlgate_idp_metadata_refresh_failures_total",
		Help: "Failed refreshes of a connection's idp_metadata_url; the last good copy stays in service (see samlgate_idp_metadata_age_seconds).",
	}, []string{"connection"})
	m.state = &stateCollector{
		certDays: prometheus.NewDesc("samlgate_idp_certificate_expiry_days",
			"Days until each trusted IdP signing certificate of a connection expires (negative: expired), by SHA-256 fingerprint; "+
				"for idp_metadata_url, the certificates of the last good copy. Alert on the largest per connection: a rotation lists the old and the new.",
			[]string{"connection", "fingerprint"}, nil),
		metadataAge: prometheus.NewDesc("samlgate_idp_metadata_age_seconds",
			"Seconds since the last good copy of a connection's idp_metadata_url was fetched or confirmed unchanged.",
			[]string{"connection"}, nil),
		certErrors: prometheus.NewDesc("samlgate_idp_certificate_read_errors",
			"1 when a connection's certificates could not be read at this scrape, else 0.",
			[]string{"connection"}, nil),
		fetchers: map[string]*saml.MetadataFetcher{},
		now:      time.Now,
	}
}

// instrumentUpstream observes next (the reverse proxy) in
// samlgate_upstream_duration_seconds: see metrics_upstream.go.
func (m *metrics) instrumentUpstream(next http.Handler) http.Handler {
	return m.upstreamByCode.instrument(next)
}

// metadataRefreshFailed is the saml.MetadataFetcher.OnRefreshError of the
// connection name.
func (m *metrics) metadataRefreshFailed(name string) func(error) {
	c := m.metadataFailures.WithLabelValues(name) // exported as 0 from the start
	return func(error) { c.Inc() }
}

// watchFetcher exports the age of f's last good copy as name's.
func (m *metrics) watchFetcher(name string, f *saml.MetadataFetcher) {
	m.state.mu.Lock()
	defer m.state.mu.Unlock()
	m.state.fetchers[name] = f
}

// watchGateway exports the certificates of the configured connections, as
// gw holds them at each scrape.
func (m *metrics) watchGateway(gw *gateway.Gateway) {
	names := make([]string, 0, len(m.known))
	for n := range m.known {
		names = append(names, n)
	}
	slices.Sort(names)
	m.state.mu.Lock()
	defer m.state.mu.Unlock()
	m.state.gw, m.state.names = gw, names
}

// stateCollector reads the certificates and metadata ages at scrape time,
// so that they are never stale and a rotation shows at the next scrape.
type stateCollector struct {
	certDays, metadataAge, certErrors *prometheus.Desc
	now                               func() time.Time

	mu       sync.Mutex
	gw       *gateway.Gateway
	names    []string
	fetchers map[string]*saml.MetadataFetcher
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.certDays
	ch <- c.metadataAge
	ch <- c.certErrors
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	gw, names := c.gw, c.names
	fetchers := make(map[string]*saml.MetadataFetcher, len(c.fetchers))
	for n, f := range c.fetchers {
		fetchers[n] = f
	}
	c.mu.Unlock()
	now := c.now()
	for name, f := range fetchers {
		if at := f.LastRefresh(); !at.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.metadataAge, prometheus.GaugeValue, now.Sub(at).Seconds(), name)
		}
	}
	if gw == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), certificateCollectTimeout)
	defer cancel()
	for _, name := range names {
		conn, ok := gw.Connection(name)
		if !ok {
			continue
		}
		certs, err := conn.Certificates(ctx)
		failed := 0.0
		if err != nil {
			failed = 1
		}
		ch <- prometheus.MustNewConstMetric(c.certErrors, prometheus.GaugeValue, failed, name)
		seen := map[string]bool{}
		for _, cert := range certs {
			fp := saml.Fingerprint(cert)
			if seen[fp] {
				continue // one series per certificate, listed twice or not
			}
			seen[fp] = true
			days := cert.NotAfter.Sub(now).Hours() / 24
			ch <- prometheus.MustNewConstMetric(c.certDays, prometheus.GaugeValue, days, name, fp)
		}
	}
}
