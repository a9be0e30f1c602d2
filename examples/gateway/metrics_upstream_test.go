package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/samlgate/samlgate/saml/samltest"
)

// upstreamCounts is samlgate_upstream_duration_seconds' sample count by
// code.
func upstreamCounts(t *testing.T, a *app) map[string]uint64 {
	t.Helper()
	fams, err := a.metrics.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "samlgate_upstream_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			out[codeLabel(m)] += m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

func codeLabel(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "code" {
			return l.GetValue()
		}
	}
	return ""
}

// TestUpstreamDurationByCode: each proxied request is observed once,
// under the status code the client received: the upstream's, the final
// one after an informational 103, 200 for an answer that writes nothing,
// 502 when the upstream cannot be reached, 101 for a WebSocket (once it
// closes).
func TestUpstreamDurationByCode(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/nothing":
		case "/early":
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	defer up.Close()
	e := newTestEnv(t, func(c *Config) { c.Upstream = up.URL })
	gw := httptest.NewServer(e.handler)
	defer gw.Close()
	cookies := e.login(t, samltest.Response{})
	for path, want := range map[string]int{"/": 200, "/missing": 404, "/nothing": 200, "/early": 201} {
		req, _ := http.NewRequest(http.MethodGet, gw.URL+path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := gw.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, res.StatusCode, want)
		}
	}
	if got, want := upstreamCounts(t, e.app), map[string]uint64{"200": 2, "404": 1, "201": 1}; !equalCounts(got, want) {
		t.Errorf("by code %v, want %v", got, want)
	}

	down := newTestEnv(t, func(c *Config) { c.Upstream = "http://127.0.0.1:1" })
	if rec := down.get("/", down.login(t, samltest.Response{}), nil); rec.Code != http.StatusBadGateway {
		t.Errorf("upstream down: status %d", rec.Code)
	}
	if got := upstreamCounts(t, down.app); !equalCounts(got, map[string]uint64{"502": 1}) {
		t.Errorf("upstream down: by code %v", got)
	}

	wsUp := newUpgradeUpstream(t)
	ws := newTestEnv(t, func(c *Config) { c.Upstream = wsUp.srv.URL; c.WebSockets = true })
	wsGW := httptest.NewServer(ws.handler)
	defer wsGW.Close()
	res, _, conn := rawRequest(t, wsGW.Listener.Addr().String(), "/ws",
		http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Origin": {testPublicURL}}, ws.login(t, samltest.Response{}))
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("WebSocket: status %d", res.StatusCode)
	}
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !equalCounts(upstreamCounts(t, ws.app), map[string]uint64{"101": 1}) {
		if time.Now().After(deadline) {
			t.Fatalf("WebSocket closed: by code %v, want 101: 1", upstreamCounts(t, ws.app))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func equalCounts(got, want map[string]uint64) bool {
	for k, v := range got {
		if v != want[k] {
			return false
		}
	}
	return len(got) == len(want)
}
