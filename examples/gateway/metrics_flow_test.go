package main

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// TestMetricsFlowLabel: each login lands under its own flow; a setup
// assistant's test login never counts as a user's login.
func TestMetricsFlowLabel(t *testing.T) {
	tests := []struct {
		name string
		ev   gateway.LoginEvent
		flow string
		code string
	}{
		{"sp-initiated", gateway.LoginEvent{Connection: "acme"}, flowSP, "ok"},
		{"idp-initiated", gateway.LoginEvent{Connection: "acme", IdPInitiated: true}, flowIdP, "ok"},
		{"test login", gateway.LoginEvent{Connection: "acme", Test: true}, flowTest, "ok"},
		{"refused test login", gateway.LoginEvent{Connection: "acme", Test: true, IdPInitiated: true, Code: saml.CodeGroupNotAllowed}, flowTest, "group_not_allowed"},
		{"unknown connection", gateway.LoginEvent{Connection: "nope", IdPInitiated: true, Code: gateway.CodeUnknownConnection}, flowIdP, "unknown_connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMetrics([]string{"acme"})
			m.observe(tt.ev)
			conn := tt.ev.Connection
			if conn != "acme" {
				conn = "unknown"
			}
			if got := testutil.ToFloat64(m.logins.WithLabelValues(conn, tt.flow, tt.code)); got != 1 {
				t.Errorf("samlgate_logins_total{%s,%s,%s} = %v, want 1", conn, tt.flow, tt.code, got)
			}
			for _, other := range []string{flowSP, flowIdP, flowTest} {
				if other == tt.flow {
					continue
				}
				if got := testutil.ToFloat64(m.logins.WithLabelValues(conn, other, tt.code)); got != 0 {
					t.Errorf("samlgate_logins_total{%s,%s,%s} = %v, want 0", conn, other, tt.code, got)
				}
			}
		})
	}
}
