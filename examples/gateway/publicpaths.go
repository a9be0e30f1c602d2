package main

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
)

// publicPaths are the paths of public_paths: proxied to the upstream
// without a session and without identity headers. Three forms:
//
//	/healthz         exactly this path
//	/assets/         this path and every path below it (ends in /)
//	/api/public/*    a pattern: * stands for any run of characters
//	                 within one segment (never a /), as path.Match
//
// A request path is compared only in its canonical form, and a request
// whose path is not canonical is never public, whatever it names: it then
// needs a session like any other. Canonical means: the path as decoded
// (url.URL.Path) equals its path.Clean form (a trailing / kept), so no
// "." or ".." segment and no "//"; it was sent without an encoded slash
// or backslash (%2F, %5C) or any other encoding that differs from Go's
// own (url.URL.RawPath is empty); and it holds no '%' once decoded
// (double encoding), no ';' (Tomcat and Spring read "/assets/..;/admin"
// as "/admin"), no backslash (IIS reads it as /) and no control
// character. So "/assets/../admin", "/assets/%2e%2e/admin",
// "/assets%2F..%2Fadmin" and "/assets/..;/admin" all need a session,
// while the upstream receives a public request's path exactly as it was
// compared.
type publicPaths struct {
	exact    map[string]bool
	prefixes []string
	patterns []string
}

// parsePublicPaths validates public_paths: each entry non-empty, starting
// with /, already canonical (no ".", "..", "//"), without a query,
// fragment, '%', ';', '\', white space or control character, a valid
// pattern without "**", not "/" (which would make the whole site public),
// and not listed twice. nil for an empty list.
func parsePublicPaths(list []string) (*publicPaths, error) {
	if len(list) == 0 {
		return nil, nil
	}
	p := &publicPaths{exact: map[string]bool{}}
	seen := map[string]bool{}
	for i, s := range list {
		if err := checkPublicPath(s); err != nil {
			return nil, fmt.Errorf("public_paths[%d] %q: %w", i, s, err)
		}
		if seen[s] {
			return nil, fmt.Errorf("public_paths[%d] %q: listed twice", i, s)
		}
		seen[s] = true
		switch {
		case strings.Contains(s, "*"):
			p.patterns = append(p.patterns, s)
		case strings.HasSuffix(s, "/"):
			p.prefixes = append(p.prefixes, s)
		default:
			p.exact[s] = true
		}
	}
	return p, nil
}

func checkPublicPath(s string) error {
	switch {
	case s == "":
		return errors.New("empty")
	case s[0] != '/':
		return errors.New("must start with /")
	case s == "/" || s == "/*":
		return errors.New("would make every path public; list the public paths themselves")
	case strings.Contains(s, "**"):
		return errors.New("** is not supported: * stands for one path segment; end a prefix with / instead")
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= 0x20 || b == 0x7f || strings.IndexByte("?#%;\\[]", b) >= 0 {
			return fmt.Errorf("%q is not allowed (give the decoded path, without query, fragment or escapes; * is the only wildcard)", b)
		}
	}
	if !canonicalPath(s) {
		return fmt.Errorf("not a clean path (no \".\", \"..\" or \"//\"; it would be %q)", path.Clean(s))
	}
	if _, err := path.Match(s, "/"); err != nil {
		return err
	}
	return nil
}

// canonicalPath reports whether p is its own path.Clean form, a trailing
// slash allowed.
func canonicalPath(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// match reports whether r's path is public (see publicPaths).
func (p *publicPaths) match(r *http.Request) bool {
	if p == nil || r.URL.RawPath != "" {
		return false
	}
	rp := r.URL.Path
	if rp == "" || rp[0] != '/' || !canonicalPath(rp) {
		return false
	}
	for i := 0; i < len(rp); i++ {
		if b := rp[i]; b < 0x20 || b == 0x7f || b == '%' || b == ';' || b == '\\' {
			return false
		}
	}
	if p.exact[rp] {
		return true
	}
	if slices.ContainsFunc(p.prefixes, func(pre string) bool { return strings.HasPrefix(rp, pre) }) {
		return true
	}
	return slices.ContainsFunc(p.patterns, func(pat string) bool {
		ok, err := path.Match(pat, rp)
		return err == nil && ok
	})
}

// route sends public requests to public and every other to protected.
func (p *publicPaths) route(public, protected http.Handler) http.Handler {
	if p == nil {
		return protected
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.match(r) {
			public.ServeHTTP(w, r)
			return
		}
		protected.ServeHTTP(w, r)
	})
}
