package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/samlgate/samlgate/saml/samlconfig"
)

// demoOptions are the demo's listen addresses.
type demoOptions struct {
	GatewayAddr  string
	IdPAddr      string
	UpstreamAddr string
	AdminAddr    string
	RedisURL     string // -redis: Redis instead of memory
}

// The demo's default addresses.
var defaultDemoOptions = demoOptions{
	GatewayAddr:  "127.0.0.1:8080",
	IdPAddr:      "127.0.0.1:8081",
	UpstreamAddr: "127.0.0.1:8082",
	AdminAddr:    "127.0.0.1:9090",
}

// freeDemoOptions binds every part of the demo to a free port.
var freeDemoOptions = demoOptions{
	GatewayAddr:  "127.0.0.1:0",
	IdPAddr:      "127.0.0.1:0",
	UpstreamAddr: "127.0.0.1:0",
	AdminAddr:    "127.0.0.1:0",
}

// The demo connection, as an admin would set up the JumpCloud app.
const (
	demoConnection = "demo"
	demoSPEntityID = "urn:samlgate:demo"
)

// demo is the running demo: the IdP, the gateway (from a Config, exactly as
// a configuration file would build it) and the upstream.
type demo struct {
	GatewayURL, IdPURL, UpstreamURL, MetricsURL string
	Config                                      *Config
	app                                         *app
	idp                                         *demoIdP
	group                                       *serverGroup
	logger                                      *slog.Logger
	stopBackground                              context.CancelFunc

	// SetupURL is the setup assistant, its token as the password.
	SetupURL string
}

// startDemo binds every listener (failing clearly if a port is taken),
// starts the IdP and the upstream, builds the gateway, which fetches the
// IdP's metadata over HTTP as it would JumpCloud's, and starts it. Stop it
// with wait (after cancelling ctx) or shutdown.
func startDemo(ctx context.Context, opts demoOptions, logger *slog.Logger) (_ *demo, err error) {
	type bind struct {
		name, addr, flag string
		ln               net.Listener
	}
	binds := []*bind{
		{name: "gateway", addr: opts.GatewayAddr, flag: "addr"},
		{name: "demo IdP", addr: opts.IdPAddr, flag: "idp-addr"},
		{name: "upstream app", addr: opts.UpstreamAddr, flag: "upstream-addr"},
		{name: "admin listener", addr: opts.AdminAddr, flag: "admin-addr"},
	}
	defer func() {
		if err != nil {
			for _, b := range binds {
				if b.ln != nil {
					_ = b.ln.Close()
				}
			}
		}
	}()
	for _, b := range binds {
		if err := requireLoopback(b.addr); err != nil {
			return nil, fmt.Errorf("-%s: %w", b.flag, err)
		}
		if b.ln, err = listen(b.name, b.addr, b.flag); err != nil {
			return nil, err
		}
	}
	gwLn, idpLn, upLn, adminLn := binds[0].ln, binds[1].ln, binds[2].ln, binds[3].ln

	d := &demo{
		GatewayURL:  "http://" + gwLn.Addr().String(),
		IdPURL:      "http://" + idpLn.Addr().String(),
		UpstreamURL: "http://" + upLn.Addr().String(),
		MetricsURL:  "http://" + adminLn.Addr().String() + "/metrics",
		group:       newServerGroup(logger),
		logger:      logger,
	}
	acsURL := d.GatewayURL + callbackPath + "?connection=" + demoConnection

	d.idp, err = newDemoIdP(d.IdPURL, demoSPEntityID, acsURL, d.GatewayURL, logger.With("component", "idp"))
	if err != nil {
		return nil, err
	}
	setupToken := demoSetupToken()
	d.SetupURL = "http://admin:" + setupToken + "@" + adminLn.Addr().String() + setupPath + "?connection=" + demoConnection
	d.idp.setupURL = d.SetupURL
	d.group.start(&listener{name: "idp", ln: idpLn, srv: newHTTPServer(d.idp.handler(), logger)})
	tv := &teamsView{}
	d.group.start(&listener{name: "upstream", ln: upLn, srv: newHTTPServer(upstreamTeamsHandler(tv), logger)})
	defer func() {
		if err != nil {
			_ = d.group.shutdown(context.WithoutCancel(ctx), time.Second)
		}
	}()

	key := make([]byte, sessionKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// The same document a gateway.yaml would hold.
	d.Config = &Config{
		Listen:          gwLn.Addr().String(),
		AdminListen:     adminLn.Addr().String(),
		Upstream:        d.UpstreamURL,
		PublicURL:       d.GatewayURL,
		SessionKeys:     []string{base64.StdEncoding.EncodeToString(key)},
		SessionLifetime: samlconfig.Duration(8 * time.Hour),
		// A fresh token per run, printed in the banner.
		SetupToken:      setupToken,
		DefaultReturnTo: "/",
		// http on 127.0.0.1: browsers would drop Secure cookies.
		InsecureCookies: true,
		RedisURL:        opts.RedisURL,
		// The demo lists its connection at /login (a real multi-tenant
		// gateway would not show its tenants to anyone).
		ConnectionChooser: true,
		// The pages say "You are signed out of samlgate demo. You may
		// still be signed in to JumpCloud."
		AppName: "samlgate demo",
		Connections: []samlconfig.Connection{{
			Name:           demoConnection,
			SPEntityID:     demoSPEntityID,
			ACSURL:         acsURL,
			IdPMetadataURL: d.IdPURL + idpMetadataPath,
			IdP:            "jumpcloud", // the demo IdP plays JumpCloud
			Groups: samlconfig.Groups{
				Allowed: []string{"Engineering"},
				Roles: []samlconfig.RoleMapping{
					{Group: "Engineering", Role: "developer"},
					{Group: "Admins", Role: "admin"},
				},
			},
		}},
	}
	removeTeams, err := setupDemoTeams(d.Config)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			removeTeams()
		}
	}()
	if err := d.Config.validate(); err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	d.app, err = newApp(ctx, d.Config, logger, nil)
	if err != nil {
		return nil, err
	}
	tv.attach(d.app.teams)
	h, err := d.app.handler()
	if err != nil {
		return nil, err
	}
	bgCtx, cancel := context.WithCancel(ctx)
	d.stopBackground = func() { cancel(); d.app.closeTeams(); removeTeams() }
	d.app.run(bgCtx)
	proxies, err := d.Config.trustedProxies()
	if err != nil { // validated at load: unreachable
		return nil, err
	}
	d.group.start(&listener{name: "gateway", ln: limitPerIP(gwLn, d.Config.maxConnsPerIP(), proxies, logger), srv: newHTTPServer(h, logger)})
	d.group.start(&listener{name: "admin", ln: adminLn, srv: newHTTPServer(d.app.adminHandler(), logger)})
	return d, nil
}

// wait serves until ctx is done, then shuts down gracefully.
func (d *demo) wait(ctx context.Context) error {
	defer d.stopBackground()
	return d.group.wait(ctx, shutdownTimeout)
}

// shutdown stops the demo now, giving in-flight requests up to 10 seconds
// (net/http waits up to 5 for a connection that was opened but has sent
// no request yet, such as a browser's preconnection).
func (d *demo) shutdown() error {
	// The servers first: the teams database closes with the background
	// work, after the last request.
	err := d.group.shutdown(context.Background(), 10*time.Second)
	d.stopBackground()
	return err
}

// printBanner says what to open.
func (d *demo) printBanner(w io.Writer) {
	fmt.Fprintf(w, `
samlgate demo: a JumpCloud-like IdP, the samlgate gateway, and an app behind it, all on 127.0.0.1.

  gateway (protects the app):   %[1]s/
  JumpCloud-like IdP portal:    %[2]s/
  upstream app (unprotected):   %[3]s/
  Prometheus metrics:           %[4]s
  Setup assistant (admin):      %[5]s

  SP-initiated login:  open %[1]s/ and choose alice (bob and carol are refused).
  IdP-initiated login: open %[2]s/ and click alice's app tile.
  Test login:          open the setup assistant and press "Test login": the identity, or why it is refused.

NOTE: insecure_cookies is on: the session cookie has no Secure flag, because this demo is plain
http on 127.0.0.1. Never run a real gateway that way: put it behind https and leave it off.
The demo IdP signs in whoever is chosen, with a key generated at start-up; it is not a real IdP.

Open %[1]s/ in your browser. Press Ctrl+C to stop.
`, d.GatewayURL, d.IdPURL, d.UpstreamURL, d.MetricsURL, d.SetupURL)
}

// demoSetupToken is a random setup token (32 hex characters).
func demoSetupToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// requireLoopback refuses a non-loopback listen address: the demo IdP signs
// anyone in, so it must not be reachable from the network.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if !isLoopbackHost(host) || host == "localhost" {
		return errors.New("the demo listens on 127.0.0.1 only (its IdP signs anyone in): give 127.0.0.1:PORT")
	}
	return nil
}
