package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestExitStatus checks the exit statuses scripts rely on: 0 when every
// file was accepted, 1 when any was rejected, 2 for a usage or
// configuration error, which -json reports as one config_invalid object.
func TestExitStatus(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		message string // for exit status 2: in the message
	}{
		{"all_accepted", append(append([]string{"verify"}, acme("-now", pinned)...), golden+"jumpcloud-default.xml", golden+"response-signed.xml"), exitOK, ""},
		{"one_rejected", append(append([]string{"verify"}, acme("-now", pinned)...), golden+"jumpcloud-default.xml", golden+"wrong-key.xml"), exitRejected, ""},
		{"flags_after_files", append([]string{"verify", golden + "jumpcloud-default.xml"}, acme("-now", pinned)...), exitOK, ""},
		{"no_command", nil, exitUsage, ""},
		{"unknown_command", []string{"check"}, exitUsage, "unknown command"},
		{"no_file", append([]string{"verify"}, acme()...), exitUsage, "at least one FILE"},
		{"missing_file", append(append([]string{"verify"}, acme()...), "testdata/nonexistent.xml"), exitUsage, "nonexistent.xml"},
		{"stdin_twice", append(append([]string{"verify"}, acme()...), "-", "-"), exitUsage, "more than once"},
		{"unknown_flag", []string{"verify", "-idp-certificate", "x", "f"}, exitUsage, "-idp-certificate"},
		{"bad_now", append(append([]string{"verify"}, acme("-now", "yesterday")...), "f"), exitUsage, "RFC 3339"},
		{"missing_settings", []string{"verify", "-idp-cert", keys + "idp.crt.pem", golden + "jumpcloud-default.xml"}, exitUsage, "missing -sp-entity-id, -acs-url, -idp-entity-id"},
		{"private_key_as_cert", append(append([]string{"verify"}, acme("-idp-cert", keys+"idp.key.pem")...), golden+"jumpcloud-default.xml"), exitUsage, "is this the private key?"},
		{"expired_certificate_configured", []string{"verify", "-sp-entity-id", spEntityID, "-acs-url", acsURL, "-idp-entity-id", idpEntity, "-idp-cert", keys + "expired.crt.pem", "-now", pinned, golden + "expired-cert.xml"}, exitUsage, "certificate_expired: IdP certificate"},
		{"weak_key_configured", append(append([]string{"verify"}, acme("-idp-cert", keys+"weak.crt.pem")...), golden+"jumpcloud-default.xml"), exitUsage, "1024-bit RSA key"},
		{"bad_policy", append(append([]string{"verify"}, acme("-signature", "assertions")...), golden+"jumpcloud-default.xml"), exitUsage, "Signature \"assertions\""},
		{"config_needs_connection", []string{"verify", "-config", "testdata/gateway.yaml", golden + "jumpcloud-default.xml"}, exitUsage, "choose one with -connection NAME"},
		{"config_unknown_connection", []string{"verify", "-config", "testdata/gateway.yaml", "-connection", "initech", golden + "jumpcloud-default.xml"}, exitUsage, "no connection \"initech\""},
		{"config_missing", []string{"verify", "-config", "testdata/nonexistent.yaml", golden + "jumpcloud-default.xml"}, exitUsage, "-config"},
		{"idp_entity_id_as_sp_entity_id", append(append([]string{"verify"}, acme("-sp-entity-id", idpEntity)...), golden+"jumpcloud-default.xml"), exitUsage, "IdPEntityID and SPEntityID are both"},
		{"inspect_two_files", []string{"inspect", golden + "jumpcloud-default.xml", golden + "wrong-key.xml"}, exitUsage, "exactly one FILE"},
		{"metadata_with_file", append(append([]string{"metadata"}, acme()...), golden+"jumpcloud-default.xml"), exitUsage, "takes no FILE"},
		{"metadata_without_acs_url", []string{"metadata", "-sp-entity-id", spEntityID}, exitUsage, "missing -acs-url"},
		{"metadata_relative_acs_url", []string{"metadata", "-sp-entity-id", spEntityID, "-acs-url", "/login/callback"}, exitUsage, "not an absolute URL"},
		{"unknown_idp_kind", append(append([]string{"verify"}, acme("-idp", "azure")...), golden+"jumpcloud-default.xml"), exitUsage, `IdP "azure" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := samlcheck(t, nil, tt.args...)
			if res.code != tt.code {
				t.Fatalf("exit status %d, want %d\nstdout: %s\nstderr: %s", res.code, tt.code, res.stdout, res.stderr)
			}
			if tt.code != exitUsage || tt.args == nil {
				return
			}
			if !strings.Contains(res.stderr, tt.message) {
				t.Errorf("stderr %q does not contain %q", res.stderr, tt.message)
			}
			if res.stdout != "" {
				t.Errorf("a usage error wrote to stdout: %s", res.stdout)
			}

			if tt.args[0] == "metadata" {
				return // metadata prints XML and takes no -json
			}
			// With -json: one object on stdout, code config_invalid.
			res = samlcheck(t, nil, append(tt.args, "-json")...)
			if res.code != exitUsage {
				t.Fatalf("-json: exit status %d", res.code)
			}
			var obj map[string]any
			if err := json.Unmarshal([]byte(res.stdout), &obj); err != nil || strings.Count(strings.TrimSpace(res.stdout), "\n") != 0 {
				t.Fatalf("-json: not one JSON object: %v\n%s", err, res.stdout)
			}
			e, _ := obj["error"].(map[string]any)
			if obj["ok"] != false || e == nil || e["code"] != "config_invalid" || !strings.Contains(e["message"].(string), tt.message) {
				t.Errorf("-json: %s", res.stdout)
			}
		})
	}
}

// TestUsage checks that help prints the usage with every command and flag.
func TestUsage(t *testing.T) {
	res := runInProcess(nil, "help")
	if res.code != exitOK {
		t.Fatalf("exit status %d", res.code)
	}
	for _, want := range []string{
		"samlcheck verify   [config flags] [-now RFC3339] [-request-id ID]... [-json] FILE...",
		"samlcheck inspect  [-idp-cert PEM]... [-now RFC3339] [-json] FILE",
		"samlcheck metadata [config flags]",
		"-idp-cert PEM", "-idp-metadata FILE", "-idp-entity-id", "-idp-sso-url", "-sp-entity-id", "-acs-url",
		"-allow-sha1", "-email-verified", "-groups-attr NAME", "-allowed-group NAME", "-config FILE",
		"-email-optional", "-idp KIND",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}
