package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/gateway/redisstore"
)

// redisPingTimeout bounds the start-up check and each /healthz ping.
const redisPingTimeout = time.Second

// validateRedis checks redis_url's shape (the store checks the rest when
// it is built) and that nothing else claims the sessions.
func (c *Config) validateRedis() error {
	if c.RedisURL == "" {
		return nil
	}
	u, err := url.Parse(c.RedisURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		// Never quote the URL: it may hold a password.
		return errors.New("redis_url: not a redis:// or rediss:// URL with a host")
	}
	if c.OverflowSessions != nil {
		return errors.New("redis_url and overflow_sessions are exclusive: with Redis every session is kept there, whatever its size")
	}
	return nil
}

// redactedRedisURL is the URL for logs: the password replaced.
func redactedRedisURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// openRedis connects the store of redis_url (nothing without one) and
// counts its failures in samlgate_store_errors_total. A Redis that does
// not answer at start-up is logged, not fatal: until it answers, logins
// and sessions get 503 and the admin /healthz reports it, and when it
// does, everything works without a restart.
func (a *app) openRedis(ctx context.Context) error {
	if a.cfg.RedisURL == "" {
		return nil
	}
	a.metrics.addStoreErrors()
	// go-redis's own lines (reconnects, Sentinel lookups) join the JSON
	// log; they name addresses, never passwords. Its logger is global:
	// set once, before any client exists.
	redisLogOnce.Do(func() { redis.SetLogger(redisLogger{a.logger}) })
	s, err := redisstore.New(a.cfg.RedisURL, redisstore.Options{OnError: a.metrics.storeError})
	if err != nil {
		return fmt.Errorf("redis_url: %w", err)
	}
	a.store = s
	pctx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		a.logger.Error("Redis does not answer: logins and sessions fail with 503 until it does", "redis", redactedRedisURL(a.cfg.RedisURL), "error", err.Error())
		return nil
	}
	a.logger.Info("sessions, login state and replay markers are kept in Redis, shared by every replica", "redis", redactedRedisURL(a.cfg.RedisURL))
	return nil
}

var redisLogOnce sync.Once

// redisLogger writes go-redis's log lines to the gateway's logger, at
// Warn: they report connection trouble.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// replayCache gives a connection the shared replay cache, with Redis.
func (a *app) replayCache(c *saml.ConnectionConfig) {
	if a.store != nil {
		c.ReplayCache = a.store
	}
}

// useRedis keeps sessions and login state in Redis.
func (a *app) useRedis(c *gateway.Config) {
	c.SessionStore = a.store
	c.LoginStateStore = a.store
}

// adminHealthz is the admin listener's /healthz: "ok", or, with Redis,
// 503 when it does not answer PING within redisPingTimeout (a readiness
// probe takes the replica out of the load balancer).
func (a *app) adminHealthz(w http.ResponseWriter, r *http.Request) {
	if a.store == nil {
		healthz(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), redisPingTimeout)
	defer cancel()
	w.Header().Set("Cache-Control", "no-store")
	if err := a.store.Ping(ctx); err != nil {
		http.Error(w, "redis: unavailable", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\nredis: ok\n"))
}

// revoke is POST /admin/revoke (form fields connection and subject): it
// ends every session of that user on every replica (gateway.RevokeUser),
// for deprovisioning. Admin listener only.
func (a *app) revoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed", "message": "send a form with connection and subject"})
		return
	}
	conn, subject := r.PostForm.Get("connection"), r.PostForm.Get("subject")
	if conn == "" || subject == "" {
		writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed", "message": "connection and subject are required"})
		return
	}
	err := a.gw.RevokeUser(r.Context(), conn, subject)
	// The subject is personal data: Debug only.
	a.logger.DebugContext(r.Context(), "revoke", "connection", conn, "subject", subject)
	var e *saml.Error
	switch {
	case err == nil:
		a.logger.InfoContext(r.Context(), "sessions revoked", "connection", conn)
		writeAdminJSON(w, http.StatusOK, map[string]any{"revoked": true})
		return
	case !errors.As(err, &e):
		e = &saml.Error{Code: saml.CodeUnavailable, Message: err.Error()}
	}
	status := http.StatusServiceUnavailable
	switch e.Code {
	case gateway.CodeUnknownConnection:
		status = http.StatusNotFound
	case saml.CodeConfigInvalid:
		// No shared store: sessions in cookies cannot be ended.
		status = http.StatusConflict
	}
	a.logger.WarnContext(r.Context(), "revoke failed", "connection", conn, "code", string(e.Code))
	writeAdminJSON(w, status, map[string]string{"error": string(e.Code), "message": e.Message})
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// storeOps are the operations samlgate_store_errors_total counts, exported
// as zeroes from the start.
var storeOps = []string{
	redisstore.OpSave, redisstore.OpLoad, redisstore.OpDelete, redisstore.OpDeleteUser,
	redisstore.OpReplay, redisstore.OpLoginStateSave, redisstore.OpLoginStateTake, redisstore.OpPing,
}

// addStoreErrors registers samlgate_store_errors_total.
func (m *metrics) addStoreErrors() {
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "samlgate_store_errors_total",
		Help: "Failures of the shared store (Redis) by operation: each one refused a login or answered a request 503.",
	}, []string{"op"})
	for _, op := range storeOps {
		m.storeErrors.WithLabelValues(op)
	}
	m.registry.MustRegister(m.storeErrors)
}

// storeError is redisstore.Options.OnError.
func (m *metrics) storeError(op string, _ error) {
	m.storeErrors.WithLabelValues(op).Inc()
}

// withRedis is the -redis flag applied to a configuration file: it
// overrides redis_url.
func withRedis(url string) func(*Config) error {
	return func(c *Config) error {
		if url == "" {
			return nil
		}
		c.RedisURL = url
		if err := c.validateRedis(); err != nil {
			return fmt.Errorf("-redis: %w", err)
		}
		return nil
	}
}
