package groups

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// refMatch is the trivially correct reference for pattern matching: the
// pattern translated to an anchored regular expression.
func refMatch(t testing.TB, pat, name string) bool {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range pat {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		t.Fatalf("reference regexp for %q: %v", pat, err)
	}
	return re.MatchString(name)
}

// compiledMatch matches name the way a Resolver does.
func compiledMatch(pat, name string) bool {
	m := newMatcher([]string{pat})
	return m.match(name)
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"eng", "eng", true},
		{"eng", "Eng", false},
		{"eng", "eng ", false},
		{"eng-*", "eng-", true},
		{"eng-*", "eng-web", true},
		{"eng-*", "eng-web/db", true},
		{"eng-*", "eng", false},
		{"eng-*", "xeng-web", false},
		{"*/admins", "/admins", true},
		{"*/admins", "a/b/admins", true},
		{"*/admins", "admins", false},
		{"*/admins", "a/admins/b", false},
		{"team-?", "team-a", true},
		{"team-?", "team-é", true},
		{"team-?", "team-日", true},
		{"team-?", "team-", false},
		{"team-?", "team-ab", false},
		{"team-?", "team-\xff", true},
		{"?", "", false},
		{"*", "", true},
		{"*", "anything/at all", true},
		{"**", "", true},
		{"*?*", "", false},
		{"*?*", "x", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "acb", false},
		{"*ab", "aab", true},
		{"*aab", "aaab", true},
		{"*a*a*a*a*b", strings.Repeat("a", 60), false},
		{"*a*a*a*a*b", strings.Repeat("a", 60) + "b", true},
		{"?*?", "日", false},
		{"?*?", "日本", true},
		{"é*", "é", true},
		{"é*", "e\u0301", false}, // no Unicode normalisation
		{"x?z", "x\xffz", true},
		{"[a]", "a", false}, // no character classes
		{"[a]", "[a]", true},
		{`a\*`, `a\`, true}, // no escapes
		{`a\*`, `a*`, false},
	}
	for _, tt := range tests {
		got := compiledMatch(tt.pattern, tt.name)
		if got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
		if ref := refMatch(t, tt.pattern, tt.name); ref != tt.want {
			t.Errorf("reference disagrees with the test table on (%q, %q)", tt.pattern, tt.name)
		}
		if isPattern(tt.pattern) {
			if g := globMatch(tt.pattern, tt.name); g != tt.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.name, g, tt.want)
			}
		}
	}
}

func TestCompilePattern(t *testing.T) {
	tests := []struct {
		in                     string
		prefix, middle, suffix string
		anyMiddle              bool
	}{
		{"eng-*", "eng-", "*", "", true},
		{"*/admins", "", "*", "/admins", true},
		{"team-?", "team-", "?", "", false},
		{"a*b?c", "a", "*b?", "c", false},
		{"*x*", "", "*x*", "", false},
		{"a**b", "a", "**", "b", true},
	}
	for _, tt := range tests {
		p := compilePattern(tt.in)
		if p.prefix != tt.prefix || p.middle != tt.middle || p.suffix != tt.suffix || p.anyMiddle != tt.anyMiddle {
			t.Errorf("compilePattern(%q) = %+v", tt.in, p)
		}
	}
}

// FuzzGlob compares the matcher against the regexp reference. Patterns with
// invalid UTF-8 or U+FFFD are skipped: the matcher compares literal bytes,
// while regexp decodes both sides to runes, so the two legitimately differ
// on those; names may be anything.
func FuzzGlob(f *testing.F) {
	seeds := [][2]string{
		{"eng-*", "eng-web"},
		{"*/admins", "a/b/admins"},
		{"team-?", "team-é"},
		{"a*b?c*", "axxbycz"},
		{"*a*a*b", "aaaaaaaaaaaaaaaa"},
		{"?*?", "日本"},
		{"x?z", "x\xffz"},
		{"é*", "\xc3"},
		{"*\u00e9", "\xc3\xa9"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, name string) {
		if len(pat) > 64 || len(name) > 256 {
			return
		}
		if !utf8.ValidString(pat) || strings.ContainsRune(pat, utf8.RuneError) {
			return
		}
		want := refMatch(t, pat, name)
		if got := compiledMatch(pat, name); got != want {
			t.Fatalf("match(%q, %q) = %v, reference %v", pat, name, got, want)
		}
		if got := globMatch(pat, name); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, reference %v", pat, name, got, want)
		}
	})
}
