package gateway

import "net/url"

// returnTo is p if it is a safe local path, else DefaultReturnTo.
func (g *Gateway) returnTo(p string) string {
	if s, ok := safeReturnTo(p); ok {
		return s
	}
	return g.cfg.DefaultReturnTo
}

// SafeReturnTo reports whether p is a return_to the gateway accepts (and
// returns it): a path on this site, as safeReturnTo below. For handlers
// in front of the gateway (a forward-auth sign-in URL, say) that take a
// return address from a request and must not turn it into an open
// redirect; the gateway checks return_to again.
func SafeReturnTo(p string) (string, bool) { return safeReturnTo(p) }

// safeReturnTo accepts only a path on this site: it starts with one "/"
// (not "//" or "/\", which browsers read as another host), has no scheme
// or host, no backslash, no control or space characters, and is at most
// maxReturnToLen bytes. Anything else could redirect off-site.
func safeReturnTo(p string) (string, bool) {
	if p == "" || len(p) > maxReturnToLen || p[0] != '/' {
		return "", false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		if b := p[i]; b <= 0x20 || b == 0x7f || b == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return p, true
}
