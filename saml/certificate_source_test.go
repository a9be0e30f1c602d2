package saml_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/samlgate/samlgate/saml"
)

// swapSource is a CertificateSource whose answer a test changes: it hands
// out the same slice until told otherwise, as the interface asks, so a
// rotation written into that slice is one in place.
type swapSource struct {
	mu    sync.Mutex
	certs []*x509.Certificate
	err   error
}

func (s *swapSource) Certificates(context.Context) ([]*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certs, s.err
}

// set replaces entry i of the slice it hands out, in place.
func (s *swapSource) set(i int, cert *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs[i] = cert
}

func (s *swapSource) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// newConnection is saml.NewConnection, turning a panic into an error.
func newConnection(cfg saml.ConnectionConfig) (conn *saml.Connection, err error) {
	defer func() {
		if r := recover(); r != nil {
			conn, err = nil, fmt.Errorf("NewConnection panicked: %v", r)
		}
	}()
	return saml.NewConnection(cfg)
}

// TestCertificateSourceRotatesInPlace: a source that rotates by writing the
// new certificate into the slice it returned before (same backing array,
// same length) must not keep the removed certificate trusted. The pin set
// was reused as long as the slice started at the same address.
func TestCertificateSourceRotatesInPlace(t *testing.T) {
	idp, idp2 := newIdP(t, "idp"), newIdP(t, "idp2")
	_, cert1 := keyPair(t, "idp")
	_, cert2 := keyPair(t, "idp2")
	tests := []struct {
		name   string
		before []*x509.Certificate
		index  int
	}{
		{name: "one certificate, replaced", before: []*x509.Certificate{cert1}, index: 0},
		{name: "second of two, replaced", before: []*x509.Certificate{cert2, cert1}, index: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &swapSource{certs: tt.before}
			cfg := baseConfig(t)
			cfg.IdPCertificatesPEM, cfg.Certificates = nil, src
			conn := newConn(t, cfg)
			r := standard()
			r.AssertionID = uniqueID()
			checkAlice(t, mustVerify(t, conn, mint(t, idp, r)))

			src.set(tt.index, cert2) // idp's certificate is removed
			r.AssertionID = uniqueID()
			refuse(t, conn, mint(t, idp, r), saml.CodeUntrustedCertificate)
			r.AssertionID = uniqueID()
			r.Mutate = removeAll("//KeyInfo") // no hint: every pin is tried
			refuse(t, conn, mint(t, idp, r), saml.CodeSignatureInvalid)
			r.AssertionID, r.Mutate = uniqueID(), nil
			checkAlice(t, mustVerify(t, conn, mint(t, idp2, r)))
			certs, err := conn.Certificates(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range certs {
				if c.Equal(cert1) {
					t.Errorf("Certificates still lists the removed certificate")
				}
			}
		})
	}
}

// TestNilCertificate: a nil certificate, from StaticCertificates or from a
// source's later answer, is a configuration error, not a panic.
func TestNilCertificate(t *testing.T) {
	_, cert := keyPair(t, "idp")
	for _, tt := range []struct {
		name  string
		certs []*x509.Certificate
	}{
		{"only nil", saml.StaticCertificates{nil}},
		{"nil after a good one", saml.StaticCertificates{cert, nil}},
		{"nil before a good one", saml.StaticCertificates{nil, cert}},
	} {
		t.Run("NewConnection/"+tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.IdPCertificatesPEM, cfg.Certificates = nil, saml.StaticCertificates(tt.certs)
			_, err := newConnection(cfg)
			e := checkError(t, err, saml.CodeConfigInvalid)
			checkMessage(t, e, "nil")
		})
		t.Run("Verify/"+tt.name, func(t *testing.T) {
			src := &swapSource{certs: []*x509.Certificate{cert}}
			cfg := baseConfig(t)
			cfg.IdPCertificatesPEM, cfg.Certificates = nil, src
			conn := newConn(t, cfg)
			src.mu.Lock()
			src.certs = tt.certs
			src.mu.Unlock()
			e := refuse(t, conn, mint(t, newIdP(t, "idp"), standard()), saml.CodeConfigInvalid)
			checkMessage(t, e, "nil")
			if _, err := conn.Certificates(context.Background()); !errors.Is(err, saml.CodeConfigInvalid) {
				t.Errorf("Certificates: %v", err)
			}
		})
	}
}

// TestCertificateSourceErrorMessage: the message of a source's *Error
// (such as a MetadataFetcher's "call Refresh first") is kept, at
// NewConnection and at Verify; another error's text is not quoted.
func TestCertificateSourceErrorMessage(t *testing.T) {
	_, cert := keyPair(t, "idp")
	tests := []struct {
		name    string
		err     error
		message string
		hidden  string
	}{
		{name: "unavailable *Error", err: &saml.Error{Code: saml.CodeUnavailable, Message: "the metadata server is down"},
			message: "the IdP certificate source failed: the metadata server is down"},
		{name: "config_invalid *Error", err: &saml.Error{Code: saml.CodeConfigInvalid, Message: "the metadata is not signed"},
			message: "the IdP certificate source failed: the metadata is not signed"},
		{name: "wrapped *Error", err: fmt.Errorf("fetch: %w", &saml.Error{Code: saml.CodeUnavailable, Message: "timeout"}),
			message: "the IdP certificate source failed: timeout"},
		{name: "other error", err: errors.New("dial tcp 10.0.0.5:443: secret-host"),
			message: "the IdP certificate source failed", hidden: "secret-host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.IdPCertificatesPEM, cfg.Certificates = nil, &swapSource{err: tt.err}
			_, err := saml.NewConnection(cfg)
			e := checkError(t, err, saml.CodeConfigInvalid)
			checkMessage(t, e, "Certificates: "+tt.message)

			src := &swapSource{certs: []*x509.Certificate{cert}}
			cfg.Certificates = src
			conn := newConn(t, cfg)
			src.fail(tt.err)
			e = refuse(t, conn, mint(t, newIdP(t, "idp"), standard()), saml.CodeUnavailable)
			checkMessage(t, e, tt.message)
			if tt.hidden != "" && strings.Contains(e.Error(), tt.hidden) {
				t.Errorf("Error() %q quotes the source's error", e.Error())
			}
		})
	}
}
