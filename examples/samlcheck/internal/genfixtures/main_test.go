package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

var (
	keysDir   = filepath.Join("..", "..", "..", "..", "testdata", "keys")
	goldenDir = filepath.Join("..", "..", "..", "..", "testdata", "golden")
	outDir    = filepath.Join("..", "..", "testdata")
)

// handWritten are the files of samlcheck's testdata that genfixtures does
// not write: the connection settings.
var handWritten = map[string]bool{"gateway.yaml": true, "acme.json": true}

// TestFixturesUpToDate fails when the committed fixtures differ from what
// the generator writes (run go generate ./examples/samlcheck/), or when
// testdata holds a file it no longer writes, such as a copy of a golden
// response (read those from testdata/golden of the repository instead).
func TestFixturesUpToDate(t *testing.T) {
	files, err := Generate(keysDir, goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	generated := map[string]bool{}
	for _, f := range files {
		generated[f.Path] = true
		got, err := os.ReadFile(filepath.Join(outDir, f.Path))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./examples/samlcheck/)", f.Path, err)
			continue
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s is not what genfixtures writes: run go generate ./examples/samlcheck/", f.Path)
		}
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !generated[e.Name()] && !handWritten[e.Name()] {
			t.Errorf("%s is not generated any more: delete it", e.Name())
		}
	}
}

// TestDeterministic checks that two runs write the same bytes.
func TestDeterministic(t *testing.T) {
	a, err := Generate(keysDir, goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(keysDir, goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s differs between runs", a[i].Path)
		}
	}
}
