package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testSetupToken = "0123456789abcdef0123"

func TestSetupToken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "setup.token"), []byte(testSetupToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		cfg     Config
		env     string
		want    string
		wantErr string
	}{
		{name: "none: off", want: ""},
		{name: "inline", cfg: Config{SetupToken: testSetupToken}, want: testSetupToken},
		{name: "file", cfg: Config{SetupTokenFile: "setup.token"}, want: testSetupToken},
		{name: "environment", env: testSetupToken, want: testSetupToken},
		{name: "file wins over environment", cfg: Config{SetupTokenFile: "setup.token"}, env: "another-token-0123456789", want: testSetupToken},
		{name: "both keys", cfg: Config{SetupToken: testSetupToken, SetupTokenFile: "setup.token"}, wantErr: "give one of them"},
		{name: "too short", cfg: Config{SetupToken: "admin"}, wantErr: "setup_token: the setup token is 5 characters"},
		{name: "short in environment", env: "admin", wantErr: "$SAMLGATE_SETUP_TOKEN"},
		{name: "missing file", cfg: Config{SetupTokenFile: "nope.token"}, wantErr: "setup_token_file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(setupTokenEnv, tt.env)
			tt.cfg.baseDir = dir
			got, err := tt.cfg.setupToken()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "admin\"") || strings.Contains(err.Error(), testSetupToken) {
					t.Errorf("the error quotes the token: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestAdminSetupAssistant(t *testing.T) {
	t.Setenv(setupTokenEnv, "")
	get := func(h http.Handler, user, pass string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9090/setup/?connection=test", nil)
		if user != "" || pass != "" {
			req.SetBasicAuth(user, pass)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	t.Run("off without a token", func(t *testing.T) {
		e := newTestEnv(t, nil)
		if res := get(e.app.adminHandler(), "admin", testSetupToken); res.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want 404", res.StatusCode)
		}
	})
	e := newTestEnv(t, func(c *Config) { c.SetupToken = testSetupToken })
	h := e.app.adminHandler()
	for _, tt := range []struct {
		name, user, pass string
		want             int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong token", "admin", "0123456789abcdef0124", http.StatusForbidden},
		{"token as the user name", testSetupToken, "", http.StatusForbidden},
		{"token prefix", "admin", testSetupToken[:16], http.StatusForbidden},
		{"token", "admin", testSetupToken, http.StatusOK},
		{"token, any user name", "", testSetupToken, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := get(h, tt.user, tt.pass)
			body := setupBody(t, res)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.want, body)
			}
			if tt.want == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: %v", res.Header)
			}
			if shows := strings.Contains(body, testSPEntity); shows != (tt.want == http.StatusOK) {
				t.Errorf("the page shows the SP entity ID: %v, want %v", shows, tt.want == http.StatusOK)
			}
		})
	}
}

func setupBody(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
