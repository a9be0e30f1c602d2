package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samlconfig"
)

// validateConnections checks the connections and the settings that
// concern them (metadata hosts and signers, required_connections); pub is
// public_url.
func (c *Config) validateConnections(pub *url.URL) error {
	if len(c.Connections) == 0 {
		return errors.New("connections: at least one connection is required")
	}
	allowedHosts, err := c.metadataAllowedHosts()
	if err != nil {
		return err
	}
	if _, err := c.metadataSigningCerts(); err != nil {
		return err
	}
	if (allowedHosts != nil || len(c.IdPMetadataSigningCertFiles) > 0) &&
		!slices.ContainsFunc(c.Connections, func(conn samlconfig.Connection) bool { return conn.IdPMetadataURL != "" }) {
		return errors.New("idp_metadata_allowed_hosts and idp_metadata_signing_cert_files apply to connections with idp_metadata_url, and none has one")
	}
	for i, name := range c.RequiredConnections {
		if !slices.ContainsFunc(c.Connections, func(conn samlconfig.Connection) bool { return conn.Name == name }) {
			return fmt.Errorf("required_connections[%d]: %q is not the name of a connection below: nobody could log in", i, name)
		}
	}
	seen := map[string]bool{}
	for i := range c.Connections {
		conn := &c.Connections[i]
		if conn.Name == "" {
			return fmt.Errorf("connections[%d]: name is required", i)
		}
		if seen[conn.Name] {
			return fmt.Errorf("connections[%d]: duplicate name %q", i, conn.Name)
		}
		seen[conn.Name] = true
		if err := c.validateConnection(i, pub, allowedHosts); err != nil {
			return err
		}
	}
	return nil
}

// validateConnection checks connections[i]: its ACS URL is this gateway's
// callback, its logout_url and idp_metadata_url are safe.
func (c *Config) validateConnection(i int, pub *url.URL, allowedHosts []string) error {
	conn := &c.Connections[i]
	if conn.ACSURL == "" {
		// The ACS URL an admin types into JumpCloud; the connection
		// query parameter selects this connection.
		conn.ACSURL = samlconfig.ACSURL(c.PublicURL, conn.Name)
	}
	acs, err := parseAbsURL(fmt.Sprintf("connections[%d].acs_url", i), conn.ACSURL)
	if err != nil {
		return err
	}
	if acs.Scheme != pub.Scheme || acs.Host != pub.Host || acs.Path != callbackPath {
		return fmt.Errorf("connections[%d].acs_url %q is not this gateway's callback %s%s?connection=%s: responses sent there would not reach it", i, conn.ACSURL, strings.TrimRight(c.PublicURL, "/"), callbackPath, conn.Name)
	}
	if conn.LogoutURL != "" {
		// Where logout sends the browser (the IdP's logout or portal
		// page), so that the user can end the IdP's session too.
		lu, err := parseAbsURL(fmt.Sprintf("connections[%d].logout_url", i), conn.LogoutURL)
		if err != nil {
			return err
		}
		if lu.Scheme != "https" && !(lu.Scheme == "http" && isLoopbackHost(lu.Hostname())) {
			return fmt.Errorf("connections[%d].logout_url: must be https (http only on a loopback host, for the demo)", i)
		}
	}
	if conn.IdPMetadataURL != "" {
		mu, err := parseAbsURL(fmt.Sprintf("connections[%d].idp_metadata_url", i), conn.IdPMetadataURL)
		if err != nil {
			return err
		}
		if mu.Scheme != "https" && !isLoopbackHost(mu.Hostname()) {
			return fmt.Errorf("connections[%d].idp_metadata_url: must be https (the metadata carries the certificates the gateway trusts)", i)
		}
		if conn.IdPMetadataFile != "" || len(conn.IdPCertificates) > 0 || len(conn.IdPCertificateFiles) > 0 {
			return fmt.Errorf("connections[%d]: idp_metadata_url cannot be combined with idp_metadata_file or idp certificates", i)
		}
		if allowedHosts != nil && !slices.Contains(allowedHosts, strings.ToLower(mu.Hostname())) {
			return fmt.Errorf("connections[%d].idp_metadata_url: host %q is not in idp_metadata_allowed_hosts", i, mu.Hostname())
		}
	}
	return nil
}

// metadataAllowedHosts validates idp_metadata_allowed_hosts and returns
// them lower-cased; nil when unset.
func (c *Config) metadataAllowedHosts() ([]string, error) {
	if c.IdPMetadataAllowedHosts == nil {
		return nil, nil
	}
	if len(c.IdPMetadataAllowedHosts) == 0 {
		return nil, errors.New("idp_metadata_allowed_hosts: empty; leave it out to allow each idp_metadata_url's own host")
	}
	hosts := make([]string, 0, len(c.IdPMetadataAllowedHosts))
	for i, h := range c.IdPMetadataAllowedHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		// A host name, or an IP address (IPv6 without brackets): no
		// scheme, port, path or white space.
		if h == "" || strings.ContainsAny(h, "/@[] \t") || (strings.Contains(h, ":") && net.ParseIP(h) == nil) {
			return nil, fmt.Errorf("idp_metadata_allowed_hosts[%d]: %q is not a host name or IP address (no scheme, port or path)", i, c.IdPMetadataAllowedHosts[i])
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// metadataSigningCerts reads idp_metadata_signing_cert_files; nil when
// unset.
func (c *Config) metadataSigningCerts() ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for i, name := range c.IdPMetadataSigningCertFiles {
		data, err := os.ReadFile(c.resolve(name))
		if err != nil {
			return nil, fmt.Errorf("idp_metadata_signing_cert_files[%d]: %w", i, err)
		}
		cs, err := saml.ParseCertificatesPEM(data)
		if err != nil {
			return nil, fmt.Errorf("idp_metadata_signing_cert_files[%d] (%s): %w", i, name, err)
		}
		if len(cs) == 0 {
			return nil, fmt.Errorf("idp_metadata_signing_cert_files[%d] (%s): no CERTIFICATE block", i, name)
		}
		certs = append(certs, cs...)
	}
	return certs, nil
}
