package saml

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/groups"
)

// Defaults for the zero values of ConnectionConfig.
const (
	DefaultClockSkew        = 3 * time.Minute
	DefaultMaxIssueDelay    = 90 * time.Second
	DefaultMaxResponseBytes = 1 << 20
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
	// Certificates, instead of IdPCertificatesPEM or the certificates of
	// IdPMetadataXML, is a source Verify asks for the trusted certificates
	// on every call: a MetadataFetcher, so that a certificate rotation at
	// the IdP reaches the connection without rebuilding it. With
	// IdPMetadataXML set too (the fetcher's first copy, Metadata()), the
	// entity ID and SSO URL come from that copy and stay fixed: a change of
	// IdP entity ID is the operator's deliberate act, never a refresh's.
	Certificates CertificateSource

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
	// DisableIdPInitiated refuses responses that answer no login request
	// of ours (no InResponseTo). IdP-initiated logins are accepted by
	// default: JumpCloud's portal tiles send them.
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
}

// Connection verifies responses for one IdP application. It is safe for
// concurrent use, and immutable once built: only its certificate source
// may change what it trusts. It never logs; every refusal is an *Error
// returned to the caller.
type Connection struct {
	cfg    ConnectionConfig
	acsURL url.URL
	source CertificateSource
	pins   pinned
	// mapping and the rest are derived from cfg once.
	mapping attributes.Mapping
	// emailDomains is AllowedEmailDomains, lower-cased.
	emailDomains []string
	groups       *groups.Resolver
	replay       ReplayCache
	now          func() time.Time
	skew         time.Duration
	maxDelay     time.Duration
	maxBytes     int
}

// NewConnection validates cfg once and returns a Connection. Errors have
// Code config_invalid, or certificate_expired for an expired certificate.
func NewConnection(cfg ConnectionConfig) (*Connection, error) {
	c := &Connection{cfg: cfg, now: cfg.Now}
	if c.now == nil {
		c.now = time.Now
	}
	if err := c.init(); err != nil {
		err.Connection = cfg.Name
		return nil, err
	}
	return c, nil
}

func (c *Connection) init() *Error {
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
	if err := c.initIdP(); err != nil {
		return err
	}
	if err := c.initPolicies(); err != nil {
		return err
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
	// The first pin set, checked now so that a bad source fails at start.
	if _, perr := c.pinsFor(context.Background()); perr != nil {
		if perr.Code == CodeUnavailable {
			return configError("Certificates: %s", perr.Message).withCause(perr)
		}
		return perr
	}
	return nil
}

// initIdP reads the IdP's entity ID, SSO URL and certificates from the
// fields, the metadata or the certificate source.
func (c *Connection) initIdP() *Error {
	cfg := &c.cfg
	var static []*x509.Certificate
	if len(cfg.IdPMetadataXML) > 0 {
		if cfg.IdPEntityID != "" || cfg.IdPSSOURL != "" || len(cfg.IdPCertificatesPEM) > 0 {
			return configError("set either IdPMetadataXML or IdPEntityID/IdPSSOURL/IdPCertificatesPEM, not both")
		}
		md, err := parseIdPMetadata(cfg.IdPMetadataXML)
		if err != nil {
			return err
		}
		cfg.IdPEntityID, cfg.IdPSSOURL, cfg.IdPSSORedirect = md.entityID, md.ssoURL, md.redirect
		static = md.certs
	} else {
		if cfg.Certificates != nil && len(cfg.IdPCertificatesPEM) > 0 {
			return configError("set either Certificates or IdPCertificatesPEM, not both")
		}
		var err *Error
		if static, err = parsePEMs(cfg.IdPCertificatesPEM); err != nil {
			return err
		}
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
	c.source = cfg.Certificates
	if c.source == nil {
		if len(static) == 0 {
			return configError("no IdP certificate: set IdPCertificatesPEM to the JumpCloud app's certificate.pem, IdPMetadataXML, or Certificates")
		}
		for _, cert := range static {
			if err := checkKey(cert); err != nil {
				return err
			}
			if !cfg.AllowExpiredCertificate {
				if err := checkValidity(cert, c.now()); err != nil {
					return err
				}
			}
		}
		c.source = StaticCertificates(static)
	}
	return nil
}

// initPolicies validates the policies and fills in the defaults.
func (c *Connection) initPolicies() *Error {
	cfg := &c.cfg
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
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// serviceProvider is the crewjam ServiceProvider template whose IdP
// metadata lists pins; Verify and NewLoginRequest use copies of it.
func (c *Connection) serviceProvider(pins []pinnedCert) crewjam.ServiceProvider {
	kds := make([]crewjam.KeyDescriptor, len(pins))
	for i, pc := range pins {
		kds[i] = crewjam.KeyDescriptor{Use: "signing", KeyInfo: crewjam.KeyInfo{X509Data: crewjam.X509Data{
			X509Certificates: []crewjam.X509Certificate{{Data: base64.StdEncoding.EncodeToString(pc.cert.Raw)}},
		}}}
	}
	var sso []crewjam.Endpoint
	if u := c.cfg.IdPSSOURL; u != "" {
		sso = []crewjam.Endpoint{{Binding: crewjam.HTTPPostBinding, Location: u}}
		if c.cfg.IdPSSORedirect {
			sso = append([]crewjam.Endpoint{{Binding: crewjam.HTTPRedirectBinding, Location: u}}, sso...)
		}
	}
	return crewjam.ServiceProvider{
		EntityID: c.cfg.SPEntityID,
		AcsURL:   c.acsURL,
		IDPMetadata: &crewjam.EntityDescriptor{
			EntityID: c.cfg.IdPEntityID,
			IDPSSODescriptors: []crewjam.IDPSSODescriptor{{
				SSODescriptor: crewjam.SSODescriptor{RoleDescriptor: crewjam.RoleDescriptor{
					ProtocolSupportEnumeration: nsProtocol,
					KeyDescriptors:             kds,
				}},
				SingleSignOnServices: sso,
			}},
		},
		AllowIDPInitiated:                !c.cfg.DisableIdPInitiated,
		RejectSHA1Signatures:             !c.cfg.AllowSHA1,
		IgnoreCertificateExpiry:          true, // Verify checks expiry on its own clock
		AssertionConsumerServiceBindings: []string{crewjam.HTTPPostBinding},
		AuthnNameIDFormat:                crewjam.UnspecifiedNameIDFormat,
	}
}

// Name returns the connection's name.
func (c *Connection) Name() string { return c.cfg.Name }

// Config returns the validated configuration, defaults filled in
// (ClockSkew, MaxIssueDelay, MaxResponseBytes, Signature, EmailVerified,
// and the IdP fields read from IdPMetadataXML). Slices are copies: changing
// them does not change the connection.
func (c *Connection) Config() ConnectionConfig {
	cfg := c.cfg
	cfg.IdPCertificatesPEM = make([][]byte, len(c.cfg.IdPCertificatesPEM))
	for i, p := range c.cfg.IdPCertificatesPEM {
		cfg.IdPCertificatesPEM[i] = slices.Clone(p)
	}
	if c.cfg.IdPCertificatesPEM == nil {
		cfg.IdPCertificatesPEM = nil
	}
	cfg.IdPMetadataXML = slices.Clone(c.cfg.IdPMetadataXML)
	cfg.AllowedEmailDomains = slices.Clone(c.cfg.AllowedEmailDomains)
	cfg.Attributes = c.cfg.Attributes.Clone()
	cfg.Groups = c.cfg.Groups.Clone()
	return cfg
}
