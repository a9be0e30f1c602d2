package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// sample is one wrk run against one proxy.
type sample struct {
	p50, p90, p99 time.Duration
	rps           float64
	requests      int64
	non2xx        int64
	cpuPerReq     time.Duration // the proxy process's CPU time per request
}

// measure runs o.rounds rounds at conns connections: each round runs wrk
// once against every target, starting one later in the list each round.
// It returns the samples by round, in targets' order. One short warm-up
// run per target comes first.
func measure(targets []target, cookie string, conns int, o options) ([][]sample, error) {
	for _, t := range targets {
		if _, err := wrkRun(t, cookie, conns, time.Second); err != nil {
			return nil, err
		}
	}
	out := make([][]sample, o.rounds)
	for r := range o.rounds {
		out[r] = make([]sample, len(targets))
		for k := range targets {
			i := (r + k) % len(targets)
			s, err := wrkRun(targets[i], cookie, conns, o.duration)
			if err != nil {
				return nil, err
			}
			out[r][i] = s
		}
		fmt.Fprintf(os.Stderr, "proxybench: %d connections: round %d of %d\n", conns, r+1, o.rounds)
	}
	return out, nil
}

// wrkRun runs wrk, pinned to CPU 1, against t with the session cookie.
func wrkRun(t target, cookie string, conns int, d time.Duration) (sample, error) {
	before, err := cpuTicks(t.pid)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", t.name, err)
	}
	out, err := exec.Command("taskset", "-c", "1", "wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+d.String(),
		"--latency", "-H", "Cookie: "+cookie, t.url).Output()
	if err != nil {
		return sample{}, fmt.Errorf("wrk against %s: %w", t.name, err)
	}
	after, err := cpuTicks(t.pid)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", t.name, err)
	}
	s, err := parseWrk(string(out))
	if err != nil {
		return sample{}, fmt.Errorf("wrk against %s: %w", t.name, err)
	}
	if s.requests > 0 {
		s.cpuPerReq = time.Duration((after - before) * int64(time.Second) / clockTicks / s.requests)
	}
	return s, nil
}

// parseWrk reads wrk --latency's report: the 50/90/99% latencies, the
// requests and requests per second, and the non-2xx answers.
func parseWrk(out string) (sample, error) {
	var s sample
	found := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && (f[0] == "50%" || f[0] == "90%" || f[0] == "99%"):
			d, err := time.ParseDuration(f[1])
			if err != nil {
				return s, fmt.Errorf("latency %q: %w", f[1], err)
			}
			*map[string]*time.Duration{"50%": &s.p50, "90%": &s.p90, "99%": &s.p99}[f[0]] = d
			found++
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			s.requests, _ = strconv.ParseInt(f[0], 10, 64)
			found++
		case len(f) == 2 && f[0] == "Requests/sec:":
			s.rps, _ = strconv.ParseFloat(f[1], 64)
			found++
		case len(f) >= 5 && f[0] == "Non-2xx":
			s.non2xx, _ = strconv.ParseInt(f[4], 10, 64)
		}
	}
	if found != 5 || s.requests == 0 {
		return s, fmt.Errorf("unexpected output:\n%s", out)
	}
	return s, nil
}
