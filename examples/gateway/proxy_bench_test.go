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
