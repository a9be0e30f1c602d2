package main

import (
	"errors"
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
	cfg, err := cf.build(fs)
	if err != nil {
		return e.configFailure(err)
	}
	clock, _ := now.clock()
	conn, err := newConnection(e, cfg, clock)
	if err != nil {
		return e.configFailure(err)
	}
	out, err := conn.Metadata()
	if err != nil {
		return e.usageError(err, "")
	}
	if _, err := e.stdout.Write(out); err != nil {
		return exitUsage
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		_, _ = e.stdout.Write([]byte("\n"))
	}
	return exitOK
}
