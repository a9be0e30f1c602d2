package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// bin is the samlcheck command, built once by TestMain: the diagnoses are
// tested by running it, as an admin or a script does.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "samlcheck-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "samlcheck")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building samlcheck:", err)
		return 1
	}
	return m.Run()
}

// The fixtures: the standard responses are the repository's
// testdata/golden (testdata/README.md there), and testdata here holds only
// what samlcheck adds (other mistakes, other capture forms). Their
// settings are samltest's Fixture* ones.
const (
	golden     = "../../testdata/golden/"
	keys       = "../../testdata/keys/"
	acsURL     = samltest.FixtureACSURL
	spEntityID = samltest.FixtureSPEntityID
	idpEntity  = samltest.FixtureIdPEntityID
)

// pinned is 30 s after the fixtures were issued.
var pinned = samltest.FixtureClock().Add(30 * time.Second).Format(time.RFC3339)

// acme is the acme connection as flags, the way the README shows it.
func acme(extra ...string) []string {
	args := []string{
		"-sp-entity-id", spEntityID,
		"-acs-url", acsURL,
		"-idp-entity-id", idpEntity,
		"-idp-cert", keys + "idp.crt.pem",
	}
	return append(args, extra...)
}

type result struct {
	stdout, stderr string
	code           int
}

// samlcheck runs the built command.
func samlcheck(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running samlcheck: %v", err)
	}
	return result{out.String(), errb.String(), code}
}

// runInProcess calls run, for the cases that need no process.
func runInProcess(stdin io.Reader, args ...string) result {
	var out, errb bytes.Buffer
	code := run(args, stdin, &out, &errb)
	return result{out.String(), errb.String(), code}
}

// jsonLines decodes verify -json output: one object per line.
func jsonLines(t *testing.T, out string) []fileResult {
	t.Helper()
	var results []fileResult
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r fileResult
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("not one JSON object per line: %v\n%s", err, sc.Text())
		}
		results = append(results, r)
	}
	return results
}

func fingerprint(t *testing.T, name string) string {
	t.Helper()
	idp, err := samltest.LoadFixtureIdP(keys, name)
	if err != nil {
		t.Fatal(err)
	}
	return saml.Fingerprint(idp.Certificate)
}
