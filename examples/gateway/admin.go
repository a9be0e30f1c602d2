package main

import "net/http"

// adminHandler is the admin listener's handler (admin_listen, -admin-addr):
// what must never be served with the application. The listener is for the
// operator's network only; nothing on it is reachable from the public one.
//
// Routes:
//
//	GET /metrics         Prometheus metrics
//	GET /healthz         liveness; with redis_url, 503 while Redis does not answer
//	POST /admin/revoke   end every session of a user (form: connection, subject)
//	GET /setup/          the setup assistant, with a setup token (setup.go)
func (a *app) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.handler())
	mux.HandleFunc(healthzPath, a.adminHealthz)
	// Cross-origin protection: a page in the operator's browser must not
	// be able to post to this listener.
	mux.Handle("POST /admin/revoke", http.NewCrossOriginProtection().Handler(http.HandlerFunc(a.revoke)))
	if h := a.setupHandler(); h != nil {
		mux.Handle(setupPath, h)
	}
	return mux
}
