package groups

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/samlgate/samlgate/attributes"
)

// naiveGroups is the reference for group collection: the rules of Resolve
// written out as plainly as possible. invalid is true when some value must
// be refused (ErrInvalidName).
func naiveGroups(values []string, delim string) (out []string, invalid bool) {
	out = []string{}
	seen := map[string]bool{}
	for _, v := range values {
		parts := []string{v}
		if delim != "" {
			parts = strings.Split(v, delim)
		}
		for _, p := range parts {
			p = strings.Trim(p, " \t\r\n")
			if p == "" {
				continue
			}
			if !naiveValidName(p) {
				return nil, true
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, false
}

// checkInvalidNameMessage: the error names the attribute and the reason,
// from fixed text, and so can quote no group value.
func checkInvalidNameMessage(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	for _, attr := range []string{"memberOf", "GROUPS"} {
		for _, why := range []string{"a control character", "invalid UTF-8",
			"leading or trailing white space other than ASCII space, tab, CR or LF, or an invisible character"} {
			if msg == `groups: a value of the attribute "`+attr+`" has `+why+": malformed" {
				return
			}
		}
	}
	t.Fatalf("unexpected error text %q", msg)
}

// naiveValidName is the reference for badName.
func naiveValidName(p string) bool {
	if !utf8.ValidString(p) {
		return false
	}
	runes := []rune(p)
	for _, r := range runes {
		if unicode.IsControl(r) {
			return false
		}
	}
	for _, r := range []rune{runes[0], runes[len(runes)-1]} {
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
			unicode.Is(unicode.Variation_Selector, r) {
			return false
		}
	}
	return true
}

// FuzzResolve feeds arbitrary group values, delimiters and patterns to
// Resolve. Group values come from signed but otherwise untrusted
// assertions, so Resolve must never panic, and its output is checked
// against naive reference implementations.
func FuzzResolve(f *testing.F) {
	f.Add("eng\x00ops\x00 eng ", "", "eng-*", false)
	f.Add("a;b; ;c\x00b", ";", "?", false)
	f.Add("org/unit/admins", "/", "*/admins", false)
	f.Add("", "", "x", true)
	f.Add("\xff\xfe\x00 \u00a0", "\xff", "*\u00e9?", true)
	f.Add("Admins\u00a0\x00\u3000Admins\x00Admins\u0085\x00Admins", "", "Admins", false)
	f.Add("eng; Admins\u200b ;x", ";", "Admins", true)
	f.Add("Admins\x00Admins\ufe0f\x00\U000e0100Admins", "", "Admins*", false)
	f.Fuzz(func(t *testing.T, data, delim, pat string, overage bool) {
		if len(data) > 4096 || len(delim) > 8 || len(pat) > 64 {
			return
		}
		values := strings.Split(data, "\x00")
		half := len(values) / 2
		set := attributes.Set{
			{Name: "memberOf", Values: values[:half]},
			{Name: "email", Values: []string{"jane@example.com"}},
			{Name: "GROUPS", Values: values[half:]},
		}
		if overage {
			set = append(set, attributes.Attribute{Name: EntraOverageClaim, Values: []string{"https://graph"}})
		}
		full, invalid := naiveGroups(values, delim)

		// Collection alone.
		plain, err := Config{Delimiter: delim}.Resolve(set)
		switch {
		case invalid:
			if !errors.Is(err, ErrInvalidName) || plain.Groups != nil || plain.Roles != nil {
				t.Fatalf("invalid name: Resolve = %+v, %v; want ErrInvalidName", plain, err)
			}
			checkInvalidNameMessage(t, err)
		case overage && len(full) == 0:
			if !errors.Is(err, ErrOverage) {
				t.Fatalf("overage without groups: err = %v", err)
			}
		case err != nil:
			t.Fatalf("Resolve without gate: %v", err)
		case !reflect.DeepEqual(plain.Groups, full):
			t.Fatalf("Groups = %q, reference %q", plain.Groups, full)
		}

		cfg := Config{
			Delimiter:     delim,
			AllowedGroups: []string{pat},
			Filter:        []string{pat},
			Roles:         []RoleMapping{{Group: pat, Role: "r"}, {Group: "*", Role: "all"}},
		}
		r, err := cfg.Compile()
		if err != nil {
			if cfg.Validate() == nil {
				t.Fatalf("Compile failed but Validate passed: %v", err)
			}
			return
		}
		res, err := r.Resolve(set)
		if invalid {
			// Refused whatever the gate, filter and roles say.
			if !errors.Is(err, ErrInvalidName) || res.Groups != nil || res.Roles != nil {
				t.Fatalf("invalid name with a policy: Resolve = %+v, %v; want ErrInvalidName", res, err)
			}
			return
		}
		if overage && len(full) == 0 {
			if !errors.Is(err, ErrOverage) {
				t.Fatalf("overage without groups: err = %v", err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, ErrNotAllowed) {
				t.Fatalf("unexpected error %v", err)
			}
			if res.Groups != nil || res.Roles != nil {
				t.Fatalf("groups or roles returned with error")
			}
			checkNoValues(t, err, set)
		}
		if !utf8.ValidString(pat) || strings.ContainsRune(pat, utf8.RuneError) {
			// The regexp reference does not apply (see FuzzGlob).
			return
		}
		var wantGroups, wantRoles []string
		for _, g := range full {
			if refMatch(t, pat, g) {
				wantGroups = append(wantGroups, g)
			}
		}
		if len(wantGroups) == 0 {
			if !errors.Is(err, ErrNotAllowed) {
				t.Fatalf("no group matches %q but err = %v", pat, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("group %q matches %q but err = %v", wantGroups[0], pat, err)
		}
		// Roles: per group in order, mapping 0 ("r") before mapping 1 ("all").
		if full[0] == wantGroups[0] {
			wantRoles = []string{"r", "all"}
		} else {
			wantRoles = []string{"all", "r"}
		}
		if !reflect.DeepEqual(res.Groups, wantGroups) || !reflect.DeepEqual(res.Roles, wantRoles) {
			t.Fatalf("Resolve = %q / %q, reference %q / %q", res.Groups, res.Roles, wantGroups, wantRoles)
		}
	})
}
