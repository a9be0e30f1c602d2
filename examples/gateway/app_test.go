package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/saml/samltest"
)

// TestLogsKeepPersonalDataAtDebug checks that at Info the logs name no
// email, subject or group, and that Debug has them for troubleshooting.
func TestLogsKeepPersonalDataAtDebug(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		t.Run(level.String(), func(t *testing.T) {
			var logs syncBuffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level}))
			e := newTestEnvWithLogger(t, nil, logger)
			resp := samltest.Response{Email: "secret.person@example.com", Groups: []string{"TopSecretGroup"}}
			cookies := e.login(t, resp)
			e.get("/", cookies, nil)
			samltest.PostForm(e.handler, testACS, e.response(t, samltest.Response{Email: "secret.person@example.com", EmailVerified: "false"}), "")

			out := logs.Bytes()
			for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
				var m map[string]any
				if err := json.Unmarshal(line, &m); err != nil {
					t.Fatalf("log line is not JSON: %s", line)
				}
			}
			leaked := bytes.Contains(out, []byte("secret.person")) || bytes.Contains(out, []byte("TopSecretGroup"))
			if level == slog.LevelInfo && leaked {
				t.Fatalf("personal data logged at Info:\n%s", out)
			}
			if level == slog.LevelDebug && !leaked {
				t.Fatalf("Debug logs do not show the identity:\n%s", out)
			}
			if level == slog.LevelInfo && !strings.Contains(string(out), `"level":"INFO"`) {
				t.Fatalf("no Info line for the logins:\n%s", out)
			}
		})
	}
}
