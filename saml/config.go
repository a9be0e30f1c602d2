package saml

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/groups"
)

// Defaults for the zero values of ConnectionConfig.
const (
	DefaultClockSkew        = 3 * time.Minute
	DefaultMaxIssueDelay    = 90 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	// certificateWarnWindow is how long before expiry NewConnection warns,
	// long enough for an admin to schedule JumpCloud's hard cut-over.
	certificateWarnWindow = 30 * 24 * time.Hour
	// minRSABits follows NIST SP 800-131A: RSA under 2048 bits is disallowed
	// for signatures.
	minRSABits = 2048
)

// SignaturePolicy says which elements of a response must carry a valid
// signature. Whatever the policy, a signature that is present must verify.
type SignaturePolicy string

const (
	// SignatureEither (the default) accepts a signed Assertion, a signed
	// Response, or both. JumpCloud signs only the Assertion by default.
	SignatureEither SignaturePolicy = "either"
	// SignatureAssertion requires the Assertion itself to be signed.
	SignatureAssertion SignaturePolicy = "assertion"
	// SignatureResponse requires the Response to be signed.
	SignatureResponse SignaturePolicy = "response"
	// SignatureBoth requires both signatures.
	SignatureBoth SignaturePolicy = "both"
)

// EmailVerifiedPolicy says how the email_verified attribute is treated.
type EmailVerifiedPolicy string

const (
	// EmailVerifiedRequire (the default): the signed assertion must carry
	// email_verified once, with one value that is true or 1 (any case).
	// JumpCloud sends it when the admin adds the constant attribute
	// email_verified = true.
	EmailVerifiedRequire EmailVerifiedPolicy = "require"
	// EmailVerifiedTrust marks every email as verified: the admin vouches
	// for the IdP, which cannot send the attribute. An explicit opt-in.
	EmailVerifiedTrust EmailVerifiedPolicy = "trust"
	// EmailVerifiedIgnore reads the attribute when present and valid, and
	// never refuses a login because of it. Identity.EmailVerified is true
	// only when the IdP said so.
	EmailVerifiedIgnore EmailVerifiedPolicy = "ignore"
)

// ConnectionConfig is one IdP application (one JumpCloud SSO app). It is
// validated once by NewConnection; the zero value of every optional field
// is the safe default.
type ConnectionConfig struct {
	// Name selects the connection (the ?connection= query parameter).
	Name string
	// SPEntityID is what the admin enters as "SP Entity ID"; responses must
	// name it as their Audience.
	SPEntityID string
	// ACSURL is what the admin enters as "ACS URL", query included
	// (https://host/login/callback?connection=acme). Destination and
	// Recipient must equal it exactly.
	ACSURL string

	// IdPEntityID is the expected Issuer: JumpCloud's free-text "IdP Entity ID".
	IdPEntityID string
	// IdPSSOURL is JumpCloud's "IdP URL", where SP-initiated logins go.
	IdPSSOURL string
	// IdPSSORedirect, when true, says the IdP accepts AuthnRequests with
	// the HTTP-Redirect binding at IdPSSOURL (metadata sets it).
	IdPSSORedirect bool
	// IdPCertificatesPEM are the certificates whose keys may sign
	// responses: JumpCloud's certificate.pem. List the old and the new one
	// during a rotation. The certificate inside a response is never trusted.
	IdPCertificatesPEM [][]byte
	// IdPMetadataXML, instead of the four IdP fields above, takes the
	// entity ID, SSO URL and every signing certificate from the IdP
	// metadata (JumpCloud's "Export Metadata").
	IdPMetadataXML []byte

	// Signature is the signature policy; default SignatureEither.
	Signature SignaturePolicy
	// AllowSHA1 accepts RSA-SHA1 signatures and SHA-1 digests, for JumpCloud
	// apps set to SHA-1. Off by default: SHA-1 signatures are forgeable in
	// principle and JumpCloud defaults to SHA-256.
	AllowSHA1 bool
	// AllowExpiredCertificate accepts signatures by a configured
	// certificate outside its validity period. Trust is by pinning, so the
	// key still has to match; use it only while a rotation is planned.
	AllowExpiredCertificate bool
	// AllowIdPInitiated is forced on unless DisableIdPInitiated is set:
	// JumpCloud's portal tiles send responses without InResponseTo.
	DisableIdPInitiated bool

	// ClockSkew is the tolerance applied to every time check; default 3
	// minutes (what Auth0 and Shibboleth allow).
	ClockSkew time.Duration
	// MaxIssueDelay bounds how old an assertion may be when it arrives,
	// whatever its NotOnOrAfter says; default 90 seconds (plus ClockSkew).
	MaxIssueDelay time.Duration
	// Now is the clock; nil means time.Now. Tests and samlcheck pin it.
	Now func() time.Time

	// EmailVerified is the email_verified policy; default EmailVerifiedRequire.
	EmailVerified EmailVerifiedPolicy
	// AllowedEmailDomains, when set, limits the emails this IdP may assert
	// to these domains (exact, case-insensitive). Set it whenever one
	// application trusts several IdPs (tenants): otherwise any of them can
	// assert any email, including another tenant's users'.
	AllowedEmailDomains []string
	// Attributes overrides which attribute names feed the identity fields.
	Attributes attributes.Mapping
	// Groups configures the groups attribute, the allowed-groups gate,
	// filtering and role mapping.
	Groups groups.Config

	// ReplayCache records consumed assertion IDs. nil means a bounded
	// in-memory cache private to this connection; share one store (such as
	// Redis) between replicas.
	ReplayCache ReplayCache
	// MaxResponseBytes caps the encoded SAMLResponse, checked before any
	// decoding; default 1 MiB.
	MaxResponseBytes int
	// Logger receives warnings (certificates about to expire) and Debug
	// details of refused responses; nil means slog.Default().
	Logger *slog.Logger
}

// Connection verifies responses for one IdP application. It is safe for
// concurrent use, and immutable once built.
type Connection struct {
	cfg     ConnectionConfig
	acsURL  url.URL
	sp      crewjam.ServiceProvider // template, copied per Verify
	certs   []pinnedCert
	mapping attributes.Mapping
	// emailDomains is AllowedEmailDomains, lower-cased.
	emailDomains []string
	groups       *groups.Resolver
	replay       ReplayCache
	now          func() time.Time
	logger       *slog.Logger
	skew         time.Duration
	maxDelay     time.Duration
	maxBytes     int
}

type pinnedCert struct {
	cert *x509.Certificate
	// unbounded is cert with its validity period removed: Verify checks the
	// validity against its own clock, so goxmldsig must not.
	unbounded   *x509.Certificate
	fingerprint string
}

// NewConnection validates cfg once and returns a Connection. Errors have
// Code config_invalid, or certificate_expired for an expired certificate.
func NewConnection(cfg ConnectionConfig) (*Connection, error) {
	c := &Connection{cfg: cfg, now: cfg.Now, logger: cfg.Logger}
	if c.now == nil {
		c.now = time.Now
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if err := c.init(); err != nil {
		if e, ok := asError(err); ok {
			e.Connection = cfg.Name
		}
		return nil, err
	}
	return c, nil
}

func (c *Connection) init() error {
	cfg := &c.cfg
	if cfg.Name == "" {
		return configError("Name is empty")
	}
	if cfg.SPEntityID == "" {
		return configError("SPEntityID is empty")
	}
	acs, err := url.Parse(cfg.ACSURL)
	if err != nil || !acs.IsAbs() || acs.Host == "" {
		return configError("ACSURL %q is not an absolute URL", cfg.ACSURL)
	}
	if acs.Scheme != "https" && acs.Scheme != "http" {
		return configError("ACSURL %q must be http(s)", cfg.ACSURL)
	}
	c.acsURL = *acs

	var pems [][]byte
	if len(cfg.IdPMetadataXML) > 0 {
		if cfg.IdPEntityID != "" || cfg.IdPSSOURL != "" || len(cfg.IdPCertificatesPEM) > 0 {
			return configError("set either IdPMetadataXML or IdPEntityID/IdPSSOURL/IdPCertificatesPEM, not both")
		}
		md, err := parseIdPMetadata(cfg.IdPMetadataXML)
		if err != nil {
			return err
		}
		cfg.IdPEntityID, cfg.IdPSSOURL, cfg.IdPSSORedirect = md.entityID, md.ssoURL, md.redirect
		pems = md.certs
	} else {
		pems = cfg.IdPCertificatesPEM
	}
	if cfg.IdPEntityID == "" {
		return configError("IdPEntityID is empty: set it to the \"IdP Entity ID\" of the JumpCloud SSO app")
	}
	if cfg.IdPEntityID == cfg.SPEntityID {
		return configError("IdPEntityID and SPEntityID are both %q: the SP entity ID is samlgate's own (urn:...:%s), not the IdP's", cfg.SPEntityID, cfg.Name)
	}
	if cfg.IdPSSOURL != "" {
		if u, err := url.Parse(cfg.IdPSSOURL); err != nil || !u.IsAbs() {
			return configError("IdPSSOURL %q is not an absolute URL", cfg.IdPSSOURL)
		}
	}
	if err := c.loadCertificates(pems); err != nil {
		return err
	}

	switch cfg.Signature {
	case "":
		cfg.Signature = SignatureEither
	case SignatureEither, SignatureAssertion, SignatureResponse, SignatureBoth:
	default:
		return configError("Signature %q is not one of either, assertion, response, both", cfg.Signature)
	}
	switch cfg.EmailVerified {
	case "":
		cfg.EmailVerified = EmailVerifiedRequire
	case EmailVerifiedRequire, EmailVerifiedTrust, EmailVerifiedIgnore:
	default:
		return configError("EmailVerified %q is not one of require, trust, ignore", cfg.EmailVerified)
	}
	if cfg.ClockSkew < 0 || cfg.MaxIssueDelay < 0 || cfg.MaxResponseBytes < 0 {
		return configError("ClockSkew, MaxIssueDelay and MaxResponseBytes must not be negative")
	}
	c.skew = orDefault(cfg.ClockSkew, DefaultClockSkew)
	c.maxDelay = orDefault(cfg.MaxIssueDelay, DefaultMaxIssueDelay)
	c.maxBytes = cfg.MaxResponseBytes
	if c.maxBytes == 0 {
		c.maxBytes = DefaultMaxResponseBytes
	}
	cfg.ClockSkew, cfg.MaxIssueDelay, cfg.MaxResponseBytes = c.skew, c.maxDelay, c.maxBytes

	for i, d := range cfg.AllowedEmailDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || strings.ContainsAny(d, "@ /") || strings.HasPrefix(d, ".") {
			return configError("AllowedEmailDomains[%d] %q is not a domain such as example.com", i, cfg.AllowedEmailDomains[i])
		}
		c.emailDomains = append(c.emailDomains, d)
	}

	c.mapping = cfg.Attributes
	c.groups, err = cfg.Groups.Compile()
	if err != nil {
		return configError("Groups: %v", err).withCause(err)
	}
	c.replay = cfg.ReplayCache
	if c.replay == nil {
		c.replay = NewMemoryReplayCache(0, c.now)
	}

	c.sp = crewjam.ServiceProvider{
		EntityID: cfg.SPEntityID,
		AcsURL:   *acs,
		IDPMetadata: &crewjam.EntityDescriptor{
			EntityID: cfg.IdPEntityID,
			IDPSSODescriptors: []crewjam.IDPSSODescriptor{{
				SSODescriptor: crewjam.SSODescriptor{RoleDescriptor: crewjam.RoleDescriptor{
					ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
					KeyDescriptors:             c.keyDescriptors(),
				}},
				SingleSignOnServices: c.ssoServices(),
			}},
		},
		AllowIDPInitiated:                !cfg.DisableIdPInitiated,
		RejectSHA1Signatures:             !cfg.AllowSHA1,
		IgnoreCertificateExpiry:          true, // Verify checks expiry on its own clock
		AssertionConsumerServiceBindings: []string{crewjam.HTTPPostBinding},
		AuthnNameIDFormat:                crewjam.UnspecifiedNameIDFormat,
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (c *Connection) keyDescriptors() []crewjam.KeyDescriptor {
	kds := make([]crewjam.KeyDescriptor, len(c.certs))
	for i, pc := range c.certs {
		kds[i] = crewjam.KeyDescriptor{Use: "signing", KeyInfo: crewjam.KeyInfo{X509Data: crewjam.X509Data{
			X509Certificates: []crewjam.X509Certificate{{Data: base64.StdEncoding.EncodeToString(pc.cert.Raw)}},
		}}}
	}
	return kds
}

func (c *Connection) ssoServices() []crewjam.Endpoint {
	if c.cfg.IdPSSOURL == "" {
		return nil
	}
	eps := []crewjam.Endpoint{{Binding: crewjam.HTTPPostBinding, Location: c.cfg.IdPSSOURL}}
	if c.cfg.IdPSSORedirect {
		eps = append([]crewjam.Endpoint{{Binding: crewjam.HTTPRedirectBinding, Location: c.cfg.IdPSSOURL}}, eps...)
	}
	return eps
}

// loadCertificates parses every certificate once, refuses weak keys and
// expired certificates, and warns about those close to expiry.
func (c *Connection) loadCertificates(pems [][]byte) error {
	now := c.now()
	for i, p := range pems {
		certs, err := ParseCertificatesPEM(p)
		if err != nil {
			return configError("IdPCertificatesPEM[%d]: %v", i, err)
		}
		for _, cert := range certs {
			fp := Fingerprint(cert)
			switch k := cert.PublicKey.(type) {
			case *rsa.PublicKey:
				if k.N.BitLen() < minRSABits {
					return configError("IdP certificate %s has a %d-bit RSA key; at least %d bits are required: regenerate the certificate in the IdP", fp, k.N.BitLen(), minRSABits)
				}
			case *ecdsa.PublicKey:
				if k.Curve.Params().BitSize < 256 {
					return configError("IdP certificate %s has a %d-bit ECDSA key; at least 256 bits are required", fp, k.Curve.Params().BitSize)
				}
			default:
				return configError("IdP certificate %s has an unsupported %T key", fp, cert.PublicKey)
			}
			if !c.cfg.AllowExpiredCertificate && (now.After(cert.NotAfter) || now.Before(cert.NotBefore)) {
				e := newError(CodeCertificateExpired, fmt.Sprintf("IdP certificate %s is valid from %s until %s", fp, cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)))
				e.Now = now
				return e
			}
			if left := cert.NotAfter.Sub(now); left > 0 && left < certificateWarnWindow {
				c.logger.Warn("samlgate: IdP certificate expires soon",
					"connection", c.cfg.Name, "fingerprint", fp, "not_after", cert.NotAfter.UTC(), "days_left", int(left.Hours()/24))
			}
			u := *cert
			u.NotBefore = time.Time{}
			u.NotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
			c.certs = append(c.certs, pinnedCert{cert: cert, unbounded: &u, fingerprint: fp})
		}
	}
	if len(c.certs) == 0 {
		return configError("no IdP certificate: set IdPCertificatesPEM to the JumpCloud app's certificate.pem, or IdPMetadataXML")
	}
	return nil
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

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, s)
}

type idpMetadata struct {
	entityID, ssoURL string
	redirect         bool
	certs            [][]byte
}

// parseIdPMetadata reads JumpCloud's "Export Metadata" (or any IdP's). It
// goes through the same XML guard as responses: metadata is pasted by
// admins and may come from a URL.
func parseIdPMetadata(data []byte) (*idpMetadata, error) {
	if _, err := parseGuarded(data); err != nil {
		// The guard's *Error is not kept as the cause: errors.Is would then
		// report malformed for what is a configuration error.
		return nil, configError("IdPMetadataXML: %s", err.Message).withCause(err.cause)
	}
	ed, err := samlsp.ParseMetadata(data)
	if err != nil {
		return nil, configError("IdPMetadataXML is not SAML metadata: %v", err).withCause(err)
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, configError("IdPMetadataXML has no IDPSSODescriptor: is this the IdP's metadata?")
	}
	md := &idpMetadata{entityID: ed.EntityID}
	for _, d := range ed.IDPSSODescriptors {
		for _, sso := range d.SingleSignOnServices {
			switch sso.Binding {
			case crewjam.HTTPRedirectBinding:
				md.redirect = true
				md.ssoURL = sso.Location
			case crewjam.HTTPPostBinding:
				if md.ssoURL == "" {
					md.ssoURL = sso.Location
				}
			}
		}
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
				md.certs = append(md.certs, []byte(xc.Data))
			}
		}
	}
	if len(md.certs) == 0 {
		return nil, configError("IdPMetadataXML has no signing certificate")
	}
	return md, nil
}

// Name returns the connection's name.
func (c *Connection) Name() string { return c.cfg.Name }

// Config returns the validated configuration, defaults filled in.
func (c *Connection) Config() ConnectionConfig { return c.cfg }

// Certificates returns the pinned IdP certificates.
func (c *Connection) Certificates() []*x509.Certificate {
	out := make([]*x509.Certificate, len(c.certs))
	for i, pc := range c.certs {
		out[i] = pc.cert
	}
	return out
}
