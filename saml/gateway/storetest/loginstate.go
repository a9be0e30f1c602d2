package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml/gateway"
)

// RunLoginStateStore runs the LoginStateStore conformance suite against
// the stores newStore returns: state comes back byte for byte, once (also
// under concurrency: of many takers of one handle exactly one gets it),
// expires at the time given, and a store that cannot answer says so (an
// error, never "nothing here").
func RunLoginStateStore(t *testing.T, newStore func(t *testing.T) gateway.LoginStateStore) {
	t.Run("LoginStateStore", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			run  func(*testing.T, gateway.LoginStateStore)
		}{
			{"save take once", loginStateOnce},
			{"expiry", loginStateExpiry},
			{"concurrent take", loginStateConcurrent},
			{"cancelled context", loginStateCancelled},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
		}
	})
}

func loginStateOnce(t *testing.T, s gateway.LoginStateStore) {
	ctx := context.Background()
	value := []byte("sealed\x00state\xff")
	in := bytes.Clone(value)
	if err := s.SaveLoginState(ctx, "h1", in, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("SaveLoginState: %v", err)
	}
	in[0] = 'X' // the store keeps its own copy
	if got, err := s.TakeLoginState(ctx, "h1"); err != nil || !bytes.Equal(got, value) {
		t.Fatalf("TakeLoginState = %q, %v; want the saved bytes", got, err)
	}
	if got, err := s.TakeLoginState(ctx, "h1"); got != nil || err != nil {
		t.Errorf("second TakeLoginState = %q, %v; want nil, nil (state is taken once)", got, err)
	}
	if got, err := s.TakeLoginState(ctx, "absent"); got != nil || err != nil {
		t.Errorf("TakeLoginState of an absent handle = %q, %v; want nil, nil", got, err)
	}
}

func loginStateExpiry(t *testing.T, s gateway.LoginStateStore) {
	ctx := context.Background()
	exp := time.Now().Add(ttl)
	for _, h := range []string{"early", "late"} {
		if err := s.SaveLoginState(ctx, h, []byte("x"), exp); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.TakeLoginState(ctx, "early"); err != nil || string(got) != "x" {
		t.Fatalf("before expiry: %q, %v", got, err)
	}
	time.Sleep(time.Until(exp) + 100*time.Millisecond)
	if got, err := s.TakeLoginState(ctx, "late"); got != nil || err != nil {
		t.Errorf("after expiry: %q, %v; want nil, nil", got, err)
	}
}

func loginStateConcurrent(t *testing.T, s gateway.LoginStateStore) {
	ctx := context.Background()
	const rounds, racers = 20, 16
	for round := range rounds {
		h := fmt.Sprintf("race-%d", round)
		if err := s.SaveLoginState(ctx, h, []byte(h), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := 0
		start := make(chan struct{})
		for range racers {
			wg.Go(func() {
				<-start
				v, err := s.TakeLoginState(ctx, h)
				if err != nil {
					t.Errorf("TakeLoginState: %v", err)
					return
				}
				if v != nil {
					mu.Lock()
					got++
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if got != 1 {
			t.Fatalf("round %d: %d of %d concurrent takes of one handle got the state; want exactly 1", round, got, racers)
		}
	}
}

func loginStateCancelled(t *testing.T, s gateway.LoginStateStore) {
	if err := s.SaveLoginState(context.Background(), "h", []byte("x"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := s.TakeLoginState(ctx, "h"); err == nil {
		t.Errorf("TakeLoginState with a cancelled context = %q, nil; want an error", got)
	}
	if err := s.SaveLoginState(ctx, "h2", []byte("x"), time.Now().Add(time.Hour)); err == nil {
		t.Error("SaveLoginState with a cancelled context succeeded")
	}
}
