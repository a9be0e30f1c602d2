package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its arguments and outputs, returning the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configPath = fs.String("config", "", "configuration file (YAML or JSON); without it, run the self-contained demo")
		selftest   = fs.Bool("selftest", false, "run the demo on free ports, log in through both flows, check refusals, print the result as JSON and exit (0 on success)")
		logLevel   = fs.String("log-level", "info", "log level: debug, info, warn or error (debug logs emails and groups)")
		opts       = defaultDemoOptions
	)
	fs.StringVar(&opts.GatewayAddr, "addr", opts.GatewayAddr, "demo: gateway listen address")
	fs.StringVar(&opts.IdPAddr, "idp-addr", opts.IdPAddr, "demo: test IdP listen address")
	fs.StringVar(&opts.UpstreamAddr, "upstream-addr", opts.UpstreamAddr, "demo: upstream app listen address")
	fs.StringVar(&opts.AdminAddr, "admin-addr", opts.AdminAddr, "demo: admin listen address (metrics, health, operator endpoints)")
	fs.StringVar(&opts.RedisURL, "redis", "", "Redis URL (redis:// or rediss://) for sessions, login state and replay markers shared by replicas; overrides redis_url (default: in memory)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage:\n  gateway                         run the demo (IdP, gateway, app on 127.0.0.1)\n  gateway -selftest               check the demo end to end\n  gateway -config gateway.yaml    run the gateway in front of an upstream\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "gateway: -log-level: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch {
	case *selftest:
		if *configPath != "" {
			fmt.Fprintln(stderr, "gateway: -selftest runs the demo; it takes no -config")
			return 2
		}
		err = runSelftest(ctx, stdout, logger)
	case *configPath != "":
		err = runConfig(ctx, *configPath, logger, nil, withRedis(opts.RedisURL))
	default:
		err = runDemo(ctx, opts, stdout, logger)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gateway: %v\n", err)
		return 1
	}
	return 0
}

// runConfig runs the gateway described by the file at path until ctx is
// done. started, if not nil, is called with the bound addresses once the
// servers accept connections.
func runConfig(ctx context.Context, path string, logger *slog.Logger, started func(gatewayAddr, adminAddr string), mods ...func(*Config) error) error {
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	for _, m := range mods {
		if err := m(cfg); err != nil {
			return err
		}
	}
	gwLn, err := listen("gateway", cfg.Listen, "")
	if err != nil {
		return fmt.Errorf("%w (listen in %s)", err, path)
	}
	adminLn, err := listen("admin listener", cfg.AdminListen, "")
	if err != nil {
		_ = gwLn.Close()
		return fmt.Errorf("%w (admin_listen in %s)", err, path)
	}
	a, err := newApp(ctx, cfg, logger, nil)
	if err != nil {
		_ = gwLn.Close()
		_ = adminLn.Close()
		return err
	}
	h, err := a.handler()
	if err != nil {
		_ = gwLn.Close()
		_ = adminLn.Close()
		return err
	}
	if cfg.InsecureCookies {
		logger.Warn("insecure_cookies is on: session cookies are sent over plain http; use only for a local demo")
	}
	a.run(ctx)
	proxies, err := cfg.trustedProxies()
	if err != nil { // validated at load: unreachable
		return err
	}
	g := newServerGroup(logger)
	g.start(&listener{name: "gateway", ln: limitPerIP(gwLn, cfg.maxConnsPerIP(), proxies, logger), srv: newHTTPServer(h, logger)})
	g.start(&listener{name: "admin", ln: adminLn, srv: newHTTPServer(a.adminHandler(), logger)})
	logger.Info("gateway started",
		"listen", gwLn.Addr().String(),
		"admin_listen", adminLn.Addr().String(),
		"public_url", cfg.PublicURL,
		"upstream", cfg.Upstream,
		"connections", len(cfg.Connections),
		"max_conns_per_ip", cfg.maxConnsPerIP(),
		"websockets", cfg.WebSockets,
		"forward_auth", cfg.ForwardAuth,
		"public_paths", len(cfg.PublicPaths))
	if started != nil {
		started(gwLn.Addr().String(), adminLn.Addr().String())
	}
	return g.wait(ctx, shutdownTimeout)
}

// runDemo runs the demo until ctx is done.
func runDemo(ctx context.Context, opts demoOptions, stdout io.Writer, logger *slog.Logger) error {
	d, err := startDemo(ctx, opts, logger)
	if err != nil {
		return err
	}
	d.printBanner(stdout)
	return d.wait(ctx)
}
