package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// parseInterspersed parses flags that may come before or after the
// positional arguments ("verify FILE -json"), as people type them. Every
// argument after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by usageError
	return fs
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// timeFlag is the -now flag.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339Nano)
}

func (f *timeFlag) Set(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time such as 2026-01-15T10:00:00Z", v)
	}
	f.t = t
	return nil
}

// clock returns the clock -now selects, and how to name it.
func (f *timeFlag) clock() (now func() time.Time, source string) {
	if f.t.IsZero() {
		return time.Now, "the system clock"
	}
	t := f.t
	return func() time.Time { return t }, "-now"
}
