package saml_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml"
)

// signMetadata signs md the way a federation or IdP does: an enveloped
// signature on the root, referencing its ID, with KeyInfo naming cert.
func signMetadata(t testing.TB, md []byte, key *rsa.PrivateKey, cert *x509.Certificate, edit func(*dsig.SigningContext)) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	root.CreateAttr("ID", "_md-8f3a2c")
	ctx, err := dsig.NewSigningContext(key, [][]byte{cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if edit != nil {
		edit(ctx)
	}
	signed, err := ctx.SignEnveloped(root)
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(signed)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMetadataFetcherSigningCertificates: issue 12. With
// SigningCertificates, only metadata whose root carries a valid enveloped
// signature by one of them is used, and only what that signature covers.
func TestMetadataFetcherSigningCertificates(t *testing.T) {
	md := newIdP(t, "idp").Metadata()
	attackerMD := newIdP(t, "attacker").Metadata()
	signerKey, signerCert := keyPair(t, "idp2") // the federation's metadata signing key
	attackerKey, attackerCert := keyPair(t, "attacker")
	_, idpCert := keyPair(t, "idp")
	expiredKey, expiredCert := keyPair(t, "expired")
	good := signMetadata(t, md, signerKey, signerCert, nil)

	replace := func(doc []byte, old, new string) []byte {
		t.Helper()
		if !bytes.Contains(doc, []byte(old)) {
			t.Fatalf("%q not in the document", old)
		}
		return bytes.Replace(doc, []byte(old), []byte(new), 1)
	}
	b64 := func(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw) }
	// The signed entity moved under an unsigned aggregate, next to the
	// attacker's entity: the root is not what was signed.
	wrapped := func() []byte {
		signed := etree.NewDocument()
		if err := signed.ReadFromBytes(good); err != nil {
			t.Fatal(err)
		}
		evil := etree.NewDocument()
		if err := evil.ReadFromBytes(attackerMD); err != nil {
			t.Fatal(err)
		}
		out := etree.NewDocument()
		agg := out.CreateElement("md:EntitiesDescriptor")
		agg.CreateAttr("xmlns:md", "urn:oasis:names:tc:SAML:2.0:metadata")
		agg.AddChild(evil.Root())
		agg.AddChild(signed.Root())
		b, _ := out.WriteToBytes()
		return b
	}()
	// A second signature, by the trusted key, on a nested element.
	twoSignatures := func() []byte {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(good); err != nil {
			t.Fatal(err)
		}
		sso := doc.FindElement("//IDPSSODescriptor")
		sso.AddChild(doc.FindElement("//Signature").Copy())
		b, _ := doc.WriteToBytes()
		return b
	}()

	tests := []struct {
		name  string
		body  []byte
		certs []*x509.Certificate
		want  string // "" means accepted; else a substring of the message
	}{
		{name: "signed by the configured key", body: good, certs: []*x509.Certificate{signerCert}},
		{name: "signed by the second of two configured keys", body: good, certs: []*x509.Certificate{attackerCert, signerCert}},
		{name: "inclusive C14N 1.1 signature", body: signMetadata(t, md, signerKey, signerCert, func(c *dsig.SigningContext) {
			c.Canonicalizer = dsig.MakeC14N11Canonicalizer()
		}), certs: []*x509.Certificate{signerCert}},
		{name: "reference to the whole document (URI \"\")", body: func() []byte {
			doc := etree.NewDocument()
			_ = doc.ReadFromBytes(md)
			ctx, _ := dsig.NewSigningContext(signerKey, [][]byte{signerCert.Raw})
			signed, err := ctx.SignEnveloped(doc.Root()) // no ID: URI=""
			if err != nil {
				t.Fatal(err)
			}
			doc.SetRoot(signed)
			out, _ := doc.WriteToBytes()
			return out
		}(), certs: []*x509.Certificate{signerCert}},
		{name: "signing certificate expired: trust is in the key", body: signMetadata(t, md, expiredKey, expiredCert, nil), certs: []*x509.Certificate{expiredCert}},

		{name: "unsigned", body: md, certs: []*x509.Certificate{signerCert}, want: "not signed"},
		{name: "signed by another key", body: signMetadata(t, md, attackerKey, attackerCert, nil), certs: []*x509.Certificate{signerCert},
			want: "does not verify"},
		{name: "signed by another key, KeyInfo naming the configured certificate",
			body:  replace(signMetadata(t, md, attackerKey, attackerCert, nil), b64(attackerCert), b64(signerCert)),
			certs: []*x509.Certificate{signerCert}, want: "does not verify"},
		{name: "tampered: certificate swapped for the attacker's", body: replace(good, b64(idpCert), b64(attackerCert)),
			certs: []*x509.Certificate{signerCert}, want: "does not verify"},
		{name: "tampered: entity ID", body: replace(good, `entityID="https://sso.jumpcloud.com/saml2/acme"`, `entityID="https://sso.jumpcloud.com/saml2/evil"`),
			certs: []*x509.Certificate{signerCert}, want: "does not verify"},
		{name: "tampered: SignatureValue", body: func() []byte {
			doc := etree.NewDocument()
			_ = doc.ReadFromBytes(good)
			sv := doc.FindElement("//SignatureValue")
			raw, _ := base64.StdEncoding.DecodeString(sv.Text())
			raw[10] ^= 1
			sv.SetText(base64.StdEncoding.EncodeToString(raw))
			b, _ := doc.WriteToBytes()
			return b
		}(), certs: []*x509.Certificate{signerCert}, want: "does not verify"},
		{name: "reference to another ID", body: replace(good, `ID="_md-8f3a2c"`, `ID="_other"`),
			certs: []*x509.Certificate{signerCert}, want: "does not reference the root"},
		{name: "signed entity wrapped in an unsigned aggregate", body: wrapped, certs: []*x509.Certificate{signerCert},
			want: "directly under its root"},
		{name: "a second signature on a nested element", body: twoSignatures, certs: []*x509.Certificate{signerCert},
			want: "exactly one signature"},
		{name: "SHA-1", body: signMetadata(t, md, signerKey, signerCert, func(c *dsig.SigningContext) {
			c.Hash = crypto.SHA1
			if err := c.SetSignatureMethod(dsig.RSASHA1SignatureMethod); err != nil {
				t.Fatal(err)
			}
		}), certs: []*x509.Certificate{signerCert}, want: "SHA-1"},
		{name: "empty list of certificates", body: good, certs: []*x509.Certificate{}, want: "SigningCertificates is empty"},
		{name: "weak signing key", body: good, certs: []*x509.Certificate{func() *x509.Certificate { _, c := keyPair(t, "weak"); return c }()},
			want: "SigningCertificates[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMetadataServer(t, tt.body)
			f := m.fetcher()
			f.SigningCertificates = tt.certs
			got, err := f.Fetch(context.Background())
			if tt.want != "" {
				if got != nil {
					t.Errorf("metadata returned with the error %v", err)
				}
				e := checkError(t, err, saml.CodeConfigInvalid)
				checkMessage(t, e, tt.want)
				if err := f.Refresh(context.Background()); err == nil || f.Metadata() != nil {
					t.Errorf("Refresh adopted refused metadata: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			// What is returned is the signed element, without its
			// signature, and it is what a connection is built from.
			if bytes.Contains(got, []byte("SignatureValue")) || !bytes.Contains(got, []byte(b64(idpCert))) {
				t.Errorf("Fetch returned %s", got)
			}
			if err := f.Refresh(context.Background()); err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if !bytes.Equal(f.Metadata(), got) {
				t.Error("Metadata() is not what Fetch returned")
			}
			certs, err := f.Certificates(context.Background())
			if err != nil || len(certs) != 1 || !certs[0].Equal(idpCert) {
				t.Errorf("Certificates = %v, %v", certs, err)
			}
			cfg := baseConfig(t)
			cfg.IdPEntityID, cfg.IdPSSOURL, cfg.IdPCertificatesPEM = "", "", nil
			cfg.IdPMetadataXML, cfg.Certificates = f.Metadata(), f
			checkAlice(t, mustVerify(t, newConn(t, cfg), mint(t, newIdP(t, "idp"), standard())))
		})
	}

	// OnUpdate sees the verified element too.
	m := newMetadataServer(t, good)
	f := m.fetcher()
	f.SigningCertificates = []*x509.Certificate{signerCert}
	var seen []byte
	f.OnUpdate = func(b []byte) error { seen = b; return nil }
	if err := f.Refresh(context.Background()); err != nil || bytes.Contains(seen, []byte("Signature")) || len(seen) == 0 {
		t.Errorf("OnUpdate got %d bytes, %v", len(seen), err)
	}
}

// hostsClient is a client whose every connection goes to srv, whatever
// host the URL names, so that the allow-list can be tested with names
// (srv's certificate is for example.com and *.example.com).
func hostsClient(srv *httptest.Server) *http.Client {
	c := srv.Client()
	tr := c.Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	c.Transport = tr
	return c
}

// TestMetadataFetcherAllowedHosts: issue 12. With AllowedHosts, the URL's
// host and every redirect's must be on the list, else config_invalid, and
// no request reaches a host off the list.
func TestMetadataFetcherAllowedHosts(t *testing.T) {
	md := newIdP(t, "idp").Metadata()
	hits := map[string]*atomic.Int64{}
	for _, h := range []string{"idp.example.com", "cdn.example.com", "evil.example.com", "internal.example.com"} {
		hits[h] = new(atomic.Int64)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		if host == "" {
			host = r.Host
		}
		if n := hits[host]; n != nil {
			n.Add(1)
		}
		if r.URL.Path == "/creds" {
			http.Redirect(w, r, "https://admin:s3cret-pw@evil.example.com/md", http.StatusFound)
			return
		}
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(md)
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	// at is the metadata URL at host; with to, one that redirects there.
	at := func(host, to string) string {
		u := fmt.Sprintf("https://%s:%d/md", host, port)
		if to != "" {
			u += "?to=" + url.QueryEscape(to)
		}
		return u
	}

	tests := []struct {
		name    string
		url     string
		allowed []string
		want    string // "" means accepted; else a substring of the message
		noHits  string // a host that must get no request
		direct  bool   // refused before any request, so the default client refuses it too
	}{
		{name: "no list: any host", url: at("evil.example.com", "")},
		{name: "host on the list", url: at("idp.example.com", ""), allowed: []string{"idp.example.com"}},
		{name: "list is case-insensitive", url: at("IDP.example.com", ""), allowed: []string{"idp.EXAMPLE.com"}},
		{name: "redirect to a host on the list", url: at("idp.example.com", at("cdn.example.com", "")),
			allowed: []string{"idp.example.com", "cdn.example.com"}},
		{name: "host off the list", url: at("evil.example.com", ""), allowed: []string{"idp.example.com"},
			want: `host "evil.example.com" is not in AllowedHosts`, noHits: "evil.example.com", direct: true},
		{name: "subdomain is not the host", url: at("internal.example.com", ""), allowed: []string{"example.com"},
			want: "not in AllowedHosts", noHits: "internal.example.com", direct: true},
		{name: "redirect to a host off the list", url: at("idp.example.com", at("internal.example.com", "")),
			allowed: []string{"idp.example.com"}, want: "its host is not in AllowedHosts", noHits: "internal.example.com"},
		{name: "second redirect to a host off the list", url: at("idp.example.com", at("cdn.example.com", at("evil.example.com", ""))),
			allowed: []string{"idp.example.com", "cdn.example.com"}, want: "its host is not in AllowedHosts", noHits: "evil.example.com"},
		{name: "empty list", url: at("idp.example.com", ""), allowed: []string{}, want: "AllowedHosts is empty", noHits: "idp.example.com", direct: true},
		{name: "entry with a scheme", url: at("idp.example.com", ""), allowed: []string{"https://idp.example.com"},
			want: "not a host name", noHits: "idp.example.com", direct: true},
		{name: "entry with a port", url: at("idp.example.com", ""), allowed: []string{"idp.example.com:443"}, want: "not a host name", direct: true},
		{name: "wildcard entry", url: at("idp.example.com", ""), allowed: []string{"*.example.com"}, want: "not a host name", direct: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before int64
			if tt.noHits != "" {
				before = hits[tt.noHits].Load()
			}
			for _, client := range []*http.Client{hostsClient(srv), nil} {
				f := &saml.MetadataFetcher{URL: tt.url, AllowedHosts: tt.allowed, Client: client}
				if client == nil && !tt.direct {
					// The default client cannot reach these names; only
					// refusals before any connection are checked with it.
					continue
				}
				got, err := f.Fetch(context.Background())
				if tt.want == "" {
					if err != nil || len(got) == 0 {
						t.Fatalf("Fetch: %v", err)
					}
					continue
				}
				e := checkError(t, err, saml.CodeConfigInvalid)
				checkMessage(t, e, tt.want)
			}
			if tt.noHits != "" {
				if n := hits[tt.noHits].Load() - before; n != 0 {
					t.Errorf("%s got %d requests", tt.noHits, n)
				}
			}
		})
	}

	// [::1] and ::1 are the same entry; credentials stay redacted.
	f := &saml.MetadataFetcher{URL: "https://admin:s3cret-pw@evil.example.com/md", AllowedHosts: []string{"[::1]", "idp.example.com"}}
	_, err := f.Fetch(context.Background())
	if e := checkError(t, err, saml.CodeConfigInvalid); strings.Contains(e.Detail(), "s3cret-pw") {
		t.Errorf("the password is in the error: %s", e.Detail())
	}
	f = &saml.MetadataFetcher{URL: fmt.Sprintf("https://idp.example.com:%d/creds", port), AllowedHosts: []string{"idp.example.com"}, Client: hostsClient(srv)}
	_, err = f.Fetch(context.Background())
	if e := checkError(t, err, saml.CodeConfigInvalid); strings.Contains(e.Detail(), "s3cret-pw") || errors.Is(err, saml.CodeUnavailable) {
		t.Errorf("redirect with a password: %s", e.Detail())
	}
}
