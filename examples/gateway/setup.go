package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/samlgate/samlgate/saml/gateway"
)

// The setup assistant (gateway.SetupHandler) on the admin listener, under
// setupPath. It shows every connection's configuration and recent
// refusals and starts test logins, so it is served only with a setup token
// (setup_token, setup_token_file or $SAMLGATE_SETUP_TOKEN), checked as the
// password of HTTP Basic authentication (any user name): browsers ask for
// it and remember it for the listener, and it works through SSH tunnels
// and reverse proxies alike. Without a token the assistant is off (404):
// never open by default. Being on the admin listener, the operator's
// network, is not taken as authorization: a reverse proxy on the same host
// would make every request look local.
const (
	setupPath = "/setup/"
	// setupTokenEnv supplies the setup token when the file names none.
	setupTokenEnv = "SAMLGATE_SETUP_TOKEN"
	// minSetupTokenLen refuses tokens short enough to guess.
	minSetupTokenLen = 16
	setupRealm       = `Basic realm="samlgate setup assistant", charset="UTF-8"`
)

// setupToken is the configured setup token: setup_token, else the first
// line of setup_token_file, else $SAMLGATE_SETUP_TOKEN; "" when none is
// set. Errors never quote the token.
func (c *Config) setupToken() (string, error) {
	if c.SetupToken != "" && c.SetupTokenFile != "" {
		return "", errors.New("setup_token and setup_token_file: give one of them")
	}
	tok, key := c.SetupToken, "setup_token"
	if c.SetupTokenFile != "" {
		data, err := os.ReadFile(c.resolve(c.SetupTokenFile))
		if err != nil {
			return "", fmt.Errorf("setup_token_file: %w", err)
		}
		tok, key = strings.TrimSpace(string(data)), "setup_token_file"
	}
	if tok == "" {
		tok, key = strings.TrimSpace(os.Getenv(setupTokenEnv)), "$"+setupTokenEnv
	}
	if tok != "" && len(tok) < minSetupTokenLen {
		return "", fmt.Errorf("%s: the setup token is %d characters, want at least %d (generate one with: openssl rand -hex 16)", key, len(tok), minSetupTokenLen)
	}
	return tok, nil
}

// setupHandler is the setup assistant behind the setup token, or nil
// when no token is configured.
func (a *app) setupHandler() http.Handler {
	if a.setupToken == "" {
		a.logger.Info("setup assistant off: set setup_token_file (or setup_token, or $" + setupTokenEnv + ") to serve it at " + setupPath + " on admin_listen")
		return nil
	}
	a.logger.Info("setup assistant on admin_listen", "path", setupPath)
	want := sha256.Sum256([]byte(a.setupToken))
	assistant := a.gw.SetupHandler(gateway.SetupConfig{
		Authorize: func(r *http.Request) bool {
			_, pass, ok := r.BasicAuth()
			got := sha256.Sum256([]byte(pass))
			return ok && subtle.ConstantTimeCompare(got[:], want[:]) == 1
		},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); !ok {
			// No credentials yet: ask the browser for them. Wrong ones
			// get the assistant's 403.
			w.Header().Set("WWW-Authenticate", setupRealm)
			http.Error(w, "the setup assistant needs the setup token (as the password)", http.StatusUnauthorized)
			return
		}
		assistant.ServeHTTP(w, r)
	})
}
