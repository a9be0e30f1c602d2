// Command gateway is an identity-aware reverse proxy built on samlgate: it
// puts a JumpCloud (or Okta, Entra ID, Google Workspace...) SAML login in
// front of an application that has no SAML code at all, and tells the
// application who the user is in request headers.
//
// # The demo: one command, nothing to set up
//
//	go run ./examples/gateway
//
// starts three servers on 127.0.0.1 and prints the URL to open:
//
//   - :8081, a JumpCloud-like test IdP (package saml/samltest, with a key
//     pair generated at start-up): a "user portal" with an app tile per demo
//     user (IdP-initiated logins), and an SSO endpoint that answers the
//     gateway's AuthnRequests with a "choose a demo user" page
//     (SP-initiated logins). Responses look like JumpCloud's: the Assertion
//     signed, email_verified=true as a constant attribute, groups in
//     memberOf. alice (Engineering, Admins) is let in with the roles
//     developer and admin; bob (Sales) is refused by the gateway
//     (group_not_allowed); carol is not bound to the app, so the IdP itself
//     answers RequestDenied.
//   - :8080, the gateway, configured exactly as a configuration file would
//     configure it, with the connection "demo" (SP entity ID
//     urn:samlgate:demo, ACS URL http://127.0.0.1:8080/login/callback?connection=demo),
//     whose IdP metadata it fetches over HTTP from the demo IdP.
//   - :8082, the upstream application: a page that shows the identity
//     headers it received.
//
// Prometheus metrics are on :9090. Change the addresses with -addr,
// -idp-addr, -upstream-addr and -admin-addr; the demo listens on loopback
// addresses only, and says so when a port is taken. It runs on plain http,
// so it sets insecure_cookies (no Secure cookie attribute): never do that in
// production.
//
//	go run ./examples/gateway -selftest
//
// runs the demo on free ports and drives it with an HTTP client that
// behaves like a browser (cookie jar, redirects, auto-submitting forms):
// an IdP-initiated login of alice from her portal tile, an SP-initiated
// login (a protected deep link, the AuthnRequest, choosing alice at the IdP,
// the response posted back with its RelayState, landing on the deep link),
// then checks that bob, carol and a replayed response are refused, that
// forged identity headers never reach the upstream, and that the metrics
// counted each outcome. It prints the identity the upstream received in
// each flow as JSON and exits 0 on success, 1 otherwise. The tests run it
// too, and browser_test.go does both logins in a real headless Chromium.
//
// # Running it in front of an application
//
//	go run ./examples/gateway -config gateway.yaml
//
// See gateway.example.yaml for a JumpCloud SSO app, step by step. The file
// (YAML or JSON; unknown keys are errors) gives listen, admin_listen,
// upstream, public_url, the session keys (session_keys in base64, or
// session_key_files), session_lifetime, default_return_to,
// insecure_cookies, required_groups, required_roles, required_connections,
// connection_chooser, overflow_sessions, redis_url, websockets, max_conns_per_ip,
// metadata_refresh, idp_metadata_allowed_hosts,
// idp_metadata_signing_cert_files, and the connections in package
// samlconfig's format, with file names relative to the configuration file.
// A connection may name idp_metadata_url instead of certificates: the
// gateway fetches it at start-up (failing if it cannot) and refreshes it,
// so that a certificate rotation at the IdP needs no restart. A redirect
// may not leave the URL's own host unless idp_metadata_allowed_hosts lists
// the hosts allowed (every idp_metadata_url must then be on one of them);
// with idp_metadata_signing_cert_files, the metadata must also be signed
// by one of those certificates' keys.
//
// The defaults are the safe ones; each relaxation is a key to set:
//
//   - GET /login without ?connection= gets the same 404 page as an unknown
//     connection (no list of tenants for anyone to read);
//     connection_chooser: true lists the connections (the demo sets it).
//   - A user whose identity does not fit a session cookie (hundreds of
//     groups) is refused with code session_too_large (413), and the
//     start-up log says so; overflow_sessions (max_sessions, max_bytes such
//     as 64MiB, max_per_user) keeps such sessions in this process's memory
//     instead, within those bounds, for a single replica.
//   - Protocol upgrades are stripped: h2c always (it would let a client
//     speak to the upstream past the gateway), WebSocket unless
//     websockets: true, and then only from pages of public_url's origin.
//     A WebSocket is checked when it opens, not while it stays open.
//   - One client address (an IPv6 /64) holds at most max_conns_per_ip
//     connections at once (default 64; over it, 503 and closed). Behind a
//     reverse proxy every connection comes from the proxy: raise it, or set
//     0 and bound clients at the proxy.
//
// There is no reload: a configuration change takes a restart, with the
// same session keys, and applies to the sessions that exist, since
// required_groups, required_roles and required_connections run on every
// request and the gateway checks each session again against its
// connection (groups.allowed, allowed_email_domains, email_verified; a
// session whose groups or roles were derived by another groups
// configuration ends).
//
// Every request except the SAML endpoints (/login, /login/callback,
// /saml/metadata, /logout) and /healthz needs a session; browsers without
// one are sent to the login, other clients get 401. Logged-in requests are
// proxied (net/http/httputil.ReverseProxy, Rewrite hook) with:
//
//	X-Forwarded-User        the SAML NameID (JumpCloud sends the email)
//	X-Forwarded-Email       the email attribute, only when it is one plain address
//	X-Forwarded-Groups      the groups, comma-separated
//	X-Forwarded-Roles       the roles of the connection's role mapping, comma-separated
//	X-Forwarded-Connection  the connection (IdP) the user logged in through
//
// An email that is not one plain address (attributes.PlainEmail: a display
// name, comment, quotes, brackets, white space or a second '@') is not
// forwarded at all: X-Forwarded-Email is absent, and a Warn line (without
// the address) says so. The verifier refuses such emails already; this
// holds whatever reaches the proxy.
//
// Each item is percent-encoded where it holds '%', ',', ';', '"', a control
// character (CR, LF...), a non-ASCII byte, or a leading or trailing space,
// so that a group named "a,b" or one holding a newline cannot add an entry
// or a header: split on ',' and url.PathUnescape each item. The gateway
// deletes every copy of these headers a client sends, whatever its case,
// with '_' for '-' (X_Forwarded_User reaches CGI, WSGI and Rack apps as
// HTTP_X_FORWARDED_USER) and with any suffix (X-Forwarded-User-Id), and
// does not forward its own cookies (__Host-samlgate_session and
// __Host-samlgate_req_..., or without the prefix under insecure_cookies).
// The upstream must accept connections from the gateway only, or anyone
// could send these headers to it directly.
//
// With several connections, every one of their IdPs can assert any user,
// email and group: the admin of one tenant's IdP can create
// ceo@other-tenant.example in "Admins". The upstream must key its accounts
// by (X-Forwarded-Connection, X-Forwarded-User), never by the user or the
// email alone, and read groups and roles together with the connection
// that asserted them. required_connections (gateway.RequireConnection) admits
// only users of the listed connections; required_groups and required_roles
// match a name whichever connection asserted it.
//
// The client's Host header is forwarded to the upstream as it came (with
// X-Forwarded-Host, X-Forwarded-Proto and X-Forwarded-For set), not
// rewritten to the upstream's host: an upstream that routes by Host or
// builds absolute URLs from it sees whatever the client sent. Pin the
// public host in the upstream, or have the TLS proxy in front accept only
// the public name.
//
// Metrics (samlgate_logins_total{connection,code}, code "ok" for a login
// accepted, and the samlgate_verify_duration_seconds histogram, plus the Go
// and process collectors) are served on admin_listen, a listener of their
// own, never with the application. /healthz answers "ok" on both.
//
// redis_url (or the -redis flag, which overrides it; the demo takes it
// too, and keeps everything in memory without it) keeps sessions, pending
// logins and the replay cache in Redis, for several replicas (package
// redisstore: fail closed, 503 while Redis is down, nobody logged out).
// Then samlgate_store_errors_total{op} counts Redis failures, the admin
// listener's /healthz answers 503 while Redis does not answer PING within
// a second (a readiness probe), and POST /admin/revoke on the admin
// listener (form fields connection and subject) ends every session of that
// user on every replica, for deprovisioning. Logs are
// JSON (log/slog) at -log-level; emails, names and groups appear at debug
// only. SIGINT and SIGTERM stop the servers gracefully: in-flight requests
// get 15 seconds to finish.
package main
