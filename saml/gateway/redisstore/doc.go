// Package redisstore keeps a gateway's shared state in Redis, so that
// several replicas behind one load balancer act as one: the replay cache
// (each assertion accepted once, whichever replica it reaches), the
// sessions (made on one replica, used and ended on all), the per-user
// index behind Gateway.RevokeUser, and the pending SP-initiated logins.
//
// One Store is all four: a saml.ReplayCache for every connection, and the
// gateway's SessionStore and LoginStateStore.
//
//	store, err := redisstore.New("rediss://:password@redis.internal:6380/0", redisstore.Options{})
//	...
//	connCfg.ReplayCache = store
//	gateway.Config{SessionStore: store, LoginStateStore: store, ...}
//
// It uses a go-redis UniversalClient: New picks a single server, Sentinel
// or Cluster from the URL, and NewFromClient takes a client you built.
//
// # Keys
//
// Every key starts with Options.Prefix ("samlgate:"):
//
//	replay:<key>   "1", SET NX PX: the assertion's remaining lifetime plus the skew
//	sess:<id>      the session sealed by the gateway (under a secret only the
//	               browser's cookie holds), with its user key; PX: the session's
//	               remaining lifetime (SessionLifetime, or SessionNotOnOrAfter)
//	user:<user>    sorted set of a user's session IDs by save time; lives as
//	               long as the user's longest session
//	login:<handle> a pending login sealed by the gateway; PX: LoginRequestLifetime,
//	               taken once with GETDEL
//
// The user key is an HMAC (see gateway.UserSessionStore): Redis holds no
// email, group or subject in the clear. Expiries are sent as the time left
// (PX), computed with Options.Now, so a Redis host whose clock is off does
// not shorten a replay marker; the commands need Redis 6.2 or later
// (GETDEL, SET ... GET).
//
// # Failures
//
// Each call is bounded by Options.Timeout (500ms by default), and New's
// client honours context deadlines and drops idle connections after a
// minute, below the server's `timeout` (a connection the server closed
// is never reused, the cause of oauth2-proxy#1690). The store never turns
// a failure into "not found": a failed replay check is an error that
// saml.Verify reports as unavailable, so the login is refused (503) and
// never accepted without its marker; a failed session load is an error,
// which the gateway answers with 503 and the cookie kept, unlike
// oauth2-proxy, which logs everyone out on a Redis blip. A session that is
// really gone (expired, deleted, Redis restarted empty) is "not found":
// the cookie is cleared and a login starts. Whatever sits under a key that
// this store did not write (garbage, another program's value, a key of
// another type) is not found, never an error or a panic. When Redis
// answers again, everything works again: nothing is cached in the process.
// Options.OnError reports each failure, for metrics; Ping is for health
// checks.
//
// # Limits
//
// Redis replication is asynchronous: a primary acknowledges a write before
// its replicas have it. If it fails over in that moment (Sentinel or
// Cluster promoting a replica), the replay markers written in the last
// replication lag (typically milliseconds; up to the replica's lag, which
// INFO replication shows) are lost, and a response accepted then could be
// accepted once more at the new primary, until the assertion expires (its
// NotOnOrAfter plus the connection's skew). To narrow the window:
//   - Options.ReplayReplicas makes each replay check WAIT for that many
//     replicas (and refuse the login, unavailable, if they do not
//     acknowledge within ReplayWaitTimeout): a promoted replica then has
//     the marker, at the cost of one replication round trip per login;
//     WAIT does not make Redis strongly consistent (a failover can still
//     promote a replica that did not acknowledge), but it narrows the
//     window to replicas that fell behind;
//   - min-replicas-to-write and min-replicas-max-lag on the primary refuse
//     writes (so logins, fail closed) when replicas fall behind;
//   - short assertion lifetimes at the IdP bound how long a lost marker
//     matters.
//
// A session saved and indexed while RevokeUser runs for the same user can
// escape the revocation (the two are separate commands, as the session and
// index keys may live on different Cluster nodes); a login racing a
// revocation is the only case. Two logins of one user at the same instant
// can leave MaxSessionsPerUser+1 sessions until the next login.
//
// The package's tests start redis-server processes of their own (Debian
// package redis-server): they run the storetest conformance suites against
// a single server, a three-node Cluster and through a Sentinel, and pause
// (SIGSTOP), kill and restart the server under two gateways sharing it.
package redisstore
