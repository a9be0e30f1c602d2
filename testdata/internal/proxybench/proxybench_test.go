package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A wrk 4.1.0 report with --latency, as wrk prints it.
const wrkOutput = `Running 3s test @ http://127.0.0.1:18710/
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   268.93us  312.06us   8.27ms   97.61%
    Req/Sec     3.96k   256.34     4.30k    80.00%
  Latency Distribution
     50%  220.00us
     75%  251.00us
     90%  322.00us
     99%    1.43ms
  11834 requests in 3.00s, 28.11MB read
  Non-2xx or 3xx responses: 2
Requests/sec:   3942.75
Transfer/sec:      9.37MB
`

func TestParseWrk(t *testing.T) {
	s, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := sample{p50: 220 * time.Microsecond, p90: 322 * time.Microsecond, p99: 1430 * time.Microsecond,
		rps: 3942.75, requests: 11834, non2xx: 2}
	if s != want {
		t.Errorf("parseWrk = %+v, want %+v", s, want)
	}
	for _, bad := range []string{"", "unable to connect to 127.0.0.1:1 Connection refused", strings.Replace(wrkOutput, "50%", "51%", 1)} {
		if _, err := parseWrk(bad); err == nil {
			t.Errorf("parseWrk(%q) accepted", bad)
		}
	}
}

func TestParseStatTicks(t *testing.T) {
	// A process whose name holds spaces and parentheses.
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1234 0 0 0 377 41 0 0 20 0 3 0 1000 1000000 500 18446744073709551615"
	got, err := parseStatTicks(stat)
	if err != nil || got != 377+41 {
		t.Errorf("parseStatTicks = %d, %v; want 418", got, err)
	}
	if _, err := parseStatTicks("4242 (x) S 1"); err == nil {
		t.Error("a short stat line was read")
	}
}

func TestReport(t *testing.T) {
	s := func(p50 time.Duration, rps float64) sample {
		return sample{p50: p50, p90: 2 * p50, p99: 4 * p50, rps: rps, cpuPerReq: p50 / 2}
	}
	targets := []target{{name: "gateway"}, {name: "bare"}}
	rounds := [][]sample{
		{s(200*time.Microsecond, 4000), s(190*time.Microsecond, 4100)},
		{s(300*time.Microsecond, 3000), s(200*time.Microsecond, 4000)},
		{s(210*time.Microsecond, 3900), s(210*time.Microsecond, 3900)},
	}
	var b bytes.Buffer
	report(&b, 1, options{duration: 3 * time.Second}, targets, rounds)
	out := b.String()
	// Medians: gateway p50 210 µs; per-round p50 ratios 1.053, 1.5, 1 -> 1.053.
	for _, want := range []string{"| gateway | 210 µs | 420 µs | 840 µs | 3900 | 105 µs | 0 |", "| gateway / bare | 1.053 | 1.053 | 1.053 | 0.976 | 1.053 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
