package gateway_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"sync"
	"testing"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// rotatingSource is a saml.CertificateSource whose certificates change, as
// a MetadataFetcher's do after the IdP rotates its key.
type rotatingSource struct {
	mu    sync.Mutex
	certs []*x509.Certificate
}

func (s *rotatingSource) Certificates(context.Context) ([]*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certs, nil
}

func (s *rotatingSource) set(certs ...*x509.Certificate) {
	s.mu.Lock()
	s.certs = certs
	s.mu.Unlock()
}

// A certificate rotation reaches the gateway through the connection's
// certificate source: the same Connection, so its replay cache still
// refuses an assertion consumed before the rotation, and no SetConnection
// is needed (the trap of a swapped-in connection with a fresh cache is
// gone).
func TestCertificateRotationKeepsReplayCache(t *testing.T) {
	clk := &gwClock{t: gwPinned}
	idp := gwIdP(t, "idp", clk)
	next := gwIdP(t, "idp2", clk)
	src := &rotatingSource{}
	src.set(idp.Certificate)
	conn := gwConn(t, "acme", idp, clk, func(c *saml.ConnectionConfig) {
		c.IdPCertificatesPEM, c.Certificates = nil, src
	})
	env := newGwEnv(t, gwOptions{clk: clk, idp: idp, conns: []*saml.Connection{conn}})

	mintBy := func(signer *samltest.IdP, id string) string {
		t.Helper()
		r := env.response("acme")
		r.AssertionID = id
		form, err := signer.FormValue(r)
		if err != nil {
			t.Fatal(err)
		}
		return form
	}
	used := mintBy(idp, "A-before-rotation")
	if res := env.browser().post(gwACS("acme"), used, ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login before rotation: %d", res.StatusCode)
	}

	// The IdP rolls over: both certificates during the overlap, then the
	// new one only.
	src.set(idp.Certificate, next.Certificate)
	if res := env.browser().post(gwACS("acme"), used, ""); res.StatusCode != http.StatusBadRequest || env.lastEvent().Code != saml.CodeReplayed {
		t.Errorf("replay across the rotation: %d %s", res.StatusCode, env.lastEvent().Code)
	}
	if res := env.browser().post(gwACS("acme"), mintBy(next, "A-new-key"), ""); res.StatusCode != http.StatusSeeOther {
		t.Errorf("login with the new key during the overlap: %d", res.StatusCode)
	}
	src.set(next.Certificate)
	if res := env.browser().post(gwACS("acme"), mintBy(idp, "A-old-key"), ""); res.StatusCode != http.StatusBadRequest || env.lastEvent().Code != saml.CodeUntrustedCertificate {
		t.Errorf("login with the retired key: %d %s", res.StatusCode, env.lastEvent().Code)
	}
	if c, _ := env.gw.Connection("acme"); c != conn {
		t.Error("the gateway serves another Connection than the one configured")
	}
}
