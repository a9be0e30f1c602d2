package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Server timeouts. WriteTimeout bounds a whole proxied response: raise it
// for an upstream that streams.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 15 * time.Second
)

// newHTTPServer returns an http.Server with every timeout set: a server
// without ReadHeaderTimeout can be held open by a client that sends its
// headers one byte a minute (Slowloris).
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// listener is one server on one bound socket.
type listener struct {
	name string // "gateway", "metrics", "idp", "upstream": for messages
	ln   net.Listener
	srv  *http.Server
}

// URL is http://host:port of the bound socket.
func (l *listener) URL() string { return "http://" + l.ln.Addr().String() }

// listen binds addr now, so that a port already in use is reported before
// anything starts, with a message that says what to do.
func listen(name, addr, flagName string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			hint := ""
			if flagName != "" {
				hint = fmt.Sprintf("; stop whatever uses it or pick another address with -%s", flagName)
			}
			return nil, fmt.Errorf("cannot listen on %s for the %s: the address is already in use%s", addr, name, hint)
		}
		return nil, fmt.Errorf("cannot listen on %s for the %s: %w", addr, name, err)
	}
	return ln, nil
}

// serverGroup runs several servers and shuts them down together.
type serverGroup struct {
	logger *slog.Logger
	ls     []*listener
	errc   chan error
	wg     sync.WaitGroup
}

func newServerGroup(logger *slog.Logger) *serverGroup {
	return &serverGroup{logger: logger, errc: make(chan error, 16)}
}

// start serves l in the background.
func (g *serverGroup) start(l *listener) {
	g.ls = append(g.ls, l)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := l.srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case g.errc <- fmt.Errorf("%s: %w", l.name, err):
			default:
			}
		}
	}()
}

// wait blocks until ctx is done or a server fails, then shuts every server
// down gracefully: in-flight requests get up to timeout to finish, then
// the remaining connections are closed. It returns the serving error, or
// nil after a clean shutdown.
func (g *serverGroup) wait(ctx context.Context, timeout time.Duration) error {
	var serveErr error
	select {
	case <-ctx.Done():
		g.logger.Info("shutting down", "timeout", timeout.String())
	case serveErr = <-g.errc:
		g.logger.Error("server failed; shutting down", "err", serveErr)
	}
	return errors.Join(serveErr, g.shutdown(context.WithoutCancel(ctx), timeout))
}

// shutdown stops every server, in parallel, within timeout.
func (g *serverGroup) shutdown(ctx context.Context, timeout time.Duration) error {
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	var errs error
	var wg sync.WaitGroup
	for _, l := range g.ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.srv.Shutdown(sctx); err != nil {
				g.logger.Warn("graceful shutdown incomplete; closing connections", "server", l.name, "err", err)
				_ = l.srv.Close()
				mu.Lock()
				errs = errors.Join(errs, fmt.Errorf("%s: shutdown: %w", l.name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	g.wg.Wait()
	return errs
}

// healthz answers 200 "ok": the process is up and serving.
func healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok"))
}
