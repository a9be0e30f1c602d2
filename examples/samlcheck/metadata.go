package main

import (
	"errors"

	"github.com/samlgate/samlgate/saml"
)

func cmdMetadata(e *env, args []string) int {
	fs := newFlagSet("metadata")
	var cf connFlags
	cf.register(fs)
	var now timeFlag
	fs.Var(&now, "now", "")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return e.usageError(err, "")
	}
	if len(rest) > 0 {
		return e.usageError(errors.New("metadata takes no FILE"), "")
	}
	// Only the SP's settings: the IdP's entity ID and certificate come
	// from the IdP application, which the admin creates with this
	// metadata. -now and the IdP flags are accepted and unused.
	cfg, err := cf.build(fs, false)
	if err != nil {
		return e.configFailure(err)
	}
	out, err := saml.SPMetadata(cfg.SPEntityID, cfg.ACSURL, cfg.Signature)
	if err != nil {
		return e.configFailure(err)
	}
	if _, err := e.stdout.Write(out); err != nil {
		return exitUsage
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		_, _ = e.stdout.Write([]byte("\n"))
	}
	return exitOK
}
