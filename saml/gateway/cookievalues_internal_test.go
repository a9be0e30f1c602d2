package gateway

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// netHTTPCookieValues is what cookieValues did before it scanned the
// header itself: net/http's parsing, then the same order, de-duplication
// and bound.
func netHTTPCookieValues(r *http.Request, name string) []string {
	var out []string
	for _, ck := range r.Cookies() {
		if ck.Name == name && !slices.Contains(out, ck.Value) {
			out = append(out, ck.Value)
			if len(out) == maxCookieCopies {
				break
			}
		}
	}
	return out
}

// TestCookieValues checks cookieValues against net/http's parsing of the
// Cookie header on the cases where a hand-written scanner could differ.
func TestCookieValues(t *testing.T) {
	const name = "__Host-samlgate_session"
	many := make([]string, 20)
	for i := range many {
		many[i] = name + "=v" + strings.Repeat("x", i)
	}
	for _, tc := range []struct {
		label string
		lines []string
		want  []string
	}{
		{"none", nil, nil},
		{"one", []string{name + "=abc.def"}, []string{"abc.def"}},
		{"among others", []string{"a=1; " + name + "=v; b=2"}, []string{"v"}},
		{"spaces around the pair and the name", []string{"  a=1 ;  " + name + " =v ; b=2"}, []string{"v"}},
		{"a space inside the value is kept", []string{name + "= v"}, []string{" v"}},
		{"quoted", []string{name + `="v"`}, []string{"v"}},
		{"a lone quote is refused", []string{name + `="v`}, nil},
		{"bad bytes are skipped", []string{name + "=a\\b; " + name + "=a\"b; " + name + "=a\x7fb; " + name + "=ok"}, []string{"ok"}},
		{"non-ASCII is skipped", []string{name + "=é; " + name + "=ok"}, []string{"ok"}},
		{"duplicates once, in order", []string{name + "=b; " + name + "=a; " + name + "=b"}, []string{"b", "a"}},
		{"several lines", []string{name + "=a", "x=1; " + name + "=b"}, []string{"a", "b"}},
		{"another letter case is another cookie", []string{"__host-samlgate_session=a"}, nil},
		{"a prefix of the name is another cookie", []string{name + "x=a; " + name[:len(name)-1] + "=b"}, nil},
		{"empty value", []string{name + "="}, []string{""}},
		{"no '='", []string{name}, []string{""}},
		{"bounded", []string{strings.Join(many, "; ")}, netHTTPCookieValues(&http.Request{Header: http.Header{"Cookie": {strings.Join(many, "; ")}}}, name)},
	} {
		t.Run(tc.label, func(t *testing.T) {
			r := &http.Request{Header: http.Header{"Cookie": tc.lines}}
			got := cookieValues(r, name, nil)
			if !slices.Equal(got, tc.want) {
				t.Errorf("cookieValues = %q, want %q", got, tc.want)
			}
			if ref := netHTTPCookieValues(r, name); !slices.Equal(got, ref) {
				t.Errorf("cookieValues = %q, net/http reads %q", got, ref)
			}
			if tc.label == "bounded" && len(got) != maxCookieCopies {
				t.Errorf("%d values, want the bound %d", len(got), maxCookieCopies)
			}
		})
	}
}

// TestCookieValuesAllocations: reading the session cookie allocates
// nothing when the caller gives room for the values.
func TestCookieValuesAllocations(t *testing.T) {
	r := &http.Request{Header: http.Header{"Cookie": {"a=1; __Host-samlgate_session=" + strings.Repeat("x", 700) + "; b=2"}}}
	var buf [maxCookieCopies]string
	if n := testing.AllocsPerRun(100, func() { _ = cookieValues(r, "__Host-samlgate_session", buf[:0]) }); n != 0 {
		t.Errorf("%v allocations per call", n)
	}
}

// FuzzCookieValues: on any Cookie header, cookieValues reads what
// net/http's Request.Cookies reads, except past net/http's limit on the
// number of cookies, where net/http reads none (documented on
// cookieValues).
func FuzzCookieValues(f *testing.F) {
	const name = "samlgate_session"
	for _, s := range []string{"", name + "=a", `samlgate_session="a"; x=1`, " ; ;samlgate_session = b ;", name + "=a\x00b", name + "=a; " + name + "=a"} {
		f.Add(s, "b=2")
	}
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		if strings.Count(line1, ";")+strings.Count(line2, ";") > 2000 {
			t.Skip("beyond net/http's cookie count limit")
		}
		r := &http.Request{Header: http.Header{"Cookie": {line1, line2}}}
		got, want := cookieValues(r, name, nil), netHTTPCookieValues(r, name)
		if !slices.Equal(got, want) {
			t.Fatalf("cookieValues = %q, net/http reads %q", got, want)
		}
	})
}
