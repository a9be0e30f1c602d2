package main

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// codeObservers observes samlgate_upstream_duration_seconds{code} around
// the proxy, on every proxied request. It does what
// promhttp.InstrumentHandlerDuration did with less per request: one small
// ResponseWriter wrapper, and the histogram of each status code looked up
// once (WithLabelValues and strconv.Itoa allocate on every call; the
// labels map promhttp built did too).
type codeObservers struct {
	vec    *prometheus.HistogramVec
	byCode [600]atomic.Pointer[prometheus.Observer]
}

func newCodeObservers(vec *prometheus.HistogramVec) *codeObservers {
	return &codeObservers{vec: vec}
}

func (c *codeObservers) observer(code int) prometheus.Observer {
	if code < 0 || code >= len(c.byCode) {
		return c.vec.WithLabelValues(strconv.Itoa(code))
	}
	if o := c.byCode[code].Load(); o != nil {
		return *o
	}
	o := c.vec.WithLabelValues(strconv.Itoa(code))
	c.byCode[code].Store(&o)
	return o
}

// instrument times next from the call to the end of its response, by the
// last status code it wrote (101 for a WebSocket, for its whole life; 200
// when it wrote nothing, as net/http then answers).
func (c *codeObservers) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		c.observer(code).Observe(time.Since(start).Seconds())
	})
}

// statusWriter records the status code written through it. Flush and
// Hijack are methods (for handlers that assert http.Flusher or
// http.Hijacker); deadlines and the rest of http.ResponseController reach
// the ResponseWriter it wraps through Unwrap.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack takes the connection over: ReverseProxy does so once the
// upstream switched protocols (a WebSocket), and writes the 101 answer
// itself on the connection, never through WriteHeader, so it is recorded
// here.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return conn, brw, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
