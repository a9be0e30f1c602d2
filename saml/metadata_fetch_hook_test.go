package saml_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// TestMetadataFetcherOnRefreshError: Run reports each failed refresh to
// OnRefreshError with the refresh's own error, keeps the last good copy,
// and does not call the hook for refreshes that succeed.
func TestMetadataFetcherOnRefreshError(t *testing.T) {
	good := newIdP(t, "idp").Metadata()
	m := newMetadataServer(t, good)
	f := m.fetcher()
	f.Interval = 5 * time.Millisecond
	errs := make(chan error, 64)
	f.OnRefreshError = func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	if err := f.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := f.LastRefresh()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// Successful refreshes: no call.
	hits := m.hits.Load()
	for m.hits.Load() < hits+3 {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-errs:
		t.Fatalf("OnRefreshError called for a good refresh: %v", err)
	default:
	}

	m.set(http.StatusInternalServerError, "text/plain", []byte("down"))
	select {
	case err := <-errs:
		if !errors.Is(err, saml.CodeUnavailable) {
			t.Errorf("OnRefreshError got %v, want a refresh error with code unavailable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnRefreshError was not called for a failed refresh")
	}
	if got := f.Metadata(); string(got) != string(good) {
		t.Error("the last good copy was not kept")
	}
	if f.LastRefresh().Before(first) {
		t.Error("LastRefresh went back")
	}
}
