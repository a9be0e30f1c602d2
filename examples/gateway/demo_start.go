package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"time"

	"github.com/samlgate/samlgate/saml/samlconfig"
)

// demoListeners are the demo's four bound listeners.
type demoListeners struct {
	gateway, idp, upstream, admin net.Listener
}

// close closes the listeners bound so far, when the demo fails to start.
func (l *demoListeners) close() {
	for _, ln := range []net.Listener{l.gateway, l.idp, l.upstream, l.admin} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// bindDemo binds every listener on loopback before anything starts, so a
// port already taken fails the demo with the flag to change; on error it
// closes what it bound.
func bindDemo(opts demoOptions) (_ *demoListeners, err error) {
	l := &demoListeners{}
	binds := []struct {
		name, addr, flag string
		ln               *net.Listener
	}{
		{name: "gateway", addr: opts.GatewayAddr, flag: "addr", ln: &l.gateway},
		{name: "demo IdP", addr: opts.IdPAddr, flag: "idp-addr", ln: &l.idp},
		{name: "upstream app", addr: opts.UpstreamAddr, flag: "upstream-addr", ln: &l.upstream},
		{name: "admin listener", addr: opts.AdminAddr, flag: "admin-addr", ln: &l.admin},
	}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	for _, b := range binds {
		if err := requireLoopback(b.addr); err != nil {
			return nil, fmt.Errorf("-%s: %w", b.flag, err)
		}
		if *b.ln, err = listen(b.name, b.addr, b.flag); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// startIdPAndUpstream starts the demo IdP (which links to the setup
// assistant, so it makes the setup token) and the upstream app, whose teams
// view is attached to the gateway's teams once the app exists.
func (d *demo) startIdPAndUpstream(lns *demoListeners, acsURL string) (setupToken string, tv *teamsView, err error) {
	d.idp, err = newDemoIdP(d.IdPURL, demoSPEntityID, acsURL, d.GatewayURL, d.logger.With("component", "idp"))
	if err != nil {
		return "", nil, err
	}
	setupToken = demoSetupToken()
	d.SetupURL = "http://admin:" + setupToken + "@" + lns.admin.Addr().String() + setupPath + "?connection=" + demoConnection
	d.idp.setupURL = d.SetupURL
	d.group.start(&listener{name: "idp", ln: lns.idp, srv: newHTTPServer(d.idp.handler(), d.logger)})
	tv = &teamsView{}
	d.group.start(&listener{name: "upstream", ln: lns.upstream, srv: newHTTPServer(upstreamTeamsHandler(tv), d.logger)})
	return setupToken, tv, nil
}

// demoConfig is the gateway's configuration for the demo: the same
// document a gateway.yaml would hold, with a fresh session key.
func demoConfig(d *demo, lns *demoListeners, acsURL, setupToken, redisURL string) (*Config, error) {
	key := make([]byte, sessionKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return &Config{
		Listen:          lns.gateway.Addr().String(),
		AdminListen:     lns.admin.Addr().String(),
		Upstream:        d.UpstreamURL,
		PublicURL:       d.GatewayURL,
		SessionKeys:     []string{base64.StdEncoding.EncodeToString(key)},
		SessionLifetime: samlconfig.Duration(8 * time.Hour),
		// A fresh token per run, printed in the banner.
		SetupToken:      setupToken,
		DefaultReturnTo: "/",
		// http on 127.0.0.1: browsers would drop Secure cookies.
		InsecureCookies: true,
		RedisURL:        redisURL,
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
	}, nil
}

// startGateway builds the gateway from d.Config, starts its background work
// (stopped, with the teams database, by d.stopBackground) and serves the
// gateway and admin listeners.
func (d *demo) startGateway(ctx context.Context, lns *demoListeners, tv *teamsView, removeTeams func()) error {
	var err error
	d.app, err = newApp(ctx, d.Config, d.logger, nil)
	if err != nil {
		return err
	}
	tv.attach(d.app.teams)
	h, err := d.app.handler()
	if err != nil {
		return err
	}
	bgCtx, cancel := context.WithCancel(ctx)
	d.stopBackground = func() { cancel(); d.app.closeTeams(); removeTeams() }
	d.app.run(bgCtx)
	proxies, err := d.Config.trustedProxies()
	if err != nil { // validated at load: unreachable
		return err
	}
	d.group.start(&listener{name: "gateway", ln: limitPerIP(lns.gateway, d.Config.maxConnsPerIP(), proxies, d.logger), srv: newHTTPServer(h, d.logger)})
	d.group.start(&listener{name: "admin", ln: lns.admin, srv: newHTTPServer(d.app.adminHandler(), d.logger)})
	return nil
}
