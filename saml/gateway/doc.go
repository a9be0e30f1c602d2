// Package gateway serves the HTTP side of SAML logins for many
// connections: GET /login (SP-initiated), POST /login/callback (the ACS),
// GET /saml/metadata and /logout (GET confirms, POST ends the session),
// with sessions in sealed cookies or a
// SessionStore, and middleware (RequireLogin, RequireGroup, RequireRole,
// RequireConnection) that protects the application's handlers.
//
//	gw, err := gateway.New(gateway.Config{
//		Connections: []*saml.Connection{conn},
//		SessionKeys: [][]byte{key}, // 32 random bytes, from a secret store
//	})
//	mux := http.NewServeMux()
//	mux.Handle("/", gw.RequireLogin(app))
//	gw.Mount(mux) // /login, /login/callback, /saml/metadata, /logout
//
// It builds on package saml's exported API only (Connection.Verify,
// NewLoginRequest, Config), which is therefore enough for anyone writing
// their own HTTP layer. Connections are selected by the ?connection= query
// parameter, exactly as in the ACS URLs admins paste into JumpCloud
// (https://host/login/callback?connection=acme).
//
// # Tracking SP-initiated logins across the cross-site POST
//
// An SP-initiated login must remember the AuthnRequest ID until the
// response comes back, so that Verify can check InResponseTo, and must tie
// that ID to the browser that started the login, or an attacker could start
// a login, sign in as themselves, and make a victim's browser post the
// result (login CSRF). The response arrives as a cross-site POST from the
// IdP's page, and browsers do not send SameSite=Lax or Strict cookies (nor
// cookies without a SameSite attribute, which Chrome treats as Lax) on
// cross-site POSTs: an ordinary session-style cookie set at the start of the
// login is simply missing at the callback. That is the "lost cookie" problem
// SAML libraries keep reporting.
//
// The gateway splits the state in two:
//
//   - The RelayState is an opaque handle: "sg1_" and 32 random bytes in
//     base64url, 47 bytes, within the 80 bytes the SAML bindings allow
//     (§3.4.3, §3.5.3; some IdPs drop or refuse a longer one). The IdP
//     returns it untouched.
//   - The pending request (request ID, connection, return_to path and an
//     expiry, LoginRequestLifetime) is sealed with the session key
//     (AES-256-GCM, with a purpose label, the SP entity ID, the connection
//     and the handle as additional data, so that a session cookie cannot
//     be replayed as login state, nor state moved to another handle,
//     connection or application sharing the key). By default it travels
//     in a short-lived cookie __Host-samlgate_req_<hash of the handle>,
//     HttpOnly, Secure, SameSite=None (which browsers do send on the
//     cross-site POST), Path=/: nothing has to survive on the server, and
//     any replica with the session keys finishes the login. With
//     Config.LoginStateStore (Redis, shared by the replicas) the state
//     waits in the store instead, taken once at the callback, and the
//     cookie holds the handle.
//   - Either way the callback passes the request ID to Verify only when
//     the browser presents that cookie (it opens, or matches the handle),
//     so a RelayState stolen from another browser is worthless (login
//     CSRF). Each login has its own cookie name, so logins started in two
//     tabs do not overwrite each other. A browser holds at most 5 of them:
//     GET LoginPath expires the oldest beyond 4 (by the order the browser
//     lists them, oldest first among cookies of one path) before adding
//     its own.
//
// # Cookie tossing and the __Host- prefix
//
// Whoever controls any host of the site (a sibling subdomain such as
// blog.example.com next to app.example.com, even over plain http) can set
// cookies with Domain=example.com that the browser then sends to the
// gateway too. Were the request cookie a plain samlgate_req_..., such an
// attacker could plant one matching a login they started themselves and,
// posting their own response with their RelayState from the victim's
// browser, log the victim in as the attacker (login CSRF), IdP-initiated
// logins disabled or not; or plant a session cookie of their own, with a
// longer Path so that the browser sends it first. The __Host- prefix
// closes this: browsers refuse a __Host- cookie that has a Domain
// attribute, lacks Secure, or has a Path other than /, so only the
// gateway's host can set one. Both cookies carry it by default. When
// several cookies of one name arrive anyway (a custom CookieName without
// the prefix, InsecureCookies), the gateway tries each, in the order the
// browser sent them, and uses the first that opens: a planted copy that
// does not open no longer hides the browser's own session, but a planted
// session that does open (the attacker's genuine one) still wins, which
// only the prefix prevents.
//
// When the cookie is missing (the browser refused it, or the login was
// started in another browser) or the login request has expired (or, with a
// LoginStateStore, was already used), a response
// with an InResponseTo is refused as in_response_to_mismatch, with a page
// asking the user to start again. IdP-initiated responses (JumpCloud's
// portal tiles) carry no InResponseTo and need no cookie; they are
// accepted unless the connection sets DisableIdPInitiated, since an
// IdP-initiated response can be posted by anyone who holds one.
// DisableIdPInitiated closes login CSRF only together with the __Host-
// cookies, which are the default: under InsecureCookies, which drops the
// prefix, a host of the same site can still plant a request cookie, and
// with a CookieName without the prefix it can plant a session cookie of
// its own. The RelayState of an IdP-initiated login is whatever the admin
// typed in the IdP: it is used only when it is a safe local path.
//
// SameSite=None requires Secure, and so does the session cookie: serve the
// gateway over HTTPS. InsecureCookies is for http://localhost demos only.
// It drops Secure and the __Host- prefix from both cookies (they are named
// samlgate_session and samlgate_req_...); the request cookie keeps
// SameSite=None; Secure when the ACS host is localhost or a loopback
// address (Chrome and Firefox store Secure cookies from http://localhost),
// and falls back to SameSite=Lax without Secure on any other host, which
// reaches the callback only when the IdP is on the same site.
//
// # Sessions
//
// By default a session is a stateless cookie: the identity (subject,
// email, names, groups, roles, connection, session index) and its expiry,
// sealed with AES-256-GCM under the first SessionKeys entry; every entry
// opens cookies, so keys rotate by prepending a new one and removing the
// old one a SessionLifetime later. A cookie that does not open, has expired
// (by the expiry sealed inside, never the cookie's attributes), names a
// connection the gateway no longer has, or was sealed with a removed key is
// no session, and is cleared. A session ends at SessionLifetime or at the
// assertion's SessionNotOnOrAfter, whichever comes first.
//
// A session belongs to one connection of one application: the cookie names
// its connection in the clear (base64url, only to know how to open it), and
// the AEAD's additional data is the purpose, the connection's SP entity ID
// and the connection name. Two applications sharing a session key and a
// connection name, but not an SP entity ID, do not open each other's
// cookies: otherwise a user refused by one application's allowed groups
// would walk in with a cookie of the other. Sessions sealed before this
// binding (purpose labels v1) do not open: users sign in again once.
//
// Every request checks the session again against its connection as it is
// now, so that a connection replaced with SetConnection (a configuration
// reload) applies its stricter rules to the sessions that exist: a user no
// longer in the allowed groups, with an email no longer at an allowed
// domain, or unverified where a verified email is now required, has no
// session any more. The allowed-groups gate sees every group at login,
// while a groups Filter trims Identity.Groups; the session therefore also
// keeps, sealed, the groups the gate matched that the Filter dropped, and
// the gate is judged on both. A session whose groups or roles were derived
// by another group attribute, delimiter, filter or role mapping ends: the
// next login derives them by the new rules. An ended session is cleared,
// deleted from its store, and logged at Info with its connection and the
// reason (never the user).
//
// With a SessionStore, the cookie holds a sealed session ID and a secret
// of that session only, and the store holds the identity sealed under that
// secret (AES-256-GCM), as oauth2-proxy's ticket stores do: a dump of the
// store shows no email or group, and cannot be opened without the
// browser's cookie. Logout deletes the session from the store, so every
// copy of the cookie stops working. A store that implements
// UserSessionStore (MemorySessionStore does) also indexes sessions by
// user, under an HMAC of the SP entity ID, connection and subject (no
// subject in the clear): the gateway then keeps at most MaxSessionsPerUser
// sessions per user (10 by default; a new login ends the oldest), so that
// scripted logins of one account cannot fill the store, and RevokeUser ends
// all of a user's sessions.
//
// Group lists are never truncated. When the sealed identity would not fit
// a cookie (over 3,800 bytes: a user in a few hundred groups), the cookie
// holds a sealed session ID instead and the identity goes to SessionStore,
// or, when none is configured, to an in-memory overflow store the gateway
// creates, with a warning logged once: that store is per process, so
// configure a shared SessionStore when several replicas serve the same
// users. The overflow store is one per connection, so that a tenant's IdP
// minting subjects can evict only its own tenant's sessions; each is
// bounded in sessions and in bytes (OverflowLimits: 100,000 sessions and
// 64 MiB by default; when full, the sessions closest to expiry go) and
// per user (MaxSessionsPerUser).
// DisableOverflow refuses such logins instead, with code session_too_large
// (413) and a log line giving the size; so does a session larger than the
// whole overflow budget.
//
// # Logout, pages and the audit log
//
// POST LogoutPath ends the session (deleting it from its store) and shows
// the signed-out page, "You are signed out of AppName. You may still be
// signed in to JumpCloud." (the IdP's name follows the connection's
// saml.IdPKind), whose "Sign in again" link lands on the logout's
// return_to (a local path). It does not start a login: a live IdP session
// would complete it at once. A connection with a Config.LogoutURLs entry
// sends the browser to that URL instead (the IdP's logout or portal page),
// taken from the configuration only, never from the request. GET
// LogoutPath asks to confirm with a form; the POST is refused when the
// browser says it comes from another site (http.CrossOriginProtection).
//
// Every refusal page says what happened and what the user can do, per code
// (not assigned to the app at the IdP, not in an allowed group, email not
// verified, link already used or expired, service unavailable; any other
// code is worded by its HTTP status), with the code and a request ID for
// the administrator, never the detail, and "Sign in again" only where a
// retry can succeed. Config.Pages replaces the pages with the operator's
// html/templates, which receive a PageData.
//
// Config.Logger receives one Info line per login, refusal, logout and
// RevokeUser, each with an "event" key (login, login_refused, logout,
// sessions_revoked) and no key twice; never an email, a group of the user
// or XML. A subject that looks like an email is logged as "hmac:" and a
// keyed hash; a session as a hash of its cookie, the same at login and
// logout. The refusal detail is logged at Debug.
//
// # Connections are not listed
//
// GET LoginPath without ?connection= shows a chooser of every connection
// only with ConnectionChooser; by default it gets the same 404
// unknown-connection page as a name that is no connection, and so do
// MetadataPath and CallbackPath, and RequireLogin passes a request's
// ?connection= on to LoginPath as it came: anonymous visitors cannot list
// the tenants of a gateway. A name that exists starts a login, so
// connection names must not be secrets. A gateway with exactly one
// connection uses it when none is named (LoginPath, MetadataPath and
// RequireLogin's redirect name it): with a single tenant there is nothing
// to enumerate.
//
// # The setup assistant
//
// SetupHandler is an http.Handler for the admin who connects an IdP:
// per connection, the values to paste into the IdP (SP entity ID, ACS URL,
// the SP metadata as a file), the IdP console's steps with those values
// filled in, what the gateway accepts (IdP entity ID, certificate
// fingerprints and validity, metadata URL and the age of its last good
// refresh, policies), a test login and the recent refusals
// (RecentRefusals: a bounded ring per connection of what the refusal's
// Info log line says, found by the request ID a user reports). It has no
// authorization of its own: SetupConfig.Authorize is required, and a
// handler without it refuses everyone. Mount it on an admin listener.
//
// A test login starts on the public origin with a short-lived token the
// assistant seals (TestTokenLifetime), and runs as an SP-initiated login
// whose sealed login state is marked as a test, so that the mark can be
// neither forged nor removed. The ACS then creates no session and runs no
// OnLogin: the browser that started the test (it holds the login's
// request cookie) sees the verified identity, or the diagnosis (code,
// expected and actual values, the hint for the IdP). Any other browser,
// and every ordinary login, sees only the code and the request ID.
// # Teams
//
// Config.TeamSync (a TeamSyncer, such as the Engine of package
// groups/teamsync) runs at the ACS only, after Verify and OnLogin and
// before the session exists: it turns the verified groups into team
// memberships in its store and returns the user's teams, which the
// session keeps (TeamsFromContext, RequireTeam). A session never syncs
// again. A sync that fails refuses the login (team_sync_failed, 503), so
// that nobody works under memberships the IdP has revoked, unless
// TeamSyncBestEffort lets the user in without teams.
package gateway
