package main

import (
	"flag"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// runBare serves a bare httputil.ReverseProxy ("proxybench bare -listen
// ADDR -upstream URL -variant bare|bare-pooled|bare-server"): the example
// gateway's upstream transport settings (examples/gateway/transport.go),
// the client's Host kept, X-Forwarded-* set, and the six identity headers
// set to what the gateway sends for alice, so that the upstream does the
// same work for every proxy.
func runBare(args []string) {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	listen := fs.String("listen", "", "address")
	upstream := fs.String("upstream", "", "upstream URL")
	variant := fs.String("variant", "bare", "bare, bare-pooled or bare-server")
	_ = fs.Parse(args)
	target, err := url.Parse(*upstream)
	if err != nil {
		fatalf("bare: %v", err)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	p := &httputil.ReverseProxy{Transport: t, Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
		r.SetXForwarded()
		h := r.Out.Header
		h.Set("X-Forwarded-User", alice)
		h.Set("X-Forwarded-Email", alice)
		h.Set("X-Forwarded-Groups", "Engineering,Admins")
		h.Set("X-Forwarded-Roles", "developer,admin")
		h.Set("X-Forwarded-Connection", connection)
		h.Set("X-Forwarded-Teams", "")
	}}
	srv := &http.Server{Addr: *listen, Handler: p}
	if *variant != "bare" {
		p.BufferPool = &bufferPool{}
	}
	if *variant == "bare-server" {
		// examples/gateway/server.go's settings.
		srv.ReadHeaderTimeout, srv.ReadTimeout = 10*time.Second, 30*time.Second
		srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes = 60*time.Second, 120*time.Second, 64<<10
	}
	fatalf("bare: %v", srv.ListenAndServe())
}

// bufferPool is examples/gateway/transport.go's, copied (package main
// there).
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[32 << 10]byte); ok {
		return buf[:]
	}
	return new([32 << 10]byte)[:]
}

func (b *bufferPool) Put(buf []byte) {
	if len(buf) == 32<<10 {
		b.p.Put((*[32 << 10]byte)(buf))
	}
}
