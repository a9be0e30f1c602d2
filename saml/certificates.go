package saml

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	crewjam "github.com/crewjam/saml"
)

// CertificateSource supplies the IdP certificates a Connection trusts, as
// go-oidc's KeySet supplies keys: Verify asks it on every call, so a
// certificate rotation it picks up reaches the connection without
// rebuilding it (and without losing the connection's replay cache).
//
// StaticCertificates never changes; MetadataFetcher follows the IdP's
// metadata URL. Implementations must be safe for concurrent use and should
// answer from memory: Verify calls Certificates on every login. Return the
// same certificates (the same pointers) while nothing changed, so that the
// connection can reuse what it derived from them; the connection keeps its
// own copy of the slice, so writing a new certificate into a slice
// returned before is a rotation too. An error refuses the login as
// unavailable (with the message of an *Error); a nil certificate, as
// config_invalid.
type CertificateSource interface {
	Certificates(ctx context.Context) ([]*x509.Certificate, error)
}

// StaticCertificates is a CertificateSource that never changes, such as
// the certificates of JumpCloud's certificate.pem (ParseCertificatesPEM).
type StaticCertificates []*x509.Certificate

// Certificates implements CertificateSource.
func (s StaticCertificates) Certificates(context.Context) ([]*x509.Certificate, error) {
	return s, nil
}

// certificateWarnWindow is how long before expiry ExpiringCertificates
// reports a certificate: long enough for an admin to schedule JumpCloud's
// hard cut-over.
const certificateWarnWindow = 30 * 24 * time.Hour

// minRSABits follows NIST SP 800-131A: RSA under 2048 bits is disallowed
// for signatures.
const minRSABits = 2048

// pinnedCert is one trusted certificate, with what Verify derives from it
// once.
type pinnedCert struct {
	cert *x509.Certificate
	// unbounded is cert with its validity period removed: Verify checks the
	// validity against its own clock, so goxmldsig must not.
	unbounded   *x509.Certificate
	fingerprint string
}

// pinSet is what a connection derives from one answer of its certificate
// source: the pinned certificates and the crewjam ServiceProvider template
// whose IdP metadata lists them. It is rebuilt only when the source
// answers with other certificates.
type pinSet struct {
	// from is a copy of the source's answer: a source that rotates by
	// writing into the slice it returned before must not change it.
	from []*x509.Certificate
	pins []pinnedCert
	sp   crewjam.ServiceProvider
}

// pinsFor returns the pin set of the certificates the source gives now.
func (c *Connection) pinsFor(ctx context.Context) (*pinSet, *Error) {
	certs, err := c.source.Certificates(ctx)
	if err != nil {
		if e, ok := asError(err); ok {
			// The source's message says what to do ("call Refresh
			// first"); its code does not carry over: the login is
			// refused as unavailable, and errors.Is matches that alone.
			return nil, newError(CodeUnavailable, "the IdP certificate source failed: "+e.Message).withCause(e.Err)
		}
		return nil, newError(CodeUnavailable, "the IdP certificate source failed").withCause(err)
	}
	// The same certificates (pointers), in the same order: comparing the
	// elements, not where the slices start, catches a rotation in place.
	if ps := c.pins.Load(); ps != nil && slices.Equal(ps.from, certs) {
		return ps, nil
	}
	ps, perr := c.newPinSet(certs)
	if perr != nil {
		return nil, perr
	}
	c.pins.Store(ps)
	return ps, nil
}

// newPinSet checks each certificate's key and derives the pin set.
func (c *Connection) newPinSet(certs []*x509.Certificate) (*pinSet, *Error) {
	if len(certs) == 0 {
		return nil, configError("no IdP certificate: set IdPCertificatesPEM to the JumpCloud app's certificate.pem, IdPMetadataXML, or Certificates")
	}
	ps := &pinSet{from: slices.Clone(certs)}
	for i, cert := range certs {
		if cert == nil {
			return nil, configError("the IdP certificate source returned a nil certificate (entry %d of %d)", i, len(certs))
		}
		if err := checkKey(cert); err != nil {
			return nil, err
		}
		u := *cert
		u.NotBefore = time.Time{}
		u.NotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
		ps.pins = append(ps.pins, pinnedCert{cert: cert, unbounded: &u, fingerprint: Fingerprint(cert)})
	}
	ps.sp = c.serviceProvider(ps.pins)
	return ps, nil
}

// checkKey refuses keys too weak to trust for signatures.
func checkKey(cert *x509.Certificate) *Error {
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return configError("IdP certificate %s has a %d-bit RSA key; at least %d bits are required: regenerate the certificate in the IdP", Fingerprint(cert), k.N.BitLen(), minRSABits)
		}
	case *ecdsa.PublicKey:
		if k.Curve.Params().BitSize < 256 {
			return configError("IdP certificate %s has a %d-bit ECDSA key; at least 256 bits are required", Fingerprint(cert), k.Curve.Params().BitSize)
		}
	default:
		return configError("IdP certificate %s has an unsupported %T key", Fingerprint(cert), cert.PublicKey)
	}
	return nil
}

// checkValidity refuses a certificate outside its validity period at now.
func checkValidity(cert *x509.Certificate, now time.Time) *Error {
	if now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		e := newError(CodeCertificateExpired, fmt.Sprintf("IdP certificate %s is valid from %s until %s", Fingerprint(cert), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)))
		e.Now = now
		return e
	}
	return nil
}

// parsePEMs reads every certificate of IdPCertificatesPEM.
func parsePEMs(pems [][]byte) ([]*x509.Certificate, *Error) {
	var out []*x509.Certificate
	for i, p := range pems {
		certs, err := ParseCertificatesPEM(p)
		if err != nil {
			return nil, configError("IdPCertificatesPEM[%d]: %v", i, err).withCause(err)
		}
		out = append(out, certs...)
	}
	return out, nil
}

// Certificates returns the IdP certificates the connection trusts now, as
// its source gives them.
func (c *Connection) Certificates(ctx context.Context) ([]*x509.Certificate, error) {
	ps, err := c.pinsFor(ctx)
	if err != nil {
		err.Connection = c.cfg.Name
		return nil, err
	}
	out := make([]*x509.Certificate, len(ps.pins))
	for i, pc := range ps.pins {
		out[i] = pc.cert
	}
	return out, nil
}

// ExpiringCertificates returns the trusted certificates that expire within
// d of the connection's clock (or have expired), so that the caller can
// warn an admin ahead of the IdP's cut-over; d <= 0 means 30 days. The
// verifier itself never logs.
func (c *Connection) ExpiringCertificates(ctx context.Context, d time.Duration) ([]*x509.Certificate, error) {
	if d <= 0 {
		d = certificateWarnWindow
	}
	certs, err := c.Certificates(ctx)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	limit := c.now().Add(d)
	for _, cert := range certs {
		if cert.NotAfter.Before(limit) {
			out = append(out, cert)
		}
	}
	return out, nil
}

// ParseCertificatesPEM reads every CERTIFICATE block of a PEM file such as
// JumpCloud's certificate.pem (text around the blocks, such as openssl's
// "Bag Attributes", is skipped). A bare base64 DER body, as pasted from
// metadata, is accepted too. It checks no policy: NewConnection does.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := bytes.TrimSpace(data)
	if len(rest) > 0 && !bytes.Contains(rest, []byte("-----BEGIN")) {
		der, err := base64.StdEncoding.DecodeString(stripSpace(string(rest)))
		if err != nil {
			return nil, fmt.Errorf("not PEM and not base64: %v", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		return []*x509.Certificate{cert}, nil
	}
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q is not a CERTIFICATE (is this the private key?)", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM CERTIFICATE block")
	}
	return certs, nil
}

// Fingerprint is the SHA-256 fingerprint of a certificate, colon-separated
// upper-case hex, as JumpCloud and openssl x509 -fingerprint -sha256 show it.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// stripSpace removes the white space XML Schema's base64Binary allows. It
// works on bytes: base64 is ASCII, and a SAMLResponse of random bytes must
// cost no more than its length (strings.Map would decode it as runes and
// write a three-byte replacement for every invalid one). A value without
// white space, as browsers post it, is returned as is.
func stripSpace(s string) string {
	i := strings.IndexAny(s, " \t\n\r")
	if i < 0 {
		return s
	}
	b := make([]byte, i, len(s))
	copy(b, s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// pinned is the atomic holder of the current pin set.
type pinned = atomic.Pointer[pinSet]
