// Package testdata holds samlgate's test fixtures; README.md describes
// them. This file only carries the go:generate directive that writes the
// golden responses (and the xmlsec1 templates) from the committed keys:
//
//	go generate ./testdata/
package testdata

//go:generate go run ./internal/gengolden
