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
// idp_metadata_signing_cert_files, public_paths, forward_auth, teams_db,
// teams, team_sync, and the
// connections in package
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
// Team sync (package groups/teamsync) is on with teams_db
// (sqlite:///path/teams.db, or postgres://user@host/db): at each login the
// links of teams (connection, group or pattern, team) turn the user's
// groups into team memberships, kept with their sources (a link, or
// manual) so that what an administrator added by hand is never removed.
// The linked teams must exist unless team_sync.create_teams; a failing
// sync refuses the login (team_sync_failed, 503) unless
// team_sync.best_effort; team_sync.policies sets, per connection,
// absent_groups (keep, the default: no removals when the IdP sends no
// groups attribute; clear; deny) and max_groups (the IdP's cap: a list that
// long applies joins only). The demo keeps its teams in SQLite in a
// temporary directory; its app page shows alice's teams with their
// sources and what her last login changed, and the IdP portal changes her
// groups.
//
// There is no reload: a configuration change takes a restart, with the
// same session keys, and applies to the sessions that exist, since
// required_groups, required_roles and required_connections run on every
// request and the gateway checks each session again against its
// connection (groups.allowed, allowed_email_domains, email_verified; a
// session whose groups or roles were derived by another groups
// configuration ends).
//
// Logout: the upstream posts a form to /logout (GET /logout asks to
// confirm). The gateway ends the session and shows "You are signed out of
// app_name. You may still be signed in to JumpCloud.", or, with a
// connection's logout_url (https), sends the browser there: the IdP's
// logout or user portal page, where the IdP's own session can end too.
//
// Every request except the SAML endpoints (/login, /login/callback,
// /saml/metadata, /logout), /healthz, public_paths and the forward-auth
// endpoints (below) needs a session; browsers without
// one are sent to the login, other clients get 401. Logged-in requests are
// proxied (net/http/httputil.ReverseProxy, Rewrite hook) with:
//
//	X-Forwarded-User        the SAML NameID (JumpCloud sends the email)
//	X-Forwarded-Email       the email attribute, only when it is one plain address
//	X-Forwarded-Groups      the groups, comma-separated
//	X-Forwarded-Roles       the roles of the connection's role mapping, comma-separated
//	X-Forwarded-Connection  the connection (IdP) the user logged in through
//	X-Forwarded-Teams       the user's teams at login (teams_db), comma-separated
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
// # Public paths
//
// public_paths lists paths proxied without a session (health checks,
// public assets): /status (exactly that path), /assets/ (that path and
// everything below it), /api/public/* (* is any run of characters within
// one segment, never a /). They reach the upstream without identity
// headers, a logged-in user's included, and a client's copies are removed
// as on every path. A request path counts only in its canonical form: a
// path with "." or ".." segments or "//", an encoded slash or backslash
// (%2F, %5C) or any escape other than Go's own, a '%' once decoded (double
// encoding), a ';' (Tomcat and Spring read /assets/..;/admin as /admin) or
// a backslash is never public, whatever it names, and needs a session like
// any other. The entries are checked at load: not empty, starting with /,
// already clean, no "/" alone (the whole site), no "**", no escapes.
//
// # Forward-auth: nginx, Traefik, Caddy
//
// With forward_auth: true, a reverse proxy that already fronts the
// application asks the gateway about each request, as with oauth2-proxy:
//
//	GET /saml/auth              200 and the six identity headers: a session that passes
//	                            required_groups, required_roles, required_connections and the
//	                            connection's own rules; 401 without one; 403 when not allowed;
//	                            503 when the session store fails. Never cached.
//	GET /saml/auth?redirect=1   the same, except that a browser navigation (GET or HEAD,
//	                            X-Forwarded-Method when sent, Accept: text/html) without a
//	                            session gets a 302 to the login, back to X-Forwarded-Uri
//	GET /saml/sign_in?rd=URL    a 302 to the login, back to rd (a path, or a URL of public_url's
//	                            origin; anything else is 400) or else to X-Forwarded-Uri
//
// upstream may then be left out: the proxy proxies to the application
// itself, and the gateway serves only its own paths (everything else is
// 404). That is the usual shape, and it is allowed only with forward_auth,
// so that a gateway that forgot its upstream fails at load instead of
// answering 404 to every page. public_paths need an upstream: in
// forward-auth mode, leave the public paths out of the proxy's auth check
// instead (the gateway could only learn the original path from a header
// the proxy sets, and a misconfigured proxy would pass the client's own).
//
// The session cookie is host-only (__Host-samlgate_session): the proxy
// must serve the application and the gateway's paths (/login,
// /login/callback, /logout, /saml/metadata, /saml/sign_in) on public_url's
// host, and a return address on any other host, even a sibling subdomain,
// is refused. The application receives the session cookie with each
// request (the gateway's own proxy strips it; these proxies cannot
// without add-ons): it must not log Cookie headers. The identity headers
// of the auth answer are all set on every 200, an email that is not one
// plain address as an empty value, so that each proxy below replaces or
// deletes every copy a client sent.
//
// nginx (auth_request; nginx_test.go runs this configuration, on plain
// http, against a real nginx). nginx drops header names with '_' (underscores_in_headers
// off, its default: keep it), and replaces the six headers it sets, in
// any case; it cannot delete other names by prefix, so a client's
// X-Forwarded-User-Id reaches the application: read exactly the six
// names.
//
//	upstream samlgate { server 127.0.0.1:8080; }
//	server {
//	    listen 443 ssl;
//	    server_name app.example.com;
//	    location = /login          { proxy_pass http://samlgate; proxy_set_header Host $host; }
//	    location = /login/callback { proxy_pass http://samlgate; proxy_set_header Host $host; }
//	    location = /logout         { proxy_pass http://samlgate; proxy_set_header Host $host; }
//	    location = /saml/metadata  { proxy_pass http://samlgate; proxy_set_header Host $host; }
//	    location = /saml/sign_in {
//	        proxy_pass http://samlgate;
//	        proxy_set_header Host $host;
//	        proxy_set_header X-Forwarded-Uri $request_uri;  # the page asked for, after error_page
//	    }
//	    location = /saml/auth {
//	        internal;
//	        proxy_pass http://samlgate;
//	        proxy_pass_request_body off;
//	        proxy_set_header Content-Length "";
//	        proxy_set_header Host $host;
//	        proxy_set_header X-Forwarded-Uri $request_uri;
//	        proxy_set_header X-Forwarded-Method $request_method;
//	    }
//	    location /healthz { proxy_pass http://127.0.0.1:3000; }  # public: no auth_request
//	    location / {
//	        auth_request /saml/auth;
//	        auth_request_set $saml_user       $upstream_http_x_forwarded_user;
//	        auth_request_set $saml_email      $upstream_http_x_forwarded_email;
//	        auth_request_set $saml_groups     $upstream_http_x_forwarded_groups;
//	        auth_request_set $saml_roles      $upstream_http_x_forwarded_roles;
//	        auth_request_set $saml_connection $upstream_http_x_forwarded_connection;
//	        auth_request_set $saml_teams      $upstream_http_x_forwarded_teams;
//	        error_page 401 = /saml/sign_in;
//	        proxy_pass http://127.0.0.1:3000;
//	        proxy_set_header Host $host;
//	        proxy_set_header X-Forwarded-User       $saml_user;   # empty: not sent at all
//	        proxy_set_header X-Forwarded-Email      $saml_email;
//	        proxy_set_header X-Forwarded-Groups     $saml_groups;
//	        proxy_set_header X-Forwarded-Roles      $saml_roles;
//	        proxy_set_header X-Forwarded-Connection $saml_connection;
//	        proxy_set_header X-Forwarded-Teams      $saml_teams;
//	    }
//	}
//
// nginx accepts only 2xx, 401 and 403 from auth_request (anything else is
// a 500), hence /saml/auth without ?redirect=1 and the error_page: its
// internal redirect keeps $request_uri, the whole URI the browser asked
// for, and drops that URI's query, so a ?rd= in a link cannot steer it.
// A 403 is nginx's own page (add error_page 403 for another).
//
// Traefik (ForwardAuth, file provider). Traefik hands a non-2xx answer to
// the client, so /saml/auth?redirect=1 sends browsers to the login itself;
// it sends X-Forwarded-Method and X-Forwarded-Uri, and with
// authResponseHeadersRegex it first deletes every request header the
// expression matches, X-Forwarded-User-Id included. Underscore spellings
// pass: drop them in the application, or with a headers middleware.
//
//	http:
//	  routers:
//	    samlgate:
//	      rule: Host(`app.example.com`) && (Path(`/login`) || Path(`/login/callback`) || Path(`/logout`) || Path(`/saml/metadata`))
//	      service: samlgate
//	    app:
//	      rule: Host(`app.example.com`)
//	      middlewares: [samlgate-auth]
//	      service: app
//	  middlewares:
//	    samlgate-auth:
//	      forwardAuth:
//	        address: http://127.0.0.1:8080/saml/auth?redirect=1
//	        authResponseHeadersRegex: ^X-Forwarded-(User|Email|Groups|Roles|Connection|Teams)
//	  services:
//	    samlgate: {loadBalancer: {servers: [{url: "http://127.0.0.1:8080"}]}}
//	    app:      {loadBalancer: {servers: [{url: "http://127.0.0.1:3000"}]}}
//
// Caddy (forward_auth). Like Traefik, Caddy hands a non-2xx answer to the
// client and sends X-Forwarded-Method and X-Forwarded-Uri. route keeps the
// request_header deletions (every client copy, any suffix, and every name
// with '_') before forward_auth, which Caddy's default order would not:
//
//	app.example.com {
//	    @samlgate path /login /login/callback /logout /saml/metadata
//	    handle @samlgate {
//	        reverse_proxy 127.0.0.1:8080
//	    }
//	    handle {
//	        route {
//	            request_header -X-Forwarded-User*
//	            request_header -X-Forwarded-Email*
//	            request_header -X-Forwarded-Groups*
//	            request_header -X-Forwarded-Roles*
//	            request_header -X-Forwarded-Connection*
//	            request_header -X-Forwarded-Teams*
//	            request_header -*_*
//	            forward_auth 127.0.0.1:8080 {
//	                uri /saml/auth?redirect=1
//	                copy_headers X-Forwarded-User X-Forwarded-Email X-Forwarded-Groups X-Forwarded-Roles X-Forwarded-Connection X-Forwarded-Teams
//	            }
//	            reverse_proxy 127.0.0.1:3000
//	        }
//	    }
//	}
//
// # The setup assistant
//
// The setup assistant (gateway.SetupHandler: the values and IdP console
// steps of each connection, a test login, the recent refusals) is served
// at /setup/ on admin_listen only when a setup token is configured
// (setup_token_file, setup_token or $SAMLGATE_SETUP_TOKEN, at least 16
// characters), and asks for it as the password of HTTP Basic
// authentication (any user name): without a token it is off, and being on
// the admin listener is not taken as authorization (a reverse proxy on the
// same host makes every request look local). The demo generates a token,
// prints the assistant's URL with it, and links to it from its IdP portal.
//
// # Several replicas: Redis
//
// redis_url (or the -redis flag, which overrides it; the demo takes it
// too, and keeps everything in memory without it) keeps sessions, pending
// logins and the replay cache in Redis, for several replicas (package
// redisstore: fail closed, 503 while Redis is down, nobody logged out).
// Then samlgate_store_errors_total{op} counts Redis failures, the admin
// listener's /healthz answers 503 while Redis does not answer PING within
// a second (a readiness probe), and POST /admin/revoke on the admin
// listener (form fields connection and subject) ends every session of that
// user on every replica, for deprovisioning.
//
// # Metrics and logs
//
// Metrics are served on admin_listen, a listener of their own, never with
// the application:
//
//	samlgate_logins_total{connection,flow,code}           flow sp_initiated, idp_initiated or test
//	                                                      (the setup assistant's test logins);
//	                                                      code "ok", or the code that refused it
//	samlgate_verify_duration_seconds{connection}          histogram, Verify at the ACS
//	samlgate_idp_certificate_expiry_days{connection,fingerprint}
//	                                                      per trusted certificate, read at each
//	                                                      scrape (negative: expired)
//	samlgate_idp_certificate_read_errors{connection}      1 when they could not be read
//	samlgate_idp_metadata_refresh_failures_total{connection}
//	samlgate_idp_metadata_age_seconds{connection}         since the last good copy of
//	                                                      idp_metadata_url
//	samlgate_store_errors_total{op}                      Redis failures (redis_url only)
//	samlgate_upstream_duration_seconds{code}              histogram, the proxied request to the
//	                                                      end of its response (101: a WebSocket's life)
//
// plus the Go and process collectors. During a rotation a connection
// trusts two certificates; alert on the one that lasts longest:
//
//	max by (connection) (samlgate_idp_certificate_expiry_days) < 14
//	samlgate_idp_metadata_age_seconds > 3 * 3600                # metadata_refresh 1h
//
// /healthz answers "ok" on both listeners (on the admin listener, 503 while
// Redis does not answer). Logs are JSON (log/slog) at -log-level; emails,
// names and groups appear at debug
// only. SIGINT and SIGTERM stop the servers gracefully: in-flight requests
// get 15 seconds to finish.
package main
