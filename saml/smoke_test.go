package saml_test

import (
	"context"
	"encoding/base64"
	"os"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
)

func TestSmokeGolden(t *testing.T) {
	cert, _ := os.ReadFile("../testdata/keys/idp.crt.pem")
	now := time.Date(2026, 1, 15, 10, 0, 30, 0, time.UTC)
	for _, f := range []string{"jumpcloud-default", "response-signed", "both-signed", "sha1", "no-email-verified", "groups-1000", "groups-1000-response-signed", "unsigned", "wrong-key", "rotated-key", "sp-initiated", "request-denied", "email-verified-false"} {
		conn, err := saml.NewConnection(saml.ConnectionConfig{
			Name: "acme", SPEntityID: "urn:samlgate:acme", ACSURL: "https://auth.example.com/login/callback?connection=acme",
			IdPEntityID: "https://sso.jumpcloud.com/saml2/acme", IdPCertificatesPEM: [][]byte{cert},
			Now: func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile("../testdata/golden/" + f + ".xml")
		id, err := conn.Verify(context.Background(), base64.StdEncoding.EncodeToString(raw))
		if err != nil {
			t.Logf("%s: %v", f, err)
			if e, ok := err.(*saml.Error); ok {
				t.Logf("   detail: %s", e.Detail())
			}
			continue
		}
		t.Logf("%s: OK %s %s %v groups=%d roles=%v", f, id.Subject, id.Email, id.EmailVerified, len(id.Groups), id.Roles)
	}
}
