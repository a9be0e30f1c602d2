package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"
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
	lns, err := bindDemo(opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lns.close()
		}
	}()
	d := &demo{
		GatewayURL:  "http://" + lns.gateway.Addr().String(),
		IdPURL:      "http://" + lns.idp.Addr().String(),
		UpstreamURL: "http://" + lns.upstream.Addr().String(),
		MetricsURL:  "http://" + lns.admin.Addr().String() + "/metrics",
		group:       newServerGroup(logger),
		logger:      logger,
	}
	acsURL := d.GatewayURL + callbackPath + "?connection=" + demoConnection
	setupToken, tv, err := d.startIdPAndUpstream(lns, acsURL)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = d.group.shutdown(context.WithoutCancel(ctx), time.Second)
		}
	}()

	if d.Config, err = demoConfig(d, lns, acsURL, setupToken, opts.RedisURL); err != nil {
		return nil, err
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
	if err := d.startGateway(ctx, lns, tv, removeTeams); err != nil {
		return nil, err
	}
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
