package main

import (
	"context"
	"maps"
	"strings"
	"testing"
)

// TestConfigLogoutURL: a connection's logout_url (https, or http on a
// loopback host) reaches gateway.Config.LogoutURLs, and app_name its
// AppName; anything else is refused at load.
func TestConfigLogoutURL(t *testing.T) {
	with := func(old, new string) string {
		return strings.Replace(strings.Replace(goodYAML, "KEY", testKey32, 1), old, new, 1)
	}
	const at = "    sp_entity_id: urn:samlgate:acme"
	for _, tc := range []struct {
		name, doc, wantErr string
		want               map[string]string
	}{
		{name: "none", doc: with("", ""), want: map[string]string{}},
		{name: "https", doc: with(at, at+"\n    logout_url: https://console.jumpcloud.com/userconsole"), want: map[string]string{"acme": "https://console.jumpcloud.com/userconsole"}},
		{name: "loopback http", doc: with(at, at+"\n    logout_url: http://127.0.0.1:8081/"), want: map[string]string{"acme": "http://127.0.0.1:8081/"}},
		{name: "http", doc: with(at, at+"\n    logout_url: http://console.jumpcloud.com/"), wantErr: "connections[0].logout_url: must be https"},
		{name: "relative", doc: with(at, at+"\n    logout_url: /bye"), wantErr: "connections[0].logout_url: \"/bye\" is not an absolute URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig([]byte(tc.doc), writeConfigDir(t))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseConfig: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := logoutURLs(c.Connections); !maps.Equal(got, tc.want) {
				t.Errorf("logoutURLs = %v, want %v", got, tc.want)
			}
		})
	}
	c, err := parseConfig([]byte(with("default_return_to:", "app_name: Acme Reports\ndefault_return_to:")), writeConfigDir(t))
	if err != nil || c.AppName != "Acme Reports" {
		t.Fatalf("app_name: %q, %v", c.AppName, err)
	}
	if _, err := newApp(context.Background(), c, newJSONLogger(&syncBuffer{}), nil); err != nil {
		t.Errorf("newApp with app_name: %v", err)
	}
}
