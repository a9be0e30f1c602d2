// Package readmetest compiles the complete programs of README.md, so that
// the quickstart a newcomer copies always builds against the current API.
package readmetest

import (
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goBlock is a fenced Go block of the README.
var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

func TestReadmeProgramsBuild(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var programs []string
	for _, m := range goBlock.FindAllSubmatch(readme, -1) {
		if src := string(m[1]); strings.HasPrefix(src, "package main\n") {
			programs = append(programs, src)
		}
	}
	if len(programs) < 2 {
		t.Fatalf("README.md has %d complete programs; want the gateway and the bare Verify quickstarts", len(programs))
	}
	for i, src := range programs {
		formatted, err := format.Source([]byte(src))
		if err != nil {
			t.Fatalf("program %d does not parse: %v", i+1, err)
		}
		if !bytes.Equal(formatted, []byte(src)) {
			t.Errorf("program %d is not gofmt-clean", i+1)
		}
		// The program is built inside the module (a temp dir under this
		// package), so that it resolves the library as users' code would.
		dir, err := os.MkdirTemp(".", "program")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("go", "vet", "./"+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("program %d does not build:\n%s", i+1, out)
		}
	}
}
