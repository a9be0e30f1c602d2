package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// perIPListener bounds the connections each client address holds open at
// once. Server timeouts bound how long one connection lasts (a slow POST
// holds one for ReadTimeout, 30 seconds), not how many one client opens:
// without a bound per address, one client can take every connection the
// process can hold. IPv6 clients are counted per /64, the block one host
// usually has to itself, so that rotating addresses within it does not
// escape the bound. A connection over the bound is answered 503 and
// closed before any of its request is read.
//
// Behind a reverse proxy every connection comes from the proxy's address,
// so the proxies' addresses (trusted_proxies; loopback by default) are not
// counted: bound clients at the proxy.
type perIPListener struct {
	net.Listener
	max    int
	exempt []*net.IPNet
	logger *slog.Logger

	mu    sync.Mutex
	conns map[string]int
	// refused counts refusals since the last log line; lastLog rate-limits
	// those lines, which a flood would otherwise multiply.
	refused int
	lastLog time.Time
}

// refusalLogInterval is the least time between two log lines about
// refused connections.
const refusalLogInterval = 10 * time.Second

// tooManyConns is what a refused connection reads.
const tooManyConns = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 43\r\n\r\ntoo many connections from your address now\n"

// limitPerIP wraps ln with a bound of max connections per client address,
// except for the exempt addresses (the trusted proxies); max 0 returns ln
// as it is.
func limitPerIP(ln net.Listener, max int, exempt []*net.IPNet, logger *slog.Logger) net.Listener {
	if max <= 0 {
		return ln
	}
	return &perIPListener{Listener: ln, max: max, exempt: exempt, logger: logger, conns: make(map[string]int)}
}

// exempted reports a connection from a trusted proxy.
func (l *perIPListener) exempted(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	for _, n := range l.exempt {
		if n.Contains(ta.IP) {
			return true
		}
	}
	return false
}

// Accept returns the next connection within the bound, answering and
// closing those over it.
func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.exempted(c.RemoteAddr()) {
			return c, nil
		}
		key := clientKey(c.RemoteAddr())
		l.mu.Lock()
		if l.conns[key] >= l.max {
			l.refused++
			var logNow bool
			var refused int
			if now := time.Now(); now.Sub(l.lastLog) >= refusalLogInterval {
				logNow, refused, l.refused, l.lastLog = true, l.refused, 0, now
			}
			l.mu.Unlock()
			if logNow {
				l.logger.Warn("connections refused: too many open from one client address (max_conns_per_ip)",
					"client", key, "max_conns_per_ip", l.max, "refused", refused)
			}
			// The write fits the socket buffer of a new connection; the
			// deadline only guards against a peer that has vanished.
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(c, tooManyConns)
			_ = c.Close()
			continue
		}
		l.conns[key]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(key) }}, nil
	}
}

func (l *perIPListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[key]--; l.conns[key] <= 0 {
		delete(l.conns, key)
	}
}

// open returns the connections held by key (for tests).
func (l *perIPListener) open(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[key]
}

// clientKey is the address a connection is counted under: the IPv4
// address, or the /64 of an IPv6 address.
func clientKey(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	if v4 := ta.IP.To4(); v4 != nil {
		return v4.String()
	}
	return (&net.IPNet{IP: ta.IP.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// countedConn gives its slot back when closed, once, however often Close
// is called (http.Server and a hijacking handler may both close it).
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
