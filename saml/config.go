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
	// (https://host/login/callback?connection=acme). The bearer Recipient
	// must equal it exactly, and so must the Response's Destination when
	// there is one. A Response without Destination is accepted only when
	// it is not signed itself (SAML Bindings §3.5.5.2; PingFederate's
	// default when it signs only the Assertion): the signed Recipient then
	// binds the assertion to this URL.
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
	// IdP names the IdP's product family (IdPOkta, IdPEntra, ...), so that
	// error hints name the settings of its console. Empty means detected
	// from IdPEntityID, IdPSSOURL and the certificates (sts.windows.net,
	// okta.com, /realms/ of Keycloak, JumpCloud's certificate subject...);
	// an IdP that is not recognized gets IdPGeneric, neutral wording. It
	// changes no check.
	IdP IdPKind
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
	// It applies only to an assertion that carries an email.
	EmailVerified EmailVerifiedPolicy
	// EmailOptional accepts assertions that carry no email (no email
	// attribute, and a NameID that is not an email address), for IdPs that
	// identify users by an opaque NameID only (PingOne, Okta with a
	// persistent NameID). Identity.Email is then "": key accounts by
	// (Identity.Connection, Identity.Subject). With AllowedEmailDomains set
	// an assertion without email is still refused. Off by default: most
	// applications need an email, and a missing one is usually a mapping
	// forgotten at the IdP.
	EmailOptional bool
	// AllowedEmailDomains, when set, limits the emails this IdP may assert
	// to these domains (exact, case-insensitive for ASCII letters, and
	// IDNA-aware: a domain may be given, and asserted, in its Unicode or its
	// xn-- form, with non-ASCII letters in lower case, as IDNA writes
	// them). Set it whenever one application trusts several IdPs (tenants):
	// otherwise any of them can assert any email, including another
	// tenant's users'.
	//
	// Whether or not it is set, Verify accepts only an email that is one
	// plain address (attributes.PlainEmail): no display name, comment,
	// quoting, brackets, white space or second '@'. A non-plain email is
	// refused as email_domain_not_allowed when domains are set, and as
	// malformed otherwise.
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
	// emailDomains is AllowedEmailDomains in lower-case ASCII form.
	emailDomains []string
	groups       *groups.Resolver
	// idp is the IdP family the hints are worded for (cfg.IdP, detected).
	idp      IdPKind
	replay   ReplayCache
	now      func() time.Time
	skew     time.Duration
	maxDelay time.Duration
	maxBytes int
}

// NewConnection validates cfg once and returns a Connection. Errors have
// Code config_invalid, or certificate_expired for an expired certificate.
func NewConnection(cfg ConnectionConfig) (*Connection, error) {
	// A copy that shares no slice with the caller's: writing into cfg's
	// afterwards must not change the connection.
	c := &Connection{cfg: cfg.clone(), now: cfg.Now}
	if c.now == nil {
		c.now = time.Now
	}
	if err := c.init(); err != nil {
		err.Connection = cfg.Name
		err.localize(c.idp)
		return nil, err
	}
	return c, nil
}

// parseACSURL checks an ACS URL as NewConnection and SPMetadata need it:
// absolute, http(s), with a host.
func parseACSURL(raw string) (*url.URL, *Error) {
	acs, err := url.Parse(raw)
	if err != nil || !acs.IsAbs() || acs.Host == "" {
		return nil, configError("ACSURL %q is not an absolute URL", raw)
	}
	if acs.Scheme != "https" && acs.Scheme != "http" {
		return nil, configError("ACSURL %q must be http(s)", raw)
	}
	return acs, nil
}

func (c *Connection) init() *Error {
	cfg := &c.cfg
	if cfg.Name == "" {
		return configError("Name is empty")
	}
	if cfg.SPEntityID == "" {
		return configError("SPEntityID is empty")
	}
	acs, aerr := parseACSURL(cfg.ACSURL)
	if aerr != nil {
		return aerr
	}
	c.acsURL = *acs
	// The family first, so that the errors below already name its console.
	switch {
	case cfg.IdP == "":
		c.idp = IdPGeneric
	case cfg.IdP.valid():
		c.idp = cfg.IdP
	default:
		return configError("IdP %q is not one of %s", cfg.IdP, idpKindList())
	}
	if err := c.initIdP(); err != nil {
		return err
	}
	if err := c.initPolicies(); err != nil {
		return err
	}
	c.mapping = cfg.Attributes.Clone()
	var err error
	c.groups, err = cfg.Groups.Compile()
	if err != nil {
		return configError("Groups: %v", err).withCause(err)
	}
	c.replay = cfg.ReplayCache
	if c.replay == nil {
		c.replay = NewMemoryReplayCache(0, c.now)
	}
	// The first pin set, checked now so that a bad source fails at start.
	ps, perr := c.pinsFor(context.Background())
	if perr != nil {
		if perr.Code == CodeUnavailable {
			return configError("Certificates: %s", perr.Message).withCause(perr.Err)
		}
		return perr
	}
	if cfg.IdP == "" && c.idp == IdPGeneric {
		// A certificate source's certificates are known only now.
		certs := make([]*x509.Certificate, len(ps.pins))
		for i, pc := range ps.pins {
			certs[i] = pc.cert
		}
		c.idp = detectIdP(cfg.IdPEntityID, cfg.IdPSSOURL, certs)
	}
	cfg.IdP = c.idp
	return nil
}

// idpKindList is the valid IdPKind values, for configuration errors.
func idpKindList() string {
	names := make([]string, len(idpKinds))
	for i, k := range idpKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
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
	if cfg.IdP == "" {
		// Detected before the certificates are checked, so that an expired
		// one is reported in the words of its IdP's console.
		c.idp = detectIdP(cfg.IdPEntityID, cfg.IdPSSOURL, static)
	}
	if cfg.IdPEntityID == "" {
		return configError("IdPEntityID is empty: set it to the IdP's entity ID (JumpCloud: the SSO app's \"IdP Entity ID\")")
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
			return configError("no IdP certificate: set IdPCertificatesPEM to the IdP's signing certificate (JumpCloud: the SSO app's certificate.pem), IdPMetadataXML, or Certificates")
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
		// Stored in lower-case ASCII (Punycode) form, the form
		// attributes.EmailDomain gives the email's domain in: "Bücher.example"
		// here matches an email at xn--bcher-kva.example and the reverse.
		ascii, err := attributes.NormalizeDomain(strings.TrimSpace(d))
		if err != nil {
			return configError("AllowedEmailDomains[%d] %q is not a domain such as example.com (a valid IDNA domain name, in its ASCII or lower-case Unicode form, without a trailing dot)", i, d).withCause(err)
		}
		c.emailDomains = append(c.emailDomains, ascii)
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
// IdP as detected, and the IdP fields read from IdPMetadataXML). Slices are copies: changing
// them does not change the connection.
func (c *Connection) Config() ConnectionConfig {
	return c.cfg.clone()
}

// clone returns a copy of cfg that shares no slice with it. The
// certificate source, replay cache and clock are shared, by design.
func (cfg ConnectionConfig) clone() ConnectionConfig {
	if cfg.IdPCertificatesPEM != nil {
		pems := make([][]byte, len(cfg.IdPCertificatesPEM))
		for i, p := range cfg.IdPCertificatesPEM {
			pems[i] = slices.Clone(p)
		}
		cfg.IdPCertificatesPEM = pems
	}
	cfg.IdPMetadataXML = slices.Clone(cfg.IdPMetadataXML)
	cfg.AllowedEmailDomains = slices.Clone(cfg.AllowedEmailDomains)
	cfg.Attributes = cfg.Attributes.Clone()
	cfg.Groups = cfg.Groups.Clone()
	return cfg
}
