package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestFixturesUpToDate fails when the committed fixtures differ from what
// the generator writes: run go generate ./examples/samlcheck/.
func TestFixturesUpToDate(t *testing.T) {
	files, err := Generate(filepath.Join("..", "..", "..", "..", "testdata", "keys"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", "testdata", f.Path))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./examples/samlcheck/)", f.Path, err)
			continue
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s is not what genfixtures writes: run go generate ./examples/samlcheck/", f.Path)
		}
	}
}

// TestDeterministic checks that two runs write the same bytes.
func TestDeterministic(t *testing.T) {
	keys := filepath.Join("..", "..", "..", "..", "testdata", "keys")
	a, err := Generate(keys)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(keys)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s differs between runs", a[i].Path)
		}
	}
}
