package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestSelftest runs `gateway -selftest` in-process: the demo on free ports,
// both login flows, the refusals and the metrics.
func TestSelftest(t *testing.T) {
	var out bytes.Buffer
	if err := runSelftest(t.Context(), &out, testLogger(t)); err != nil {
		t.Fatalf("%v\n%s", err, out.Bytes())
	}
	var r selftestReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output is not the JSON report: %v\n%s", err, out.Bytes())
	}
	if !r.OK || len(r.Flows) != 5 {
		t.Fatalf("report: %s", out.Bytes())
	}
	for _, f := range r.Flows[:2] {
		if f.UpstreamReceived == nil || f.UpstreamReceived.Email != "alice@example.com" {
			t.Errorf("%s: upstream received %+v", f.Flow, f.UpstreamReceived)
		}
	}
}

// TestRunSelftestFlag runs the command line as `go run . -selftest` would.
func TestRunSelftestFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-selftest", "-log-level", "warn"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.Bytes(), stderr.Bytes())
	}
	if !bytes.Contains(stdout.Bytes(), []byte(`"ok": true`)) {
		t.Fatalf("stdout: %s", stdout.Bytes())
	}
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"-h"}, 0},
		{[]string{"-log-level", "loud"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"-selftest", "-config", "x.yaml"}, 2},
		{[]string{"-config", "/nonexistent/gateway.yaml"}, 1},
		{[]string{"-addr", "0.0.0.0:0"}, 1},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(tt.args, &stdout, &stderr); code != tt.code {
			t.Errorf("run(%q) = %d, want %d\n%s", tt.args, code, tt.code, stderr.Bytes())
		}
	}
}
