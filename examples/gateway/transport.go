package main

import "net/http"

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
