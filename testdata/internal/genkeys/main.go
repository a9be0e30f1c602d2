// Command genkeys writes the test key pairs of testdata/keys. RSA key
// generation is not deterministic, so the keys are generated once and
// committed; run this only to replace them, then regenerate every fixture
// signed with them (go generate ./testdata/ and testdata/xmlsec/make.sh):
//
//	cd testdata && go run ./internal/genkeys -force
//
// Each pair is NAME.key.pem (PKCS #8) and NAME.crt.pem, a self-signed
// certificate shaped like JumpCloud's (OU=JumpCloudSAMLIdP,
// CN=JumpCloudSAMLUser, no extensions). THESE KEYS ARE PUBLIC: they are
// for tests only.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/samlgate/samlgate/saml/samltest"
)

var (
	notBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
)

type pair struct {
	name     string
	bits     int
	notAfter time.Time
}

var pairs = []pair{
	{"idp", 2048, notAfter},  // the trusted IdP key
	{"idp2", 2048, notAfter}, // the rotation (next) key
	{"weak", 1024, notAfter}, // too small
	{"expired", 2048, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)},  // expired at the pinned clock
	{"expiring", 2048, time.Date(2026, 1, 25, 0, 0, 0, 0, time.UTC)}, // expires 10 days after it
}

func main() {
	out := flag.String("out", "keys", "directory to write the key pairs to")
	force := flag.Bool("force", false, "overwrite existing keys")
	flag.Parse()
	if err := run(*out, *force); err != nil {
		log.Fatal(err)
	}
}

func run(dir string, force bool) error {
	if !force {
		if _, err := os.Stat(filepath.Join(dir, "idp.key.pem")); err == nil {
			return errors.New("keys exist; pass -force to replace them (and regenerate every fixture)")
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var idpCert *x509.Certificate
	for _, p := range pairs {
		key, cert, err := samltest.NewKeyPair(p.bits, notBefore, p.notAfter, "")
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		if p.name == "idp" {
			idpCert = cert
		}
		if err := write(dir, p.name, key, cert.Raw); err != nil {
			return err
		}
	}

	// The attacker clones the IdP certificate (subject, issuer, serial
	// number, validity) around its own key: only the key differs, so a
	// verifier that trusts a certificate by its names is fooled.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	tmpl := *idpCert
	tmpl.PublicKey = &key.PublicKey // the parent's key must match the signer
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	return write(dir, "attacker", key, der)
}

func write(dir, name string, key *rsa.PrivateKey, certDER []byte) error {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})
	if err := os.WriteFile(filepath.Join(dir, name+".key.pem"), keyPEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".crt.pem"), certPEM, 0o644)
}
