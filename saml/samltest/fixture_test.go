package samltest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/samlgate/samlgate/saml/samltest"
)

// TestFixtureSettings checks that the fixture settings mint the committed
// golden responses (testdata/README.md) byte for byte.
func TestFixtureSettings(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	for _, tc := range []struct {
		file, key string
		edit      func(r *samltest.Response)
	}{
		{"jumpcloud-default.xml", "idp", func(r *samltest.Response) {}},
		{"sp-initiated.xml", "idp", func(r *samltest.Response) { r.InResponseTo = samltest.FixtureRequestID }},
		{"rotated-key.xml", "idp2", func(r *samltest.Response) {}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			idp, err := samltest.LoadFixtureIdP(filepath.Join(root, "keys"), tc.key)
			if err != nil {
				t.Fatal(err)
			}
			r := samltest.FixtureResponse()
			tc.edit(&r)
			got, err := idp.ResponseXML(r)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(root, "golden", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("differs from testdata/golden/%s", tc.file)
			}
		})
	}

	if _, err := samltest.LoadFixtureIdP(filepath.Join(root, "keys"), "nonexistent"); err == nil {
		t.Error("LoadFixtureIdP: no error for a missing key pair")
	}
	a, b := samltest.FixtureResponse(), samltest.FixtureResponse()
	a.Groups[0] = "changed"
	if b.Groups[0] != "Engineering" {
		t.Error("FixtureResponse returns a shared Groups slice")
	}
}
