package gateway_test

import (
	"errors"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/samltest"
)

var gwRequestID = regexp.MustCompile(`request ID <code>[0-9a-f]{16}</code>`)

// TestRefusalPages drives each refusal a user can meet through the
// callback and checks that its page says, in plain words, what happened
// and what to do: naming the application and the IdP, with the code and a
// request ID for the administrator, and a "Sign in again" link exactly
// where a new login can succeed. None shows the user's email or groups.
func TestRefusalPages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   saml.Code
		status int
		want   []string
		retry  bool
		// refuse makes browser b's callback fail.
		refuse func(e *gwEnv, b *gwBrowser, store *gwStore) *http.Response
	}{
		{
			name: "not assigned at the IdP (RequestDenied)", code: saml.CodeStatusNotSuccess, status: http.StatusForbidden,
			want: []string{"JumpCloud did not let you sign in to Acme Reports.", "not assigned to this application", "Ask your administrator to give your account access to Acme Reports in JumpCloud."},
			refuse: func(e *gwEnv, b *gwBrowser, _ *gwStore) *http.Response {
				r := e.response("acme")
				r.StatusCode, r.SubStatusCode, r.OmitAssertion, r.Sign = "Responder", "RequestDenied", true, samltest.SignNone
				return b.post(gwACS("acme"), e.mint(r), "")
			},
		},
		{
			name: "not in an allowed group", code: saml.CodeGroupNotAllowed, status: http.StatusForbidden,
			want: []string{"not in a group that may use Acme Reports", "Ask your administrator to add you to a group"},
			refuse: func(e *gwEnv, b *gwBrowser, _ *gwStore) *http.Response {
				r := e.response("acme")
				r.Groups = []string{"Sales"}
				return b.post(gwACS("acme"), e.mint(r), "")
			},
		},
		{
			name: "email not verified", code: saml.CodeEmailNotVerified, status: http.StatusForbidden,
			want: []string{"Only verified email addresses may sign in to Acme Reports, and JumpCloud did not confirm that yours is verified."},
			refuse: func(e *gwEnv, b *gwBrowser, _ *gwStore) *http.Response {
				r := e.response("acme")
				r.EmailVerified = "false"
				return b.post(gwACS("acme"), e.mint(r), "")
			},
		},
		{
			name: "already used", code: saml.CodeReplayed, status: http.StatusBadRequest, retry: true,
			want: []string{"a sign-in can be used only once", "Sign in again to continue."},
			refuse: func(e *gwEnv, b *gwBrowser, _ *gwStore) *http.Response {
				form := e.mint(e.response("acme"))
				e.browser().post(gwACS("acme"), form, "")
				return b.post(gwACS("acme"), form, "")
			},
		},
		{
			name: "expired", code: saml.CodeExpired, status: http.StatusBadRequest, retry: true,
			want: []string{"This sign-in is too old to be accepted", "Sign in again."},
			refuse: func(e *gwEnv, b *gwBrowser, _ *gwStore) *http.Response {
				form := e.mint(e.response("acme"))
				e.clk.Advance(time.Hour)
				return b.post(gwACS("acme"), form, "")
			},
		},
		{
			name: "started in another browser", code: saml.CodeInResponseToMismatch, status: http.StatusBadRequest, retry: true,
			want: []string{"Your browser did not send back the cookie", "allow cookies for this site"},
			refuse: func(e *gwEnv, b *gwBrowser, _ *gwStore) *http.Response {
				id, acs, relay := e.startLogin(e.browser(), "connection=acme")
				r := e.response("acme")
				r.InResponseTo = id
				return b.post(acs, e.mint(r), relay)
			},
		},
		{
			name: "service unavailable", code: saml.CodeUnavailable, status: http.StatusServiceUnavailable, retry: true,
			want: []string{"Sign-ins to Acme Reports cannot be completed right now.", "Try again in a few minutes."},
			refuse: func(e *gwEnv, b *gwBrowser, store *gwStore) *http.Response {
				store.setFail(errors.New("connection refused"))
				return b.post(gwACS("acme"), e.mint(e.response("acme")), "")
			},
		},
		{
			name: "any other code (an IdP misconfiguration)", code: saml.CodeAudienceMismatch, status: http.StatusBadRequest,
			want: []string{"The sign-in from JumpCloud was not accepted by Acme Reports.", "give them the code and request ID below"},
			refuse: func(e *gwEnv, b *gwBrowser, _ *gwStore) *http.Response {
				r := e.response("acme")
				r.Audience = "urn:other"
				return b.post(gwACS("acme"), e.mint(r), "")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newGwStore()
			e := newGwEnv(t, gwOptions{
				connMod: func(c *saml.ConnectionConfig) { c.Groups = groups.Config{AllowedGroups: []string{"Engineering"}} },
				cfgMod:  func(c *gateway.Config) { c.AppName = "Acme Reports"; c.SessionStore = store },
			})
			res := tc.refuse(e, e.browser(), store)
			page := gwBody(t, res)
			if res.StatusCode != tc.status || !strings.Contains(page, "code <code>"+string(tc.code)+"</code>") || !gwRequestID.MatchString(page) {
				t.Fatalf("%d, want %d with code %s and a request ID:\n%s", res.StatusCode, tc.status, tc.code, page)
			}
			for _, want := range tc.want {
				if !strings.Contains(page, want) {
					t.Errorf("the page lacks %q:\n%s", want, page)
				}
			}
			retry := strings.Contains(page, `<a class="button" id="retry" href="/login?connection=acme">Sign in again</a>`)
			if retry != tc.retry {
				t.Errorf("Sign in again offered: %v, want %v:\n%s", retry, tc.retry, page)
			}
			for _, secret := range []string{gwEmail, "Sales", "Everyone", "urn:other", "connection refused"} {
				if strings.Contains(page, secret) {
					t.Errorf("the page shows %q", secret)
				}
			}
		})
	}
}

// TestPagesTemplates: the operator's templates replace the built-in pages
// and receive the documented PageData.
func TestPagesTemplates(t *testing.T) {
	pages := gateway.Pages{
		Error:         template.Must(template.New("e").Parse(`<p>{{.Kind}} {{.Status}} {{.AppName}} {{.IdPName}} {{.Connection}} [{{.Title}}] [{{.Message}}] [{{.Advice}}] {{.Code}} {{len .RequestID}} retry={{.RetryURL}}</p>`)),
		SignedOut:     template.Must(template.New("s").Parse(`<p>{{.Kind}} {{.AppName}} {{.IdPName}} retry={{.RetryURL}}</p>`)),
		LogoutConfirm: template.Must(template.New("c").Parse(`<form method="post" action="{{.FormAction}}"><input name="return_to" value="{{.ReturnTo}}">{{.Kind}}</form>`)),
	}
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.Pages = pages; c.AppName = "Acme <Reports>" }})
	b := e.browser()
	form := e.mint(e.response("acme"))
	b.post(gwACS("acme"), form, "")
	res := b.post(gwACS("acme"), form, "")
	want := `<p>error 400 Acme &lt;Reports&gt; JumpCloud acme [Sign-in link already used] [This sign-in was already completed once, and a sign-in can be used only once.`
	if page := gwBody(t, res); !strings.HasPrefix(page, want) || !strings.Contains(page, "] replayed 16 retry=/login?connection=acme</p>") {
		t.Errorf("Error template:\n%s\nwant prefix\n%s", page, want)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if page := gwBody(t, b.get(gwHost+"/logout?return_to=/x", gwBrowserAccept)); page != `<form method="post" action="/logout"><input name="return_to" value="/x">logout_confirm</form>` {
		t.Errorf("LogoutConfirm template:\n%s", page)
	}
	res = logoutPost(b, "")
	if page := gwBody(t, b.get(gwHost+res.Header.Get("Location"), gwBrowserAccept)); page != `<p>signed_out Acme &lt;Reports&gt; JumpCloud retry=/login?connection=acme</p>` {
		t.Errorf("SignedOut template:\n%s", page)
	}
}

// TestPagesValidated: New executes each template with sample data, so that
// a broken page fails at start-up rather than at the first refusal.
func TestPagesValidated(t *testing.T) {
	broken := template.Must(template.New("x").Parse(`{{.Nope}}`))
	for _, tc := range []struct {
		field string
		pages gateway.Pages
	}{
		{"Error", gateway.Pages{Error: broken}},
		{"SignedOut", gateway.Pages{SignedOut: broken}},
		{"LogoutConfirm", gateway.Pages{LogoutConfirm: broken}},
	} {
		e := newGwEnv(t, gwOptions{})
		_, err := gateway.New(gateway.Config{Connections: e.conns, SessionKeys: [][]byte{gwKey(1)}, Pages: tc.pages, Logger: gwDiscard()})
		if !errors.Is(err, saml.CodeConfigInvalid) || !strings.Contains(err.Error(), "Pages."+tc.field) {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
}

// TestStoreUnavailablePage: a browser whose session cannot be read (the
// SessionStore fails) gets the unavailable page, with a request ID that
// the Error log line carries too.
func TestStoreUnavailablePage(t *testing.T) {
	var logs auditLog
	store := newGwStore()
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.SessionStore = store; c.Logger = logs.logger() }})
	b := e.browser()
	e.login(b, e.response("acme"))
	store.setFail(errors.New("connection refused"))
	res := b.get(gwHost+"/", gwBrowserAccept)
	page := gwBody(t, res)
	id := regexp.MustCompile(`request ID <code>([0-9a-f]{16})</code>`).FindStringSubmatch(page)
	if res.StatusCode != http.StatusServiceUnavailable || id == nil || !strings.Contains(page, "Try again in a few minutes.") || !strings.Contains(page, "code <code>unavailable</code>") {
		t.Fatalf("%d\n%s", res.StatusCode, page)
	}
	var found bool
	for _, l := range logs.lines(t) {
		found = found || l["msg"] == "samlgate: session store failed" && l["request_id"] == id[1]
	}
	if !found {
		t.Errorf("no Error line with request_id %s", id[1])
	}
}
