package main

import (
	"bufio"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzReturnToFromRD: whatever rd a client sends to /saml/sign_in, an
// accepted return path resolves, against public_url, to public_url's
// origin.
func FuzzReturnToFromRD(f *testing.F) {
	pub, _ := url.Parse(testPublicURL)
	for _, s := range []string{"/app?x=1", testPublicURL + "/x", "//evil.example", `/\evil`, "https://gw.example.com@evil.example/",
		"https://gw.example.com:443/a", "javascript:alert(1)", "/%2F%2Fevil", "https://GW.EXAMPLE.COM/", "/a\tb", "https:/\\evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rd string) {
		p, err := returnToFromRD(rd, pub)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`) || strings.ContainsAny(p, "\\ \t\r\n") {
			t.Fatalf("rd %q gave return path %q", rd, p)
		}
		u, err := url.Parse(p)
		if err != nil {
			t.Fatalf("rd %q gave an unparsable %q", rd, p)
		}
		if got := pub.ResolveReference(u); origin(got) != origin(pub) {
			t.Fatalf("rd %q gave %q, which leads to %s", rd, p, origin(got))
		}
	})
}

// FuzzPublicPathsMatch: a request path that is public stays public however
// liberally an upstream reads it (percent-decoding again, '\' as '/',
// ";params" dropped, dot segments resolved): no spelling reaches a
// protected path through a public one.
func FuzzPublicPathsMatch(f *testing.F) {
	p, err := parsePublicPaths([]string{"/status", "/assets/", "/api/public/*"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"/assets/app.js", "/assets/../admin", "/assets/%2e%2e/admin", "/assets/..;/admin", "/assets%2F..%2Fadmin",
		"/api/public/x", "/api/public/%2e%2e", "/status", "/assets/%252e%252e/x", "/assets/..%5cadmin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if strings.ContainsAny(target, " \r\n") {
			return
		}
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")))
		if err != nil || !p.match(r) {
			return
		}
		liberal := r.URL.EscapedPath()
		for range 3 {
			if d, err := url.PathUnescape(liberal); err == nil {
				liberal = d
			}
		}
		liberal = strings.ReplaceAll(liberal, `\`, "/")
		segs := strings.Split(liberal, "/")
		for i, s := range segs {
			segs[i], _, _ = strings.Cut(s, ";")
		}
		liberal = strings.Join(segs, "/")
		clean := path.Clean(liberal)
		if strings.HasSuffix(liberal, "/") && clean != "/" {
			clean += "/"
		}
		r2 := &http.Request{URL: &url.URL{Path: clean}}
		if !p.match(r2) {
			t.Fatalf("%q is public, but an upstream could read it as %q, which is not", target, clean)
		}
	})
}
