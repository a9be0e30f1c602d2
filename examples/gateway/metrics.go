package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/samlgate/samlgate/saml/gateway"
)

// metrics are the gateway's Prometheus metrics, on a registry of their own
// (never the global one, so that tests and several gateways in one process
// do not collide).
type metrics struct {
	registry *prometheus.Registry
	logins   *prometheus.CounterVec
	verify   *prometheus.HistogramVec
	// upstream, metadataFailures and state: see metrics_state.go.
	upstream         *prometheus.HistogramVec
	upstreamByCode   *codeObservers
	metadataFailures *prometheus.CounterVec
	state            *stateCollector
	// storeErrors counts Redis failures (redis_url only; see redis.go).
	storeErrors *prometheus.CounterVec
	// known are the configured connection names. A login event for any
	// other name (a ?connection= value a client made up) is counted under
	// "unknown", so that clients cannot create label values at will.
	known map[string]bool
}

func newMetrics(connectionNames []string) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "samlgate_logins_total",
			Help: `SAML logins by connection, flow (sp_initiated, idp_initiated) and result code ("ok" for a login accepted, else the saml.Code that refused it).`,
		}, []string{"connection", "flow", "code"}),
		verify: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "samlgate_verify_duration_seconds",
			Help:    "Time spent verifying a SAMLResponse at the ACS, by connection.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"connection"}),
		known: map[string]bool{},
	}
	m.newStateMetrics()
	for _, n := range connectionNames {
		m.known[n] = true
		// Export zeroes from the start, so that rate() and alerts on
		// "no successful login" work before the first login.
		m.logins.WithLabelValues(n, flowSP, "ok")
		m.logins.WithLabelValues(n, flowIdP, "ok")
		m.verify.WithLabelValues(n)
	}
	m.registry.MustRegister(
		m.logins,
		m.verify,
		m.upstream,
		m.metadataFailures,
		m.state,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// observe is the gateway.Config.Observer.
func (m *metrics) observe(ev gateway.LoginEvent) {
	conn := ev.Connection
	if !m.known[conn] {
		conn = "unknown"
	}
	code := string(ev.Code)
	if code == "" {
		code = "ok"
	}
	flow := flowSP
	switch {
	case ev.Test:
		flow = flowTest
	case ev.IdPInitiated:
		flow = flowIdP
	}
	m.logins.WithLabelValues(conn, flow, code).Inc()
	m.verify.WithLabelValues(conn).Observe(ev.Duration.Seconds())
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
