package main

import (
	"fmt"
	"strings"
	"time"
)

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// relative says how t relates to now, in words.
func relative(t, now time.Time) string {
	d := now.Sub(t).Round(time.Second)
	switch {
	case d > 0:
		return fmtDuration(d) + " before now"
	case d < 0:
		return fmtDuration(-d) + " after now"
	}
	return "now"
}

// fmtDuration is time.Duration.String without the zero units ("15m30s",
// "2h", "3d4h").
func fmtDuration(d time.Duration) string {
	if d >= 48*time.Hour {
		days := d / (24 * time.Hour)
		rest := (d % (24 * time.Hour)).Round(time.Hour)
		if rest == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, rest/time.Hour)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
