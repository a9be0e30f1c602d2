package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samlgate/samlgate/saml/samlconfig"
)

// browserStack is Chromium, the demo IdP and a gateway built from a Config
// on httptest servers in front of the demo upstream: for the browser tests
// that need other host names or settings than the demo's (browserDemo).
type browserStack struct {
	browser            context.Context
	logs               *syncBuffer
	gwURL, idpURL, acs string
	idp                *demoIdP
	gwSrv, idpSrv      *httptest.Server
	upstream           *httptest.Server
	ctx                context.Context
	tls                bool
}

// newBrowserStack starts Chromium (with extra options) and reserves the
// servers: urls turns the gateway's and the IdP's ports into the URLs the
// browser uses (https ones make both servers TLS). Everything stops when
// the test ends, the browser first; the logs are printed if it failed.
func newBrowserStack(t *testing.T, urls func(gwPort, idpPort string) (gwURL, idpURL string), extra ...chromedp.ExecAllocatorOption) *browserStack {
	t.Helper()
	if testing.Short() {
		t.Skip("real-browser test skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	browser, stopBrowser := newBrowser(t, ctx, extra...)
	s := &browserStack{browser: browser, ctx: ctx, logs: &syncBuffer{}}
	s.upstream = httptest.NewServer(upstreamHandler())
	s.gwSrv, s.idpSrv = httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)
	port := func(srv *httptest.Server) string {
		_, p, _ := strings.Cut(srv.Listener.Addr().String(), "127.0.0.1:")
		return p
	}
	s.gwURL, s.idpURL = urls(port(s.gwSrv), port(s.idpSrv))
	s.tls = strings.HasPrefix(s.gwURL, "https:")
	s.acs = s.gwURL + callbackPath + "?connection=" + demoConnection
	t.Cleanup(func() {
		stopBrowser()
		s.gwSrv.Close()
		s.idpSrv.Close()
		s.upstream.Close()
		if t.Failed() {
			t.Logf("logs:\n%s", s.logs.Bytes())
		}
		cancel()
	})
	return s
}

// start starts the IdP, then the gateway: a Config with the demo
// connection to that IdP, changed by mod, its handler wrapped by wrap
// (either may be nil).
func (s *browserStack) start(t *testing.T, mod func(*Config), wrap func(http.Handler) http.Handler) {
	t.Helper()
	logger := newJSONLogger(s.logs)
	idp, err := newDemoIdP(s.idpURL, demoSPEntityID, s.acs, s.gwURL, logger)
	if err != nil {
		t.Fatal(err)
	}
	s.idp = idp
	s.idpSrv.Config.Handler = idp.handler()
	s.startServer(s.idpSrv)
	cfg := &Config{
		Upstream:        s.upstream.URL,
		PublicURL:       s.gwURL,
		SessionKeys:     []string{testKey32},
		InsecureCookies: !s.tls,
		Connections: []samlconfig.Connection{{
			Name:            demoConnection,
			SPEntityID:      demoSPEntityID,
			ACSURL:          s.acs,
			IdPEntityID:     s.idpURL + idpSSOPath,
			IdPSSOURL:       s.idpURL + idpSSOPath,
			IdPCertificates: []string{string(idp.idp.CertificatePEM())},
		}},
	}
	if mod != nil {
		mod(cfg)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	a, err := newApp(s.ctx, cfg, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.handler()
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	s.gwSrv.Config.Handler = h
	s.startServer(s.gwSrv)
}

func (s *browserStack) startServer(srv *httptest.Server) {
	if s.tls {
		srv.StartTLS()
		return
	}
	srv.Start()
}

// demoRoles is the demo's role mapping, for a stack's connection.
func demoRoles(cfg *Config) {
	cfg.Connections[0].Groups = samlconfig.Groups{Roles: []samlconfig.RoleMapping{
		{Group: "Engineering", Role: "developer"},
		{Group: "Admins", Role: "admin"},
	}}
}
