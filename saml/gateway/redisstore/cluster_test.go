package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/gateway/redisstore"
	"github.com/samlgate/samlgate/saml/gateway/storetest"
)

// startCluster runs a Redis Cluster of three primaries (no replicas) on
// loopback and returns its redis:// URL (one host, the others as addr).
func startCluster(t *testing.T) string {
	t.Helper()
	var nodes []*redisServer
	for range 3 {
		nodes = append(nodes, startRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"))
	}
	ctx := context.Background()
	const slots = 16384
	for i, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.addr()})
		lo, hi := i*slots/len(nodes), (i+1)*slots/len(nodes)-1
		if err := c.ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
		}
		if i > 0 {
			if err := c.ClusterMeet(ctx, "127.0.0.1", fmt.Sprint(nodes[0].port)).Err(); err != nil {
				t.Fatalf("CLUSTER MEET: %v", err)
			}
		}
		_ = c.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.addr()})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the cluster did not form: %q, %v", info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Close()
	}
	return fmt.Sprintf("redis://%s?addr=%s&addr=%s", nodes[0].addr(), nodes[1].addr(), nodes[2].addr())
}

// TestCluster: the conformance suites against a Redis Cluster, where the
// session, index, replay and login-state keys of one user land on
// different nodes.
func TestCluster(t *testing.T) {
	url := startCluster(t)
	n := 0
	newClusterStore := func(t *testing.T) *redisstore.Store {
		n++
		s, err := redisstore.New(url, redisstore.Options{Prefix: fmt.Sprintf("c%d:", n), Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if _, ok := s.Client().(*redis.ClusterClient); !ok {
			t.Fatalf("New(%q) made a %T", url, s.Client())
		}
		return s
	}
	storetest.RunSessionStore(t, func(t *testing.T) gateway.SessionStore { return newClusterStore(t) })
	storetest.RunReplayCache(t, func(t *testing.T) saml.ReplayCache { return newClusterStore(t) })
	storetest.RunLoginStateStore(t, func(t *testing.T) gateway.LoginStateStore { return newClusterStore(t) })
}

// startSentinel runs a primary and one Sentinel monitoring it as
// "mymaster", and returns the redis:// URL naming the Sentinel.
func startSentinel(t *testing.T) string {
	t.Helper()
	primary := startRedis(t)
	s := &redisServer{t: t, bin: primary.bin, dir: t.TempDir(), port: freePort(t)}
	conf := filepath.Join(s.dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %d 1\nsentinel down-after-milliseconds mymaster 5000\n", s.port, s.dir, primary.port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// redis-server reads the configuration file first, then --sentinel.
	s.args = []string{conf, "--sentinel"}
	s.start()
	t.Cleanup(s.stop)
	return fmt.Sprintf("redis://%s?master_name=mymaster", s.addr())
}

// TestSentinel: New with master_name asks the Sentinel for the primary,
// and the conformance suites pass through it.
func TestSentinel(t *testing.T) {
	url := startSentinel(t)
	n := 0
	newSentinelStore := func(t *testing.T) *redisstore.Store {
		n++
		s, err := redisstore.New(url, redisstore.Options{Prefix: fmt.Sprintf("s%d:", n), Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	storetest.RunSessionStore(t, func(t *testing.T) gateway.SessionStore { return newSentinelStore(t) })
	storetest.RunReplayCache(t, func(t *testing.T) saml.ReplayCache { return newSentinelStore(t) })
	storetest.RunLoginStateStore(t, func(t *testing.T) gateway.LoginStateStore { return newSentinelStore(t) })
}
