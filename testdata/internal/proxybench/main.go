// Command proxybench measures the example gateway's proxied request
// against bare httputil.ReverseProxy processes, with wrk, as BENCHMARKS.md
// reports it ("The proxy within 5%"). From the repository root:
//
//	go run ./testdata/internal/proxybench -rounds 20 -conns 1,16
//
// It builds examples/gateway, starts the demo (whose upstream app every
// proxy forwards to) and wrk on CPU 1, and the proxies on CPU 0 (taskset;
// Go then sets GOMAXPROCS to 1 in each), each in its own process:
//
//   - gateway: the example gateway with -config, alice logged in (a
//     response minted with samltest and POSTed to its ACS);
//   - bare: httputil.ReverseProxy with the gateway's upstream transport
//     settings, setting the six identity headers to the values the gateway
//     sends for alice, so that the upstream does the same work;
//   - bare-pooled: the same with the gateway's buffer pool;
//   - bare-server: bare-pooled served by an http.Server with the gateway's
//     timeouts (examples/gateway/server.go);
//   - gateway-before: another gateway binary (-before), when given.
//
// Each round runs wrk against every proxy once, in an order that rotates
// from round to round, and the report gives the medians over the rounds of
// each figure and of the per-round ratios. CPU per request is the proxy
// process's user+system time during the run (/proc/PID/stat) over the
// requests served. It needs wrk (apt-get install wrk) and Linux.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		runBare(os.Args[2:])
		return
	}
	var o options
	flag.IntVar(&o.rounds, "rounds", 12, "rounds per connection count")
	conns := flag.String("conns", "1,16", "wrk connection counts, comma-separated")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "length of one wrk run")
	flag.StringVar(&o.before, "before", "", "a gateway binary built from another revision, measured as gateway-before")
	flag.StringVar(&o.repo, "repo", ".", "the repository root (examples/gateway is built from there)")
	flag.Parse()
	for _, c := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fatalf("-conns: %q is not a connection count", c)
		}
		o.conns = append(o.conns, n)
	}
	if err := run(o); err != nil {
		fatalf("%v", err)
	}
}

type options struct {
	rounds   int
	conns    []int
	duration time.Duration
	before   string
	repo     string
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "proxybench: "+format+"\n", args...)
	os.Exit(1)
}

// run sets everything up, measures, prints the report and stops what it
// started.
func run(o options) (err error) {
	if err := checkTools(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "proxybench-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			fmt.Fprintf(os.Stderr, "proxybench: the processes' logs are kept in %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}()
	procs := &processes{logDir: dir}
	defer procs.stopAll()
	targets, cookie, err := setUp(o, dir, procs)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "proxybench: %d rounds of %s per connection count, %d proxies\n", o.rounds, o.duration, len(targets))
	for _, c := range o.conns {
		results, err := measure(targets, cookie, c, o)
		if err != nil {
			return err
		}
		report(os.Stdout, c, o, targets, results)
	}
	return nil
}
