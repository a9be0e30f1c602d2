package attributes

import (
	"reflect"
	"testing"
)

func attr(name string, values ...string) Attribute {
	return Attribute{Name: name, Values: values}
}

func names(attrs []Attribute) []string {
	var out []string
	for _, a := range attrs {
		out = append(out, a.Name)
	}
	return out
}

func TestLookup(t *testing.T) {
	set := Set{
		attr("mail", "m@example.com"),
		{Name: "urn:oid:0.9.2342.19200300.100.1.3", FriendlyName: "mail", Values: []string{"oid@example.com"}},
		attr("Email", "e@example.com"),
		attr("memberOf", "g"),
		{Name: "urn:oid:2.5.4.42", FriendlyName: "givenName", Values: []string{"Jane"}},
		attr(""),
	}
	tests := []struct {
		name  string
		set   Set
		names []string
		want  []string
	}{
		{"no names", set, nil, nil},
		{"empty set", nil, []string{"email"}, nil},
		{"exact name", set, []string{"memberOf"}, []string{"memberOf"}},
		{"case-insensitive name", set, []string{"memberOF"}, []string{"memberOf"}},
		{"case-insensitive name upper", set, []string{"EMAIL"}, []string{"Email"}},
		{"friendly name", set, []string{"givenname"}, []string{"urn:oid:2.5.4.42"}},
		{"name and friendly name both match, document order", set, []string{"mail"},
			[]string{"mail", "urn:oid:0.9.2342.19200300.100.1.3"}},
		{"priority order of names", set, []string{"email", "mail"},
			[]string{"Email", "mail", "urn:oid:0.9.2342.19200300.100.1.3"}},
		{"each attribute at most once", set, []string{"mail", "urn:oid:0.9.2342.19200300.100.1.3", "MAIL"},
			[]string{"mail", "urn:oid:0.9.2342.19200300.100.1.3"}},
		{"no match", set, []string{"groups"}, nil},
		// "" must not match the attributes whose FriendlyName is empty, nor
		// the attribute whose Name is empty.
		{"empty name matches nothing", set, []string{""}, nil},
		{"no prefix or substring matching", set, []string{"mai", "emails"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(tt.set.Lookup(tt.names...))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%q) = %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}

func TestValues(t *testing.T) {
	set := Set{
		attr("groups", "b", "a", "b"),
		attr("memberOf", "c", "a", "A", " a"),
		attr("other", "x"),
	}
	tests := []struct {
		name  string
		names []string
		want  []string
	}{
		{"single attribute deduped", []string{"groups"}, []string{"b", "a"}},
		{"across attributes in priority order", []string{"memberof", "groups"}, []string{"c", "a", "A", " a", "b"}},
		{"not found", []string{"nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := set.Values(tt.names...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Values(%q) = %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}

func TestMap(t *testing.T) {
	set := Set{
		attr("a", "1", "2"),
		attr("b"),
		attr("a", "3"),
		{Name: "c", FriendlyName: "C", Values: []string{"4"}},
	}
	want := map[string][]string{
		"a": {"1", "2", "3"},
		"b": {},
		"c": {"4"},
	}
	got := set.Map()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Map() = %q, want %q", got, want)
	}
	if got["b"] == nil {
		t.Errorf("attribute without values maps to nil, want empty slice")
	}
	// The map must not alias the set: session storage may keep it.
	got["a"][0] = "changed"
	got["c"][0] = "changed"
	if set[0].Values[0] != "1" || set[3].Values[0] != "4" {
		t.Errorf("Map() shares value slices with the Set")
	}
	if m := Set(nil).Map(); m == nil || len(m) != 0 {
		t.Errorf("Set(nil).Map() = %v, want empty non-nil map", m)
	}
}

func TestNames(t *testing.T) {
	set := Set{attr("b", "x"), attr("a"), attr("b", "y"), {Name: "c", FriendlyName: "cc"}}
	got := set.Names()
	want := []string{"b", "a", "c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}
