package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
)

// auditLog captures a gateway's JSON log, Debug included.
type auditLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *auditLog) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(gwLockedWriter{&l.mu, &l.buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines decodes every line, failing on a key that appears twice in one.
func TestTopKeys(t *testing.T) {
	got := topKeys(t, []byte(`{"a":1,"b":{"a":2,"c":[{"d":"e"}]},"f":"g","a":true}`))
	if want := []string{"a", "b", "f", "a"}; !slices.Equal(got, want) {
		t.Errorf("topKeys = %q, want %q", got, want)
	}
}

func (l *auditLog) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	data := slices.Clone(l.buf.Bytes())
	l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Bytes()
		if keys := topKeys(t, line); len(keys) != len(slices.Compact(slices.Sorted(slices.Values(keys)))) {
			t.Errorf("a key appears twice: %s", line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// topKeys lists the keys of a JSON object as written, duplicates included.
func topKeys(t *testing.T, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	var keys []string
	depth := 0
	expectKey := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return keys
		}
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			// After '{' opening the line, or a nested value closing, a
			// key comes next.
			expectKey = depth == 1
			continue
		case string:
			if depth == 1 && expectKey {
				keys = append(keys, v)
				expectKey = false
				continue
			}
		}
		if depth == 1 {
			expectKey = true
		}
	}
}

// event returns the Info lines of one audit event.
func events(lines []map[string]any, event string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["level"] == "INFO" && l["event"] == event {
			out = append(out, l)
		}
	}
	return out
}

func checkKeys(t *testing.T, line map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		got, ok := line[k]
		if !ok || v != nil && got != v {
			t.Errorf("%s: %q is %v (present %v), want %v", line["msg"], k, got, ok, v)
		}
	}
}

// TestAuditLog runs a day of a gateway (logins by both flows, a refusal,
// a logout, a revocation) and checks the Info lines: one per event, each
// key once, the keys the issue lists, and never an email, a name or a
// group of the user (the allowed groups of the configuration may appear:
// they are what the admin compares). The refusal's detail is at Debug.
func TestAuditLog(t *testing.T) {
	var logs auditLog
	clk := &gwClock{t: gwPinned}
	store := gateway.NewMemorySessionStore(gateway.MemorySessionLimits{}, clk.Now)
	e := newGwEnv(t, gwOptions{
		clk:     clk,
		connMod: func(c *saml.ConnectionConfig) { c.Groups = groups.Config{AllowedGroups: []string{"Engineering"}} },
		cfgMod:  func(c *gateway.Config) { c.Logger = logs.logger(); c.SessionStore = store },
	})
	ctx := context.Background()

	// IdP-initiated login, then logout.
	b := e.browser()
	res := e.login(b, e.response("acme"))
	cookie := gwSessionCookie(t, res)
	if res := logoutPost(b, ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	// SP-initiated login.
	b = e.browser()
	id, acs, relay := e.startLogin(b, "connection=acme")
	r := e.response("acme")
	r.InResponseTo = id
	if res := b.post(acs, e.mint(r), relay); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("SP-initiated login: %d", res.StatusCode)
	}
	// A refusal: a user in no allowed group.
	r = e.response("acme")
	r.Groups = []string{"Secret-Project-X", "Sales"}
	e.browser().post(gwACS("acme"), e.mint(r), "")
	// A revocation.
	if err := e.gw.RevokeUser(ctx, "acme", gwEmail); err != nil {
		t.Fatal(err)
	}

	lines := logs.lines(t)
	logins := events(lines, "login")
	if len(logins) != 2 {
		t.Fatalf("%d login lines, want 2", len(logins))
	}
	subject := logins[0]["subject"]
	if s, _ := subject.(string); !strings.HasPrefix(s, "hmac:") || len(s) != len("hmac:")+32 {
		t.Errorf("an email-shaped subject is logged as %v, want hmac:<32 hex>", subject)
	}
	checkKeys(t, logins[0], map[string]any{"msg": "samlgate: login", "connection": "acme", "flow": "idp-initiated", "subject": subject, "session": nil, "groups": 2.0, "request_id": nil})
	checkKeys(t, logins[1], map[string]any{"flow": "sp-initiated", "subject": subject})
	if logins[0]["session"] == logins[1]["session"] {
		t.Error("two sessions, one session hash")
	}

	refused := events(lines, "login_refused")
	if len(refused) != 1 {
		t.Fatalf("%d login_refused lines, want 1", len(refused))
	}
	checkKeys(t, refused[0], map[string]any{"msg": "samlgate: login refused", "connection": "acme", "flow": "idp-initiated", "code": "group_not_allowed", "request_id": nil, "expected": "a member of Engineering", "hint": nil})

	logouts := events(lines, "logout")
	if len(logouts) != 1 {
		t.Fatalf("%d logout lines, want 1", len(logouts))
	}
	checkKeys(t, logouts[0], map[string]any{"msg": "samlgate: logout", "connection": "acme", "subject": subject, "session": logins[0]["session"], "server_side": true})

	revoked := events(lines, "sessions_revoked")
	if len(revoked) != 1 {
		t.Fatalf("%d sessions_revoked lines, want 1", len(revoked))
	}
	checkKeys(t, revoked[0], map[string]any{"msg": "samlgate: sessions revoked", "connection": "acme", "subject": subject, "outcome": "revoked"})

	var debugDetail bool
	for _, l := range lines {
		raw, _ := json.Marshal(l)
		if l["level"] == "DEBUG" {
			debugDetail = debugDetail || l["msg"] == "samlgate: login refused: detail"
			continue
		}
		for _, secret := range []string{gwEmail, "Alice", "Liddell", "Secret-Project-X", "Sales", "Everyone", cookie.Value} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("an Info line shows %q: %s", secret, raw)
			}
		}
	}
	if !debugDetail {
		t.Error("no refusal detail at Debug")
	}
}

// TestAuditSubject: an opaque subject (Okta's persistent NameID, Entra's
// object ID) is logged as it is, so that an admin can find the user's
// lines; an email-shaped one as its HMAC. A stateless session's logout says
// server_side false, and RevokeUser without a store logs its outcome.
func TestAuditSubject(t *testing.T) {
	var logs auditLog
	e := newGwEnv(t, gwOptions{cfgMod: func(c *gateway.Config) { c.Logger = logs.logger() }})
	b := e.browser()
	r := e.response("acme")
	r.NameID = "00u1abcd2EFGH3ijk4x7"
	e.login(b, r)
	logoutPost(b, "")
	err := e.gw.RevokeUser(context.Background(), "acme", r.NameID)
	if !errors.Is(err, saml.CodeConfigInvalid) {
		t.Fatalf("RevokeUser without a store: %v", err)
	}
	lines := logs.lines(t)
	for _, tc := range []struct {
		event string
		want  map[string]any
	}{
		{"login", map[string]any{"subject": r.NameID}},
		{"logout", map[string]any{"subject": r.NameID, "server_side": false}},
		{"sessions_revoked", map[string]any{"subject": r.NameID, "outcome": "config_invalid"}},
	} {
		l := events(lines, tc.event)
		if len(l) != 1 {
			t.Errorf("%d %s lines", len(l), tc.event)
			continue
		}
		checkKeys(t, l[0], tc.want)
	}
}
