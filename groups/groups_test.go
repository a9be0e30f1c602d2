package groups

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/samlgate/samlgate/attributes"
)

func attr(name string, values ...string) attributes.Attribute {
	return attributes.Attribute{Name: name, Values: values}
}

func TestResolve(t *testing.T) {
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("group-%04d", i)
	}
	// Duplicates interleaved past the point where de-duplication switches
	// from scanning to a map.
	var dupVals, dupWant []string
	for i := range 40 {
		g := fmt.Sprintf("g%d", i)
		dupVals = append(dupVals, g, "g0", fmt.Sprintf("g%d", i/2))
		dupWant = append(dupWant, g)
	}

	tests := []struct {
		name       string
		cfg        Config
		set        attributes.Set
		wantGroups []string
		wantRoles  []string
		wantFound  bool
		wantErr    error
	}{
		{
			name:       "memberOf with several values",
			set:        attributes.Set{attr("memberOf", "eng", "ops")},
			wantGroups: []string{"eng", "ops"},
			wantFound:  true,
		},
		{
			name:       "attribute name is case-insensitive",
			set:        attributes.Set{attr("memberOF", "eng")},
			wantGroups: []string{"eng"},
			wantFound:  true,
		},
		{
			name:       "friendly name",
			set:        attributes.Set{{Name: "urn:oid:1.2.840.113556.1.2.102", FriendlyName: "memberOf", Values: []string{"eng"}}},
			wantGroups: []string{"eng"},
			wantFound:  true,
		},
		{
			name: "repeated attribute elements, not merged by the caller",
			set: attributes.Set{
				attr("memberOf", "eng"),
				attr("email", "jane@example.com"),
				attr("memberOf", "ops"),
			},
			wantGroups: []string{"eng", "ops"},
			wantFound:  true,
		},
		{
			name: "repeated attribute elements differing in name case",
			set: attributes.Set{
				attr("memberOf", "eng"),
				attr("MemberOf", "ops"),
			},
			wantGroups: []string{"eng", "ops"},
			wantFound:  true,
		},
		{
			name:       "entra groups claim",
			set:        attributes.Set{attr(EntraGroupsClaim, "5f1c-aaaa", "9d2e-bbbb")},
			wantGroups: []string{"5f1c-aaaa", "9d2e-bbbb"},
			wantFound:  true,
		},
		{
			name: "several default attributes: union in priority order",
			set: attributes.Set{
				attr("groups", "okta-group", "shared"),
				attr("memberOf", "jc-group", "shared"),
			},
			wantGroups: []string{"jc-group", "shared", "okta-group"},
			wantFound:  true,
		},
		{
			name: "custom attribute names replace defaults",
			cfg:  Config{AttributeNames: []string{"Roles"}},
			set: attributes.Set{
				attr("memberOf", "ignored"),
				attr("roles", "admin"),
			},
			wantGroups: []string{"admin"},
			wantFound:  true,
		},
		{
			name:       "no delimiter: value kept whole",
			set:        attributes.Set{attr("memberOf", "a;b")},
			wantGroups: []string{"a;b"},
			wantFound:  true,
		},
		{
			name:       "semicolon delimiter with trimming, empties and duplicates",
			cfg:        Config{Delimiter: ";"},
			set:        attributes.Set{attr("memberOf", " a ; ;b;a;; c ", "d;a", ";")},
			wantGroups: []string{"a", "b", "c", "d"},
			wantFound:  true,
		},
		{
			name:       "comma delimiter",
			cfg:        Config{Delimiter: ","},
			set:        attributes.Set{attr("groups", "eng,ops, sre")},
			wantGroups: []string{"eng", "ops", "sre"},
			wantFound:  true,
		},
		{
			name:       "multi-character delimiter",
			cfg:        Config{Delimiter: "||"},
			set:        attributes.Set{attr("groups", "a||b|c||")},
			wantGroups: []string{"a", "b|c"},
			wantFound:  true,
		},
		{
			name:       "trimming and empty values",
			set:        attributes.Set{attr("memberOf", "", "  ", " eng ", "\tops\n", "\r\n sre \r\n", "\t")},
			wantGroups: []string{"eng", "ops", "sre"},
			wantFound:  true,
		},
		{
			name:       "inner non-ASCII white space kept, distinct",
			set:        attributes.Set{attr("memberOf", "Domain\u00a0Admins", "Domain Admins")},
			wantGroups: []string{"Domain\u00a0Admins", "Domain Admins"},
			wantFound:  true,
		},
		{
			name:      "outer non-ASCII white space refused",
			set:       attributes.Set{attr("memberOf", "eng", "\u00a0sre\u2003")},
			wantFound: true,
			wantErr:   ErrInvalidName,
		},
		{
			name:       "inner white space kept",
			set:        attributes.Set{attr("memberOf", "Domain  Users")},
			wantGroups: []string{"Domain  Users"},
			wantFound:  true,
		},
		{
			name:       "de-duplication keeps first-seen order",
			set:        attributes.Set{attr("memberOf", "c", "a", "c", " a", "b", "a")},
			wantGroups: []string{"c", "a", "b"},
			wantFound:  true,
		},
		{
			name:       "de-duplication is case-sensitive",
			set:        attributes.Set{attr("memberOf", "Admins", "admins")},
			wantGroups: []string{"Admins", "admins"},
			wantFound:  true,
		},
		{
			name:       "de-duplication of many groups",
			set:        attributes.Set{attr("memberOf", dupVals...)},
			wantGroups: dupWant,
			wantFound:  true,
		},
		{
			name:       "no group attribute, no gate: empty, no error",
			set:        attributes.Set{attr("email", "jane@example.com")},
			wantGroups: []string{},
		},
		{
			name:       "group attribute without values",
			set:        attributes.Set{attr("memberOf")},
			wantGroups: []string{},
			wantFound:  true,
		},
		{
			name:       "gate: allowed by exact name",
			cfg:        Config{AllowedGroups: []string{"admins", "eng"}},
			set:        attributes.Set{attr("memberOf", "sales", "eng")},
			wantGroups: []string{"sales", "eng"},
			wantFound:  true,
		},
		{
			name:       "gate: allowed by pattern",
			cfg:        Config{AllowedGroups: []string{"eng-*"}},
			set:        attributes.Set{attr("memberOf", "sales", "eng-backend")},
			wantGroups: []string{"sales", "eng-backend"},
			wantFound:  true,
		},
		{
			name:      "gate: denied",
			cfg:       Config{AllowedGroups: []string{"admins", "eng-*"}},
			set:       attributes.Set{attr("memberOf", "sales", "Admins", "eng")},
			wantFound: true,
			wantErr:   &NotAllowedError{AttributeFound: true, LookedFor: DefaultAttributeNames, Present: []string{"memberOf"}},
		},
		{
			name: "gate: attribute missing",
			cfg:  Config{AllowedGroups: []string{"eng"}},
			set:  attributes.Set{attr("email", "jane@example.com"), attr("firstname", "Jane")},
			wantErr: &NotAllowedError{
				AttributeFound: false,
				LookedFor:      DefaultAttributeNames,
				Present:        []string{"email", "firstname"},
			},
		},
		{
			name:      "gate: attribute present but empty",
			cfg:       Config{AllowedGroups: []string{"eng"}},
			set:       attributes.Set{attr("memberOf", " ")},
			wantFound: true,
			wantErr:   &NotAllowedError{AttributeFound: true, LookedFor: DefaultAttributeNames, Present: []string{"memberOf"}},
		},
		{
			name:    "gate: empty assertion",
			cfg:     Config{AllowedGroups: []string{"*"}},
			wantErr: &NotAllowedError{LookedFor: DefaultAttributeNames, Present: []string{}},
		},
		{
			name:       "gate: star admits anyone with a group",
			cfg:        Config{AllowedGroups: []string{"*"}},
			set:        attributes.Set{attr("memberOf", "x")},
			wantGroups: []string{"x"},
			wantFound:  true,
		},
		{
			name:       "gate: sees groups after splitting",
			cfg:        Config{Delimiter: ";", AllowedGroups: []string{"eng"}},
			set:        attributes.Set{attr("memberOf", "sales;eng")},
			wantGroups: []string{"sales", "eng"},
			wantFound:  true,
		},
		{
			name:       "filter keeps matching groups only",
			cfg:        Config{Filter: []string{"eng-*", "admins"}},
			set:        attributes.Set{attr("memberOf", "eng-web", "sales", "admins", "eng-db", "Admins")},
			wantGroups: []string{"eng-web", "admins", "eng-db"},
			wantFound:  true,
		},
		{
			name:       "filter matching nothing leaves an empty list",
			cfg:        Config{Filter: []string{"eng-*"}},
			set:        attributes.Set{attr("memberOf", "sales")},
			wantGroups: []string{},
			wantFound:  true,
		},
		{
			name: "filter affects neither gate nor roles",
			cfg: Config{
				AllowedGroups: []string{"admins"},
				Filter:        []string{"app-*"},
				Roles:         []RoleMapping{{Group: "admins", Role: "admin"}},
			},
			set:        attributes.Set{attr("memberOf", "admins", "app-users")},
			wantGroups: []string{"app-users"},
			wantRoles:  []string{"admin"},
			wantFound:  true,
		},
		{
			name: "patterns",
			cfg: Config{Roles: []RoleMapping{
				{Group: "eng-*", Role: "engineer"},
				{Group: "*/admins", Role: "admin"},
				{Group: "team-?", Role: "team"},
			}},
			set: attributes.Set{attr("memberOf",
				"eng-", "team-ab", "team-", "eng", "Eng-x", "xeng-y", // no match
			)},
			wantGroups: []string{"eng-", "team-ab", "team-", "eng", "Eng-x", "xeng-y"},
			wantRoles:  []string{"engineer"},
			wantFound:  true,
		},
		{
			name: "pattern star spans slashes, question mark is one character",
			cfg: Config{Roles: []RoleMapping{
				{Group: "*/admins", Role: "admin"},
				{Group: "team-?", Role: "team"},
			}},
			set:        attributes.Set{attr("memberOf", "org/unit/admins", "team-é")},
			wantGroups: []string{"org/unit/admins", "team-é"},
			wantRoles:  []string{"admin", "team"},
			wantFound:  true,
		},
		{
			name: "star needs the slash of */admins",
			cfg: Config{
				AllowedGroups: []string{"*/admins"},
			},
			set:       attributes.Set{attr("memberOf", "admins", "xadmins", "/admins/x")},
			wantFound: true,
			wantErr:   &NotAllowedError{AttributeFound: true, LookedFor: DefaultAttributeNames, Present: []string{"memberOf"}},
		},
		{
			name: "roles: order of groups, then of mappings; de-duplicated",
			cfg: Config{Roles: []RoleMapping{
				{Group: "ops", Role: "operator"},
				{Group: "eng-*", Role: "viewer"},
				{Group: "eng-lead", Role: "approver"},
				{Group: "eng-*", Role: "engineer"},
				{Group: "ops", Role: "viewer"},
				{Group: "eng-lead", Role: "viewer"},
			}},
			set:        attributes.Set{attr("memberOf", "eng-lead", "ops", "eng-web")},
			wantGroups: []string{"eng-lead", "ops", "eng-web"},
			wantRoles:  []string{"viewer", "approver", "engineer", "operator"},
			wantFound:  true,
		},
		{
			name: "roles: exact mapping before pattern mapping by index",
			cfg: Config{Roles: []RoleMapping{
				{Group: "eng", Role: "a"},
				{Group: "e*", Role: "b"},
				{Group: "eng", Role: "c"},
				{Group: "?ng", Role: "d"},
				{Group: "eng", Role: "e"},
			}},
			set:        attributes.Set{attr("memberOf", "eng")},
			wantGroups: []string{"eng"},
			wantRoles:  []string{"a", "b", "c", "d", "e"},
			wantFound:  true,
		},
		{
			name:       "roles: matching is case-sensitive",
			cfg:        Config{Roles: []RoleMapping{{Group: "Admins", Role: "admin"}, {Group: "ENG-*", Role: "eng"}}},
			set:        attributes.Set{attr("memberOf", "admins", "eng-web")},
			wantGroups: []string{"admins", "eng-web"},
			wantRoles:  []string{},
			wantFound:  true,
		},
		{
			name:    "overage",
			set:     attributes.Set{attr(EntraOverageClaim, "https://graph.windows.net/tenant/users/oid/getMemberObjects")},
			wantErr: ErrOverage,
		},
		{
			name:    "overage claim name is case-insensitive",
			set:     attributes.Set{attr(strings.ToUpper(EntraOverageClaim), "https://graph")},
			wantErr: ErrOverage,
		},
		{
			name:    "overage takes precedence over the gate",
			cfg:     Config{AllowedGroups: []string{"eng"}},
			set:     attributes.Set{attr(EntraOverageClaim, "https://graph")},
			wantErr: ErrOverage,
		},
		{
			name:      "overage with an empty groups claim",
			set:       attributes.Set{attr(EntraGroupsClaim, ""), attr(EntraOverageClaim, "https://graph")},
			wantFound: true,
			wantErr:   ErrOverage,
		},
		{
			name:       "overage claim ignored when groups are present",
			set:        attributes.Set{attr(EntraGroupsClaim, "g1"), attr(EntraOverageClaim, "https://graph")},
			wantGroups: []string{"g1"},
			wantFound:  true,
		},
		{
			name: "1,000 groups",
			cfg: Config{
				AllowedGroups: []string{"group-0999"},
				Filter:        []string{"group-00??"},
				Roles:         []RoleMapping{{Group: "group-05*", Role: "five"}, {Group: "group-0001", Role: "one"}},
			},
			set:        attributes.Set{attr("memberOf", many...)},
			wantGroups: many[:100],
			wantRoles:  []string{"one", "five"},
			wantFound:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.cfg.Compile()
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := r.Resolve(tt.set)
			if got.AttributeFound != tt.wantFound {
				t.Errorf("AttributeFound = %v, want %v", got.AttributeFound, tt.wantFound)
			}
			wantNames := tt.cfg.AttributeNames
			if wantNames == nil {
				wantNames = DefaultAttributeNames
			}
			if !reflect.DeepEqual(got.AttributeNames, wantNames) {
				t.Errorf("AttributeNames = %q, want %q", got.AttributeNames, wantNames)
			}
			if tt.wantErr != nil {
				checkErr(t, err, tt.wantErr)
				if got.Groups != nil || got.Roles != nil {
					t.Errorf("Result on error carries groups %q / roles %q", got.Groups, got.Roles)
				}
				checkNoValues(t, err, tt.set)
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if !reflect.DeepEqual(got.Groups, tt.wantGroups) {
				t.Errorf("Groups = %q, want %q", got.Groups, tt.wantGroups)
			}
			wantRoles := tt.wantRoles
			if wantRoles == nil {
				wantRoles = []string{}
			}
			if !reflect.DeepEqual(got.Roles, wantRoles) {
				t.Errorf("Roles = %q, want %q", got.Roles, wantRoles)
			}

			// Config.Resolve must agree with the compiled path.
			got2, err2 := tt.cfg.Resolve(tt.set)
			if err2 != nil || !reflect.DeepEqual(got, got2) {
				t.Errorf("Config.Resolve = %+v, %v; Resolver.Resolve = %+v", got2, err2, got)
			}
		})
	}
}

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	var wantNA *NotAllowedError
	if !errors.As(want, &wantNA) {
		if !errors.Is(err, want) {
			t.Errorf("error = %v, want %v", err, want)
		}
		return
	}
	var na *NotAllowedError
	if !errors.As(err, &na) {
		t.Fatalf("error = %v, want *NotAllowedError", err)
	}
	if !errors.Is(err, ErrNotAllowed) {
		t.Errorf("errors.Is(%v, ErrNotAllowed) = false", err)
	}
	if !reflect.DeepEqual(na, wantNA) {
		t.Errorf("NotAllowedError = %+v, want %+v", na, wantNA)
	}
}

// checkNoValues fails if err's text contains any attribute value: group
// names reveal organisation structure and errors end up in logs.
func checkNoValues(t *testing.T, err error, set attributes.Set) {
	t.Helper()
	msg := err.Error()
	for _, a := range set {
		for _, v := range a.Values {
			if v = strings.TrimSpace(v); len(v) > 1 && strings.Contains(msg, v) {
				t.Errorf("error %q contains attribute value %q", msg, v)
			}
		}
	}
}

func TestNotAllowedError(t *testing.T) {
	found := &NotAllowedError{AttributeFound: true, LookedFor: []string{"memberOf"}, Present: []string{"memberOf"}}
	if got, want := found.Error(), "groups: user is not in an allowed group"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	missing := &NotAllowedError{LookedFor: []string{"memberOf", "groups"}, Present: []string{"email", "odd\nname"}}
	want := `groups: user is not in an allowed group: the assertion has no group attribute ` +
		`(looked for "memberOf", "groups"; present: "email", "odd\nname"); configure the IdP to include group attributes`
	if got := missing.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := (&NotAllowedError{}).Error(); !strings.Contains(got, "present: none") {
		t.Errorf("Error() with nothing present = %q", got)
	}
	wrapped := fmt.Errorf("login: %w", missing)
	if !errors.Is(wrapped, ErrNotAllowed) {
		t.Errorf("wrapped NotAllowedError is not ErrNotAllowed")
	}
	if errors.Is(wrapped, ErrOverage) || errors.Is(ErrOverage, ErrNotAllowed) {
		t.Errorf("ErrOverage and ErrNotAllowed must be distinct")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; "" means valid
	}{
		{"zero config", Config{}, ""},
		{"full config", Config{
			AttributeNames: []string{"memberOf"},
			Delimiter:      ";",
			AllowedGroups:  []string{"eng", "ops-*"},
			Filter:         []string{"*"},
			Roles:          []RoleMapping{{Group: "eng", Role: "engineer"}, {Group: "team-?", Role: "team"}},
		}, ""},
		{"empty AttributeNames", Config{AttributeNames: []string{}}, "AttributeNames is empty"},
		{"empty attribute name", Config{AttributeNames: []string{"memberOf", ""}}, "AttributeNames[1]: empty"},
		{"empty allowed group", Config{AllowedGroups: []string{"eng", ""}}, "AllowedGroups[1]: empty"},
		{"padded allowed group", Config{AllowedGroups: []string{" eng"}}, "AllowedGroups[0]: leading or trailing white space"},
		{"allowed group with delimiter", Config{Delimiter: ";", AllowedGroups: []string{"a;b"}}, "AllowedGroups[0]: contains the Delimiter"},
		{"empty filter", Config{Filter: []string{"a", "b", ""}}, "Filter[2]: empty"},
		{"padded filter", Config{Filter: []string{"a\t"}}, "Filter[0]: leading or trailing"},
		{"empty role group", Config{Roles: []RoleMapping{{Group: "a", Role: "r"}, {Role: "r"}}}, "Roles[1].Group: empty"},
		{"padded role group", Config{Roles: []RoleMapping{{Group: "a ", Role: "r"}}}, "Roles[0].Group: leading or trailing"},
		{"role group with delimiter", Config{Delimiter: ",", Roles: []RoleMapping{{Group: "a,b", Role: "r"}}}, "Roles[0].Group: contains the Delimiter"},
		{"empty role", Config{Roles: []RoleMapping{{Group: "a"}}}, "Roles[0].Role: empty"},
		{"padded role", Config{Roles: []RoleMapping{{Group: "a", Role: " r"}}}, "Roles[0].Role: leading or trailing"},
		{"allowed group with a control character", Config{AllowedGroups: []string{"Ad\x00mins"}}, "AllowedGroups[0]: has a control character"},
		{"allowed group padded with NEL", Config{AllowedGroups: []string{"Admins\u0085"}}, "AllowedGroups[0]: leading or trailing white space"},
		{"filter ending in a zero-width space", Config{Filter: []string{"Admins\u200b"}}, "Filter[0]: has leading or trailing white space other than ASCII"},
		{"role group starting with a BOM", Config{Roles: []RoleMapping{{Group: "\ufeffAdmins", Role: "r"}}}, "Roles[0].Group: has leading or trailing"},
		{"allowed group ending in a variation selector", Config{AllowedGroups: []string{"Admins\ufe0f"}}, "AllowedGroups[0]: has leading or trailing"},
		{"role ending in a variation selector", Config{Roles: []RoleMapping{{Group: "a", Role: "admin\U000e0100"}}}, "Roles[0].Role: has leading or trailing"},
		{"inner variation selector is fine", Config{AllowedGroups: []string{"Team \u2764\ufe0f Ops"}}, ""},
		{"role group with invalid UTF-8", Config{Roles: []RoleMapping{{Group: "Admins\xff", Role: "r"}}}, "Roles[0].Group: has invalid UTF-8"},
		{"role with a control character", Config{Roles: []RoleMapping{{Group: "a", Role: "ad\nmin"}}}, "Roles[0].Role: has a control character"},
		{"inner non-ASCII space is fine", Config{AllowedGroups: []string{"Domain\u00a0Admins"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			_, cerr := tt.cfg.Compile()
			if tt.wantErr == "" {
				if err != nil || cerr != nil {
					t.Fatalf("Validate = %v, Compile = %v; want nil", err, cerr)
				}
				return
			}
			_, rerr := tt.cfg.Resolve(attributes.Set{attr("memberOf", "a")})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
			if cerr == nil || rerr == nil {
				t.Errorf("Compile = %v, Resolve = %v; want errors", cerr, rerr)
			}
		})
	}
}

// TestResolverIndependentOfConfig checks that a Resolver does not share
// memory with its Config or hand out its own: it must stay as compiled.
// TestOddWhitespaceNames: issue 12 (CWE-1289). Group values were trimmed
// of every Unicode space, so a group the IdP named "Admins\u00a0",
// "\u3000Admins" or "Admins\u0085" passed a gate, a filter and a role
// mapping for "Admins". Only ASCII space, tab, CR and LF are trimmed now;
// a value with other outer white space, an invisible character at either
// end or a control character is refused with ErrInvalidName, whatever the
// configuration, and never merged into (nor kept beside) the real group.
func TestOddWhitespaceNames(t *testing.T) {
	configs := []struct {
		name string
		cfg  Config
	}{
		{"no policy", Config{}},
		{"gate", Config{AllowedGroups: []string{"Admins"}}},
		{"filter", Config{Filter: []string{"Admins"}}},
		{"roles", Config{Roles: []RoleMapping{{Group: "Admins", Role: "admin"}}}},
		{"patterns", Config{AllowedGroups: []string{"Adm*"}, Filter: []string{"*"}, Roles: []RoleMapping{{Group: "*", Role: "any"}}}},
		{"delimiter", Config{Delimiter: ";", AllowedGroups: []string{"Admins"}, Roles: []RoleMapping{{Group: "Admins", Role: "admin"}}}},
	}
	names := []string{
		"Admins\u00a0", "\u3000Admins", "Admins\u0085", // the three
		"Admins\u2003", "\u2028Admins", "Admins\u200b", "\ufeffAdmins", "Admins\u3164",
		// Variation selectors: "Admins\uFE0F" renders as "Admins".
		"Admins\ufe0f", "\ufe00Admins", "Admins\u180b", "Admins\u180f", "Admins\U000e0100", "\U000e01efAdmins",
		"Admins\v", "Admins\f", "Ad\x00mins", "Ad\nmins", "Ad\tmins", "Admins\x7f", "Admins\xff",
	}
	for _, c := range configs {
		r, err := c.cfg.Compile()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, name := range names {
			valueLists := [][]string{{name}, {"Admins", name}, {name, "Admins"}}
			if c.cfg.Delimiter != "" {
				valueLists = append(valueLists, []string{"eng;" + name + ";x"}, []string{"eng; " + name + " ;Admins"})
			}
			for _, values := range valueLists {
				set := attributes.Set{attr("memberOf", values...)}
				res, err := r.Resolve(set)
				if !errors.Is(err, ErrInvalidName) || errors.Is(err, ErrNotAllowed) {
					t.Errorf("%s, values %q: Resolve = %q / %q, %v; want ErrInvalidName", c.name, values, res.Groups, res.Roles, err)
					continue
				}
				if res.Groups != nil || res.Roles != nil || !res.AttributeFound {
					t.Errorf("%s, values %q: Result %+v with the error", c.name, values, res)
				}
				if strings.Contains(err.Error(), "Admins") || !strings.Contains(err.Error(), `"memberOf"`) {
					t.Errorf("error %q: want the attribute name, never the value", err)
				}
			}
		}
	}
	// ASCII padding is still trimmed, and merges as it always did.
	res, err := Config{AllowedGroups: []string{"Admins"}, Roles: []RoleMapping{{Group: "Admins", Role: "admin"}}}.
		Resolve(attributes.Set{attr("memberOf", " Admins\t", "\r\nAdmins ")})
	if err != nil || !reflect.DeepEqual(res.Groups, []string{"Admins"}) || !reflect.DeepEqual(res.Roles, []string{"admin"}) {
		t.Errorf("ASCII padding: %+v, %v", res, err)
	}
}

func TestResolverIndependentOfConfig(t *testing.T) {
	cfg := Config{
		AttributeNames: []string{"memberOf"},
		AllowedGroups:  []string{"eng"},
		Roles:          []RoleMapping{{Group: "eng", Role: "engineer"}},
	}
	r, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	cfg.AttributeNames[0] = "other"
	cfg.AllowedGroups[0] = "other"
	cfg.Roles[0] = RoleMapping{Group: "other", Role: "other"}

	set := attributes.Set{attr("memberOf", "eng")}
	got, err := r.Resolve(set)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if !reflect.DeepEqual(got.Roles, []string{"engineer"}) {
		t.Errorf("Roles = %q", got.Roles)
	}
	got.AttributeNames[0] = "changed"
	if got, _ := r.Resolve(set); got.AttributeNames[0] != "memberOf" {
		t.Errorf("Result.AttributeNames aliases the Resolver")
	}

	// The defaults are copied too.
	r, _ = Config{}.Compile()
	got, _ = r.Resolve(nil)
	got.AttributeNames[0] = "changed"
	if DefaultAttributeNames[0] != "memberOf" {
		t.Errorf("Result.AttributeNames aliases DefaultAttributeNames")
	}
}

func TestResolveDoesNotModifyInput(t *testing.T) {
	set := attributes.Set{attr("memberOf", " b ", "a", "b", "c")}
	r, _ := Config{Filter: []string{"a"}}.Compile()
	if _, err := r.Resolve(set); err != nil {
		t.Fatal(err)
	}
	if want := []string{" b ", "a", "b", "c"}; !reflect.DeepEqual(set[0].Values, want) {
		t.Errorf("input values changed to %q", set[0].Values)
	}
}

func TestManyRoles(t *testing.T) {
	// More than 64 distinct roles exercises the multi-word bit set.
	var cfg Config
	var vals, want []string
	for i := range 150 {
		g := fmt.Sprintf("g%d", i)
		cfg.Roles = append(cfg.Roles, RoleMapping{Group: g, Role: "r" + g})
		vals = append(vals, g)
		want = append(want, "r"+g)
	}
	cfg.Roles = append(cfg.Roles, RoleMapping{Group: "g*", Role: "rg0"})
	vals = append(vals, "g0", "g149")
	got, err := cfg.Resolve(attributes.Set{attr("memberOf", vals...)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Roles, want) {
		t.Errorf("Roles = %q, want %q", got.Roles, want)
	}
}

func TestResolverConcurrent(t *testing.T) {
	r, err := Config{
		AllowedGroups: []string{"eng-*"},
		Filter:        []string{"eng-*"},
		Roles:         []RoleMapping{{Group: "eng-*", Role: "engineer"}},
	}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			set := attributes.Set{attr("memberOf", fmt.Sprintf("eng-%d", i), "sales")}
			for range 100 {
				got, err := r.Resolve(set)
				if err != nil || len(got.Groups) != 1 || len(got.Roles) != 1 {
					t.Errorf("Resolve = %+v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
