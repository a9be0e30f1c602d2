package main

import (
	"net/http"
	"net/http/httputil"
	"sync"
)

// upstreamIdleConns is how many idle connections the proxy keeps to the
// upstream. http.DefaultTransport keeps 2 per host: under more concurrent
// requests than that, every request beyond the second opens a new
// connection to the upstream and closes it after the answer (a TCP
// handshake per request, and sockets in TIME_WAIT).
const upstreamIdleConns = 256

// upstreamTransport is the proxy's transport to the upstream:
// http.DefaultTransport (its timeouts, its proxy settings), with a pool of idle connections as
// large as the concurrency a gateway serves.
func upstreamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = upstreamIdleConns
	t.MaxIdleConnsPerHost = upstreamIdleConns
	return t
}

// proxyBufferSize is the size of the buffers the proxy copies response
// bodies through: httputil.ReverseProxy's own default.
const proxyBufferSize = 32 << 10

// proxyBuffers is the proxy's httputil.BufferPool. Without one,
// ReverseProxy allocates a new 32 KiB buffer for every response, which
// was most of the garbage a proxied request made. Buffers are kept as
// array pointers, so that Put allocates nothing.
var proxyBuffers httputil.BufferPool = &bufferPool{}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[proxyBufferSize]byte); ok {
		return buf[:]
	}
	return new([proxyBufferSize]byte)[:]
}

func (b *bufferPool) Put(buf []byte) {
	if len(buf) == proxyBufferSize {
		b.p.Put((*[proxyBufferSize]byte)(buf))
	}
}
