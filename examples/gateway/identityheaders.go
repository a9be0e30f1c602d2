package main

import (
	"net/http"
	"strings"
	"sync"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/saml"
)

// This file writes what the upstream receives about the user: the identity
// headers and the Cookie header without the gateway's cookies. It runs on
// every proxied request, so it is written to allocate little: one array for
// the six header values, a string only for a value that needs escaping or
// joining, one for a Cookie header that loses a cookie.

// encodeHeaderValue percent-encodes (RFC 3986 style, upper-case hex) the
// bytes of one list item that could change how the header is split or read:
// '%' itself, ',' (the list separator), ';', '"', control characters (CR and
// LF above all), DEL, every non-ASCII byte, and leading or trailing spaces
// (which list parsers trim). Everything else, including spaces inside a
// group name such as "Domain Users", is kept as is, so that a plain name
// reads the same and url.PathUnescape restores any name exactly.
func encodeHeaderValue(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	appendEncoded(&b, s)
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if mustEscapeByte(s, i) {
			return true
		}
	}
	return false
}

// appendEncoded writes s to b, encoded as encodeHeaderValue does.
func appendEncoded(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if mustEscapeByte(s, i) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
			continue
		}
		b.WriteByte(c)
	}
}

func mustEscapeByte(s string, i int) bool {
	c := s[i]
	switch {
	case c == '%', c == ',', c == ';', c == '"':
		return true
	case c < 0x20, c >= 0x7F:
		return true
	case c == ' ' && (i == 0 || i == len(s)-1):
		return true
	}
	return false
}

// joinHeaderValues encodes each value and joins them with ",", into one
// new string (none for zero values, or one that needs no escaping).
func joinHeaderValues(values []string) string {
	switch len(values) {
	case 0:
		return ""
	case 1:
		return encodeHeaderValue(values[0])
	}
	n := len(values) - 1
	for _, v := range values {
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		appendEncoded(&b, v)
	}
	return b.String()
}

// setIdentityHeaders sets the six identity headers from id and teams,
// replacing any values h has (callers strip every other spelling first:
// stripIdentityHeaders). They are set even when empty, so an upstream can
// tell "no groups" from "no gateway", with one exception: an email that
// is not one plain address (attributes.PlainEmail) is not forwarded at
// all, and withheld is true. An upstream parsing X-Forwarded-Email with a
// lenient address parser could read another address in it than the one
// the IdP vouched for ("CEO <ceo@acme.example> x@beta.example" is
// ceo@acme.example to Python's parseaddr); the verifier refuses such
// emails, and this holds whatever reaches the proxy all the same.
//
// The header names are canonical already (TestIdentityHeaderNamesCanonical),
// so the values go into the map directly, each a one-element slice of one
// shared array.
func setIdentityHeaders(h http.Header, id *saml.Identity, teams []string) (withheld bool) {
	v := make([]string, 6)
	v[0] = encodeHeaderValue(id.Subject)
	switch {
	case id.Email == "":
	case plainEmails.plain(id.Email):
		v[1] = encodeHeaderValue(id.Email)
	default:
		withheld = true
	}
	v[2] = joinHeaderValues(id.Groups)
	v[3] = joinHeaderValues(id.Roles)
	v[4] = encodeHeaderValue(id.Connection)
	v[5] = joinHeaderValues(teams)
	h[HeaderUser] = v[0:1:1]
	if withheld {
		delete(h, HeaderEmail)
	} else {
		h[HeaderEmail] = v[1:2:2]
	}
	h[HeaderGroups] = v[2:3:3]
	h[HeaderRoles] = v[3:4:4]
	h[HeaderConnection] = v[4:5:5]
	h[HeaderTeams] = v[5:6:6]
	return withheld
}

// plainEmails remembers attributes.PlainEmail's verdicts: every request of
// a session asks about the same address, and the answer (a net/mail parse
// and an IDNA check, several allocations) depends on the string alone.
var plainEmails = &emailVerdicts{}

// emailVerdictsMax bounds the cache: about the users a gateway serves at
// once; when full it starts over (a miss costs one check).
const emailVerdictsMax = 4096

type emailVerdicts struct {
	mu sync.RWMutex
	m  map[string]bool
}

func (c *emailVerdicts) plain(email string) bool {
	c.mu.RLock()
	ok, hit := c.m[email]
	c.mu.RUnlock()
	if hit {
		return ok
	}
	ok = attributes.PlainEmail(email)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= emailVerdictsMax {
		c.m = make(map[string]bool)
	}
	c.m[email] = ok
	c.mu.Unlock()
	return ok
}

// stripCookies removes the named cookies (the gateway's session and
// request-tracking cookies) from the Cookie header going upstream: the
// upstream has no use for them, and an upstream that logs or leaks its
// request headers must not leak a usable session. What remains goes
// upstream as one Cookie line, as browsers send it (RFC 6265 allows no
// more); one line without a cookie of ours is left as it came.
func stripCookies(h http.Header, isGatewayCookie func(name string) bool) {
	lines := h["Cookie"]
	if len(lines) == 0 || len(lines) == 1 && !hasGatewayCookie(lines[0], isGatewayCookie) {
		return
	}
	var b strings.Builder
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if isGatewayCookie(strings.TrimSpace(name)) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			} else {
				b.Grow(len(lines[0]))
			}
			b.WriteString(part)
		}
	}
	if b.Len() == 0 {
		delete(h, "Cookie")
		return
	}
	// lines is h's own slice (a clone of the incoming request's).
	lines[0] = b.String()
	h["Cookie"] = lines[:1]
}

func hasGatewayCookie(line string, isGatewayCookie func(name string) bool) bool {
	for line != "" {
		var part string
		part, line, _ = strings.Cut(line, ";")
		name, _, _ := strings.Cut(part, "=")
		if isGatewayCookie(strings.TrimSpace(name)) {
			return true
		}
	}
	return false
}

// hasFoldPrefix reports whether s starts with prefix (lower-case ASCII)
// once s's ASCII letters are lower-cased.
func hasFoldPrefix(s, prefix string) bool { return hasLowerPrefix(s, prefix, false) }
