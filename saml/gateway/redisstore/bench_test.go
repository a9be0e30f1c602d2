package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/gateway/redisstore"
	"github.com/samlgate/samlgate/saml/samltest"
)

var benchSeq atomic.Int64

// BenchmarkReplayConsume: one replay check (SET NX PX) of a new key,
// against a redis-server on loopback; the in-memory cache beside it (a
// fresh one every 50,000 keys, untimed: it holds 100,000 at most).
func BenchmarkReplayConsume(b *testing.B) {
	srv := startRedis(b)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	redisCache := newStore(b, srv, redisstore.Options{})
	for _, tc := range []struct {
		name     string
		newCache func() saml.ReplayCache
	}{
		{"state=memory", func() saml.ReplayCache { return saml.NewMemoryReplayCache(0, nil) }},
		{"state=redis", func() saml.ReplayCache { return redisCache }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cache := tc.newCache()
			for i := 0; i < b.N; i++ {
				if i > 0 && i%50_000 == 0 {
					b.StopTimer()
					cache = tc.newCache()
					b.StartTimer()
				}
				// A new key every time, across -count runs too.
				if err := cache.Consume(ctx, fmt.Sprintf("samlgate:assertion:5:urn:x:id-%d", benchSeq.Add(1)), exp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSessionLoad: one Load of a 1 KiB sealed session (a user in a
// few dozen groups) from Redis, and from a MemorySessionStore.
func BenchmarkSessionLoad(b *testing.B) {
	srv := startRedis(b)
	ctx := context.Background()
	sealed := bytes.Repeat([]byte{0xa5}, 1024)
	for _, tc := range []struct {
		name  string
		store gateway.SessionStore
	}{
		{"state=memory", gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, nil)},
		{"state=redis", newStore(b, srv, redisstore.Options{})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if err := tc.store.Save(ctx, "sid", sealed, time.Now().Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if v, err := tc.store.Load(ctx, "sid"); err != nil || len(v) != len(sealed) {
					b.Fatal(v, err)
				}
			}
		})
	}
}

// benchGateway is one gateway with its stores in Redis, or in memory
// (MemoryReplayCache and MemorySessionStore), or with stateless cookies.
func benchGateway(b *testing.B, srv *redisServer, kind string) http.Handler {
	b.Helper()
	idp := testIdP(b)
	ccfg := saml.ConnectionConfig{
		Name:               "acme",
		SPEntityID:         "urn:samlgate:acme",
		ACSURL:             rACS,
		IdPEntityID:        idp.EntityID,
		IdPSSOURL:          idp.SSOURL,
		IdPCertificatesPEM: [][]byte{idp.CertificatePEM()},
	}
	gcfg := gateway.Config{
		SessionKeys: [][]byte{bytes.Repeat([]byte{7}, 32)},
		Logger:      slog.New(slog.DiscardHandler),
	}
	switch kind {
	case "redis":
		s := newStore(b, srv, redisstore.Options{})
		ccfg.ReplayCache = s
		gcfg.SessionStore, gcfg.LoginStateStore = s, s
	case "memory":
		gcfg.SessionStore = gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, nil)
	}
	conn, err := saml.NewConnection(ccfg)
	if err != nil {
		b.Fatal(err)
	}
	gcfg.Connections = []*saml.Connection{conn}
	gw, err := gateway.New(gcfg)
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	gw.Mount(mux)
	mux.Handle("/", gw.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	return mux
}

// BenchmarkACS: the whole callback (parse the form, verify, replay
// check, save the session, set the cookie) for a fresh IdP-initiated
// response each time; minting the response (an RSA signature) is not
// timed.
func BenchmarkACS(b *testing.B) {
	srv := startRedis(b)
	for _, kind := range []string{"memory", "redis"} {
		b.Run("state="+kind, func(b *testing.B) {
			h := benchGateway(b, srv, kind)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				form := mint(b, "")
				req := samltest.NewPostRequest(rACS, form, "")
				rec := httptest.NewRecorder()
				b.StartTimer()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusSeeOther {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// BenchmarkProxiedRequest: one request through RequireLogin to an empty
// handler, with a stateless cookie session or a session in Redis (or in
// a MemorySessionStore).
func BenchmarkProxiedRequest(b *testing.B) {
	srv := startRedis(b)
	for _, kind := range []string{"cookie", "memory", "redis"} {
		b.Run("state="+kind, func(b *testing.B) {
			h := benchGateway(b, srv, kind)
			res := samltest.PostForm(h, rACS, mint(b, ""), "")
			var cookie *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == gateway.DefaultCookieName {
					cookie = c
				}
			}
			if cookie == nil {
				b.Fatalf("login: %d", res.StatusCode)
			}
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, rHost+"/", nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
