package main

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/saml/samltest"
)

func TestParsePublicPaths(t *testing.T) {
	good := [][]string{
		{"/healthz"},
		{"/assets/"},
		{"/api/public/*"},
		{"/healthz", "/assets/", "/api/*/status", "/favicon.ico"},
	}
	for _, list := range good {
		if _, err := parsePublicPaths(list); err != nil {
			t.Errorf("%q: %v", list, err)
		}
	}
	bad := []struct {
		list []string
		want string
	}{
		{[]string{""}, "empty"},
		{[]string{"healthz"}, "must start with /"},
		{[]string{"/"}, "every path public"},
		{[]string{"/*"}, "every path public"},
		{[]string{"/assets/**"}, "**"},
		{[]string{"/assets/../admin/"}, "not a clean path"},
		{[]string{"/assets/./x"}, "not a clean path"},
		{[]string{"//assets/"}, "not a clean path"},
		{[]string{"/a//b"}, "not a clean path"},
		{[]string{"/assets/%2e%2e/"}, "not allowed"},
		{[]string{"/health?full=1"}, "not allowed"},
		{[]string{"/a#b"}, "not allowed"},
		{[]string{"/a;b"}, "not allowed"},
		{[]string{`/a\b`}, "not allowed"},
		{[]string{"/a b"}, "not allowed"},
		{[]string{"/a\tb"}, "not allowed"},
		{[]string{"/[a-z]"}, "not allowed"},
		{[]string{"/healthz", "/healthz"}, "listed twice"},
	}
	for _, tc := range bad {
		_, err := parsePublicPaths(tc.list)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one with %q", tc.list, err, tc.want)
		}
	}
}

// TestPublicPathsMatch: only canonical paths match; every traversal,
// encoded slash, double encoding, matrix parameter or backslash falls back
// to "needs a session".
func TestPublicPathsMatch(t *testing.T) {
	p, err := parsePublicPaths([]string{"/healthz", "/assets/", "/api/public/*"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string // request target as sent on the wire
		want   bool
	}{
		{"/healthz", true},
		{"/healthz?full=1", true},
		{"/healthz/", false},
		{"/healthzz", false},
		{"/HEALTHZ", false},
		{"/assets/", true},
		{"/assets/app.js", true},
		{"/assets/img/logo.png", true},
		{"/assets/my%20file.png", true},
		{"/assets", false},
		{"/assetsx/app.js", false},
		{"/api/public/status", true},
		{"/api/public/", true}, // * may be empty, as in path.Match
		{"/api/public/a/b", false},
		{"/api/public", false},
		{"/api/private/status", false},
		// Traversal, in every spelling.
		{"/assets/../admin", false},
		{"/assets/./app.js", false},
		{"/assets//app.js", false},
		{"/assets/%2e%2e/admin", false},
		{"/assets/%2E%2E/admin", false},
		{"/assets%2F..%2Fadmin", false},
		{"/assets/..%2Fadmin", false},
		{"/assets/x%2Fy", false},
		{"/assets/%252e%252e/admin", false},
		{"/assets/..;/admin", false},
		{"/assets/x;jsessionid=1", false},
		{"/assets/..%5Cadmin", false},
		{"/assets/%41pp.js", false}, // an encoding that is not Go's own
		{"/api/public/..", false},
		{"/api/public/%2e%2e", false},
		{"/healthz/..", false},
	}
	for _, tc := range tests {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + tc.target + " HTTP/1.1\r\nHost: gw.example.com\r\n\r\n")))
		if err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		if got := p.match(r); got != tc.want {
			t.Errorf("match(%q) = %v, want %v (Path %q, RawPath %q)", tc.target, got, tc.want, r.URL.Path, r.URL.RawPath)
		}
	}
	var none *publicPaths
	if none.match(&http.Request{}) {
		t.Error("no public_paths matched a request")
	}
}

// TestPublicPathsProxy drives the whole handler: public paths reach the
// upstream without a session and without any identity header (forged or
// the user's own), every other path and every non-canonical spelling of a
// public one needs a session.
func TestPublicPathsProxy(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.PublicPaths = []string{"/status", "/assets/", "/api/public/*"} })
	forged := forgedHeaders()

	for _, p := range []string{"/status", "/assets/app.js", "/api/public/ping?x=1"} {
		before := e.receivedCount()
		rec := e.get(p, nil, forged)
		if rec.Code != http.StatusOK || e.receivedCount() != before+1 {
			t.Fatalf("%s: status %d, upstream reached %v", p, rec.Code, e.receivedCount() > before)
		}
		got := e.lastReceived()
		if got.URL.RequestURI() != p {
			t.Errorf("%s: the upstream received %q", p, got.URL.RequestURI())
		}
		for name := range got.Header {
			if isIdentityHeader(name) {
				t.Errorf("%s: identity header %s reached the upstream on a public path", p, name)
			}
		}
	}

	// A logged-in user's identity is not sent on public paths either.
	cookies := e.login(t, samltest.Response{Groups: []string{"Admins"}})
	if rec := e.get("/assets/app.js", cookies, nil); rec.Code != http.StatusOK {
		t.Fatalf("public path with a session: %d", rec.Code)
	}
	for name := range e.lastReceived().Header {
		if isIdentityHeader(name) {
			t.Errorf("identity header %s sent on a public path", name)
		}
	}
	if c := e.lastReceived().Header.Get("Cookie"); strings.Contains(c, "samlgate") {
		t.Errorf("the session cookie reached the upstream on a public path: %q", c)
	}

	// Everything else, traversals included, needs a session.
	for _, target := range []string{"/admin", "/assets/../admin", "/assets/%2e%2e/admin", "/assets%2F..%2Fadmin", "/assets/..;/admin", "/status/", "/api/public/a/b"} {
		before := e.receivedCount()
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: gw.example.com\r\nAccept: application/json\r\n\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		req.RequestURI = "" // not a server request for the recorder's sake
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if e.receivedCount() != before {
			t.Errorf("%s reached the upstream without a session (status %d)", target, rec.Code)
		}
		if rec.Code == http.StatusOK {
			t.Errorf("%s: status 200 without a session", target)
		}
	}
}
