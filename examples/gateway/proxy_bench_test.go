package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/samlgate/samlgate/saml/samltest"
)

// BenchmarkProxy serves GET / of a static upstream (a fixed 2 KB page on
// a loopback httptest server, so that the upstream's work does not depend
// on the identity headers it receives) through the example's whole gateway handler
// chain (a.handler(): identity-header stripping, the mux, RequireLogin,
// the Prometheus instrumentation, the reverse proxy) with a logged-in
// session, and, for comparison, through a bare httputil.ReverseProxy to
// the same upstream. 16 goroutines at once, as wrk -c16 (the 2 CPUs of
// GOMAXPROCS × SetParallelism(8)), so that the upstream connection pool
// is exercised as under load.
//
//	go test -run '^$' -bench BenchmarkProxy -benchmem -count 6 ./examples/gateway/
func BenchmarkProxy(b *testing.B) {
	page := bytes.Repeat([]byte("<p>upstream page</p>\n"), 100)
	static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	b.Cleanup(static.Close)
	e := newTestEnvWithLogger(b, func(c *Config) { c.Upstream = static.URL }, slog.New(slog.DiscardHandler))
	cookies := e.login(b, samltest.Response{Groups: []string{"Engineering", "Admins"}})
	up, err := url.Parse(static.URL)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", httputil.NewSingleHostReverseProxy(up)},
		{"bare-pooled", &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(up) }, Transport: upstreamTransport()}},
		{"gateway", e.handler},
	} {
		b.Run(tc.name, func(b *testing.B) {
			serve := func() int {
				req := httptest.NewRequest(http.MethodGet, testPublicURL+"/", nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				tc.h.ServeHTTP(rec, req)
				_, _ = io.Copy(io.Discard, rec.Body)
				return rec.Code
			}
			if code := serve(); code != http.StatusOK {
				b.Fatalf("setup: status %d", code)
			}
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code := serve(); code != http.StatusOK {
						b.Errorf("status %d", code)
						return
					}
				}
			})
		})
	}
}

// cannedTransport answers every request with the same page, without a
// network: BenchmarkProxyOverhead measures the proxy's own work alone.
type cannedTransport struct{ page []byte }

func (t cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(t.page)),
		ContentLength: int64(len(t.page)),
		Request:       r,
	}, nil
}

// BenchmarkProxyOverhead is BenchmarkProxy without the network: the
// upstream is a RoundTripper that answers at once, and one goroutine
// serves, so ns/op is the CPU a proxied request costs in the proxy
// itself. "bare" is an httputil.ReverseProxy that sets the same identity
// headers from constants (what a proxy must do at the least),
// "bare-pooled" the same with the gateway's buffer pool, and "gateway" the
// example's whole handler chain with a logged-in session.
//
//	go test -run '^$' -bench BenchmarkProxyOverhead -benchmem -count 10 ./examples/gateway/
func BenchmarkProxyOverhead(b *testing.B) {
	rt := cannedTransport{page: bytes.Repeat([]byte("<p>upstream page</p>\n"), 100)}
	// An allowed-groups gate, as in BENCHMARKS.md's wrk configuration:
	// every request checks the session against it.
	e := newTestEnvWithLogger(b, func(c *Config) {
		c.Connections[0].Groups.Allowed = []string{"Engineering", "Admins"}
	}, slog.New(slog.DiscardHandler))
	e.app.transport = rt
	h, err := e.app.handler()
	if err != nil {
		b.Fatal(err)
	}
	cookies := e.login(b, samltest.Response{Groups: []string{"Engineering", "Admins"}})
	up, err := url.Parse(e.upstream.URL)
	if err != nil {
		b.Fatal(err)
	}
	rewrite := func(pr *httputil.ProxyRequest) {
		pr.SetURL(up)
		pr.Out.Host = pr.In.Host
		pr.SetXForwarded()
		h := pr.Out.Header
		h.Set(HeaderUser, "alice@example.com")
		h.Set(HeaderEmail, "alice@example.com")
		h.Set(HeaderGroups, "Engineering,Admins")
		h.Set(HeaderRoles, "admin")
		h.Set(HeaderConnection, "test")
		h.Set(HeaderTeams, "")
	}
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", &httputil.ReverseProxy{Transport: rt, Rewrite: rewrite}},
		// bare with the gateway's buffer pool: what the gateway's own
		// layers cost, apart from the pool's saving.
		{"bare-pooled", &httputil.ReverseProxy{Transport: rt, Rewrite: rewrite, BufferPool: proxyBuffers}},
		{"gateway", h},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, testPublicURL+"/", nil)
			req.Header.Set("User-Agent", "wrk")
			for _, c := range cookies {
				req.AddCookie(c)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				tc.h.ServeHTTP(w, req)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps only the status, and
// reuses its header map, as net/http's server does between requests.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}
func (w *discardWriter) reset() {
	clear(w.h)
	w.code = 0
}
