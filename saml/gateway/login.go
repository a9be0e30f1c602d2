package gateway

import (
	"errors"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/samlgate/samlgate/saml"
)

// serveLogin starts an SP-initiated login: GET LoginPath?connection=X&return_to=/path.
func (g *Gateway) serveLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	q := r.URL.Query()
	returnTo := g.returnTo(q.Get("return_to"))
	name := q.Get("connection")
	c, found := g.pick(name)
	switch {
	case !found:
		g.unknownConnection(w, r, name)
		return
	case c == nil && g.cfg.ConnectionChooser && g.count() > 0:
		g.chooser(w, returnTo)
		return
	case c == nil:
		// Without the chooser, a login that names no connection gets the
		// same page as one naming a connection that does not exist.
		g.unknownConnection(w, r, "")
		return
	}

	test, ok := g.testLoginRequested(w, r, c)
	if !ok {
		return
	}
	cookie, msg, err := g.loginRequest(r, c, returnTo, test)
	if err != nil {
		reqID := randomHex(8)
		g.logger.ErrorContext(r.Context(), "samlgate: cannot start a login", "connection", c.Name(), "request_id", reqID, "error", err.Error())
		code, text := saml.CodeUnavailable, "Sign-in could not be started. Try again."
		if errors.Is(err, saml.CodeConfigInvalid) {
			code, text = saml.CodeConfigInvalid, "Sign-in is not configured correctly for this connection."
		}
		g.errorPage(w, statusFor(code), code, text, reqID, "")
		return
	}
	g.expireOldRequestCookies(w, r, c)
	http.SetCookie(w, cookie)
	w.Header().Set("Cache-Control", "no-store")
	if msg.RedirectURL != "" {
		http.Redirect(w, r, msg.RedirectURL, http.StatusFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+msg.ScriptNonce+"'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(msg.PostForm)
}

// loginRequest builds the AuthnRequest and keeps its tracking state (see
// saveLoginState) under an opaque RelayState handle, returning the request
// cookie to set: the request's ID is known before the RelayState is
// chosen (saml.Connection.NewLoginRequest, then Encode).
func (g *Gateway) loginRequest(r *http.Request, c *conn, returnTo string, test bool) (*http.Cookie, *saml.LoginMessage, error) {
	lr, err := c.NewLoginRequest(r.Context())
	if err != nil {
		return nil, nil, err
	}
	handle, value, err := g.saveLoginState(r.Context(), c, relayState{
		RequestID:  lr.ID,
		Connection: c.Name(),
		ReturnTo:   returnTo,
		Expires:    g.now().Add(LoginRequestLifetime).UnixMilli(),
		Test:       test,
	})
	if err != nil {
		return nil, nil, err
	}
	msg, err := lr.Encode(handle)
	if err != nil {
		return nil, nil, err
	}
	return g.requestCookieNamed(c, g.requestCookieName(handle), value, int(LoginRequestLifetime/time.Second)), msg, nil
}

// requestCookiePrefix is __Host-samlgate_req_, or samlgate_req_ under
// InsecureCookies (the __Host- prefix requires Secure).
func (g *Gateway) requestCookiePrefix() string {
	if g.cfg.InsecureCookies {
		return insecureRequestCookiePrefix
	}
	return requestCookiePrefix
}

// requestCookieNamed is a login-request cookie. Path is / (which the
// __Host- prefix requires) in both modes, so that GET LoginPath sees the
// cookies it must bound.
func (g *Gateway) requestCookieNamed(c *conn, name, value string, maxAge int) *http.Cookie {
	ck := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteNoneMode,
	}
	if maxAge < 0 {
		ck.Value = ""
	}
	if g.cfg.InsecureCookies && !loopbackHost(c.acsURL.Hostname()) {
		// Browsers refuse SameSite=None without Secure, and Secure
		// cookies over http except on localhost (a secure context, where
		// the cookie above works). Lax reaches the callback only when
		// the IdP is on the same site.
		ck.Secure, ck.SameSite = false, http.SameSiteLaxMode
	}
	return ck
}

// expireOldRequestCookies bounds the login-request cookies of a browser
// (each GET LoginPath adds one, for LoginRequestLifetime): when it already
// holds maxRequestCookies-1 or more, the oldest are expired so that, with
// the one about to be set, it holds maxRequestCookies. The gateway cannot
// read a cookie's age, but browsers list cookies of the same path oldest
// first (RFC 6265, section 5.4), and all of these have Path=/: the first
// names are the oldest. The bound is per browser, whatever the connection:
// a login abandoned among more than 4 newer ones fails with
// in_response_to_mismatch and a page asking to start again.
func (g *Gateway) expireOldRequestCookies(w http.ResponseWriter, r *http.Request, c *conn) {
	prefix := g.requestCookiePrefix()
	var names []string
	for _, ck := range r.Cookies() {
		if strings.HasPrefix(ck.Name, prefix) && !slices.Contains(names, ck.Name) {
			names = append(names, ck.Name)
		}
	}
	excess := len(names) - (maxRequestCookies - 1)
	if excess <= 0 {
		return
	}
	for _, name := range names[:excess] {
		http.SetCookie(w, g.requestCookieNamed(c, name, "", -1))
	}
}

// cookieValues returns the values of the request's cookies named name, in
// the order the browser sent them, without duplicates and at most
// maxCookieCopies: a cookie planted by another host of the site (with a
// Domain attribute or a longer Path) can come before the gateway's own.
// They are appended to dst, which may be nil.
//
// It reads the Cookie headers as net/http's Request.Cookies does (the
// same trimming, quotes and value bytes: cookieValueOK), but looks at the
// one name only and allocates nothing beyond dst: the session cookie is
// read on every request. Unlike Request.Cookies, a request with more
// cookies than net/http's limit (GODEBUG httpcookiemaxnum) is read all the
// same: the limit protects net/http's allocations, which this does not
// make, and the server's MaxHeaderBytes bounds the scan.
func cookieValues(r *http.Request, name string, dst []string) []string {
	start := len(dst)
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			n, v, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(n) != name {
				continue
			}
			v, ok := cookieValueOK(v)
			if !ok || slices.Contains(dst[start:], v) {
				continue
			}
			if dst = append(dst, v); len(dst)-start == maxCookieCopies {
				return dst
			}
		}
	}
	return dst
}

// cookieValueOK is net/http's parseCookieValue for a request cookie: one
// pair of surrounding double quotes is removed, and every byte must be
// printable ASCII other than '"', ';' and '\\' (cookieValueBytes: a
// table, since a session cookie is several hundred bytes long).
func cookieValueOK(v string) (string, bool) {
	if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	for i := 0; i < len(v); i++ {
		if !cookieValueBytes[v[i]] {
			return "", false
		}
	}
	return v, true
}

var cookieValueBytes = func() (t [256]bool) {
	for b := 0x20; b < 0x7f; b++ {
		t[b] = b != '"' && b != ';' && b != '\\'
	}
	return t
}()
