package teamsync

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/samlgate/samlgate/groups"
)

// FuzzGlobMatch checks the link matcher against a regular expression
// built from the same pattern: group names come from the IdP, and a
// pattern link must match exactly the names it says, in linear time.
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{{"dev-*", "dev-backend"}, {"*a*a*b", strings.Repeat("a", 200)}, {"?", "é"}, {"a?c", "abc"}, {"", ""}, {"*", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			t.Skip()
		}
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`$`)
		want := regexp.MustCompile(re.String()).MatchString(name)
		if got := groups.MatchGlob(pattern, name); got != want {
			t.Fatalf("MatchGlob(%q, %q) = %v, regexp says %v", pattern, name, got, want)
		}
	})
}

// FuzzSync feeds arbitrary group lists to a sync: it is an error that
// applies nothing, or a sync whose stored state is what Preview computed.
func FuzzSync(f *testing.F) {
	f.Add("Engineering\nSupport", true)
	f.Add("eng\x00x\nSupport", true)
	f.Add("", false)
	f.Fuzz(func(t *testing.T, list string, present bool) {
		ctx := context.Background()
		store := NewMemoryStore()
		e, err := New(ctx, Config{Store: store, CreateTeams: true, Logger: slog.New(slog.DiscardHandler), Links: []Link{
			{Connection: "c", Group: "Engineering", Team: "eng"},
			{Connection: "c", Group: "sup*", Team: "support"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		l := Login{Connection: "c", Subject: "u", GroupsPresent: present}
		if list != "" {
			l.Groups = strings.Split(list, "\n")
		}
		want, perr := e.Preview(ctx, l)
		got, serr := e.Sync(ctx, l)
		if (perr == nil) != (serr == nil) {
			t.Fatalf("Preview error %v, Sync error %v", perr, serr)
		}
		stored, _ := store.UserTeams(ctx, "c", "u")
		if serr != nil {
			if len(stored) != 0 {
				t.Fatalf("a refused sync stored %v", stored)
			}
			return
		}
		if len(got.Teams) != len(want.Teams) || len(stored) != len(got.Teams) {
			t.Fatalf("preview %v, sync %v, stored %v", want.Teams, got.Teams, stored)
		}
	})
}
