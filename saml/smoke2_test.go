package saml_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
)

func TestSmokeReal(t *testing.T) {
	for _, d := range []struct{ name, acs string }{{"jumpcloud", "http://localhost"}, {"google", "https://example.com/accounts/bfeb03a0-6022-4862-9bbf-5a4d7608db35/saml/acs"}, {"okta", "http://localhost:8080"}} {
		dir := "../testdata/real-idps/" + d.name + "/"
		md, _ := os.ReadFile(dir + "metadata.xml")
		var p struct{ SP string `json:"sp_entity_id"`; Now time.Time `json:"now"` }
		b, _ := os.ReadFile(dir + "params.json")
		json.Unmarshal(b, &p)
		conn, err := saml.NewConnection(saml.ConnectionConfig{
			Name: d.name, SPEntityID: p.SP, ACSURL: d.acs, IdPMetadataXML: md, EmailVerified: saml.EmailVerifiedTrust,
			Now: func() time.Time { return p.Now },
		})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(dir + "assertion.xml")
		id, err := conn.Verify(context.Background(), base64.StdEncoding.EncodeToString(raw))
		if err != nil {
			t.Logf("%s: %s", d.name, err.(*saml.Error).Detail())
			continue
		}
		t.Logf("%s: OK %+v", d.name, id)
	}
}
