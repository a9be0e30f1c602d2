package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// figure is one column of the report.
type figure struct {
	name   string
	value  func(sample) float64
	format func(float64) string
}

var figures = []figure{
	{"p50", func(s sample) float64 { return float64(s.p50) }, us},
	{"p90", func(s sample) float64 { return float64(s.p90) }, us},
	{"p99", func(s sample) float64 { return float64(s.p99) }, us},
	{"req/s", func(s sample) float64 { return s.rps }, func(v float64) string { return fmt.Sprintf("%.0f", v) }},
	{"CPU per request", func(s sample) float64 { return float64(s.cpuPerReq) }, us},
}

// report prints, for one connection count, the medians over the rounds of
// each proxy's figures, and the medians of the per-round ratios of the
// gateway (targets[0]) to each other proxy.
func report(w io.Writer, conns int, o options, targets []target, rounds [][]sample) {
	fmt.Fprintf(w, "\n%d connection(s): %d rounds of %s, medians\n\n", conns, len(rounds), o.duration)
	row(w, "proxy", "non-2xx", func(f figure) string { return f.name })
	row(w, "---", "---:", func(figure) string { return "---:" })
	for i, t := range targets {
		var non2xx int64
		for _, r := range rounds {
			non2xx += r[i].non2xx
		}
		row(w, t.name, fmt.Sprint(non2xx), func(f figure) string {
			return f.format(median(rounds, func(r []sample) float64 { return f.value(r[i]) }))
		})
	}
	fmt.Fprintln(w)
	row(w, "gateway / other, median of per-round ratios", "", func(f figure) string { return f.name })
	row(w, "---", "", func(figure) string { return "---:" })
	for i := 1; i < len(targets); i++ {
		row(w, "gateway / "+targets[i].name, "", func(f figure) string {
			return fmt.Sprintf("%.3f", median(rounds, func(r []sample) float64 { return f.value(r[0]) / f.value(r[i]) }))
		})
	}
}

// row prints one Markdown table row: first, a cell per figure, last (when
// not empty).
func row(w io.Writer, first, last string, cell func(figure) string) {
	cells := []string{first}
	for _, f := range figures {
		cells = append(cells, cell(f))
	}
	if last != "" {
		cells = append(cells, last)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

// median is the median over the rounds of f.
func median(rounds [][]sample, f func([]sample) float64) float64 {
	v := make([]float64, len(rounds))
	for i, r := range rounds {
		v[i] = f(r)
	}
	slices.Sort(v)
	switch {
	case len(v) == 0:
		return 0
	case len(v)%2 == 1:
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// us formats nanoseconds as microseconds.
func us(ns float64) string { return fmt.Sprintf("%.0f µs", ns/float64(time.Microsecond)) }
