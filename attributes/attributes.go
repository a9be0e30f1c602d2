package attributes

import "strings"

// Attribute is one SAML attribute of a verified assertion. Repeated
// <Attribute> elements with the same Name (exact match) are merged by the
// caller into one Attribute, values in document order.
type Attribute struct {
	Name         string
	FriendlyName string
	NameFormat   string
	Values       []string
}

// matches reports whether name refers to a, comparing case-insensitively
// against both Name and FriendlyName. An empty name never matches: otherwise
// every attribute without a FriendlyName would match "".
func (a Attribute) matches(name string) bool {
	if name == "" {
		return false
	}
	return strings.EqualFold(a.Name, name) ||
		(a.FriendlyName != "" && strings.EqualFold(a.FriendlyName, name))
}

// Set is all attributes of one assertion, in document order.
type Set []Attribute

// Lookup returns the attributes whose Name or FriendlyName equals one of
// names, case-insensitively (strings.EqualFold), tried in the order of names:
// the result lists attributes matching names[0] first, then names[1], ...,
// each attribute at most once.
//
// The returned Attributes share their Values slices with s.
func (s Set) Lookup(names ...string) []Attribute {
	if len(s) == 0 || len(names) == 0 {
		return nil
	}
	var out []Attribute
	// An attribute can match several names (Name matches one alias,
	// FriendlyName another); taken keeps it from being returned twice.
	var taken []bool
	if len(names) > 1 {
		taken = make([]bool, len(s))
	}
	for _, name := range names {
		for i := range s {
			if taken != nil && taken[i] {
				continue
			}
			if s[i].matches(name) {
				out = append(out, s[i])
				if taken != nil {
					taken[i] = true
				}
			}
		}
	}
	return out
}

// Values returns, de-duplicated in first-seen order, every value of every
// attribute Lookup(names...) finds.
//
// Values are returned exactly as sent (not trimmed), and de-duplication is
// exact, so "a" and "A" are both kept.
func (s Set) Values(names ...string) []string {
	attrs := s.Lookup(names...)
	var out []string
	seen := make(map[string]struct{})
	for _, a := range attrs {
		for _, v := range a.Values {
			if _, dup := seen[v]; dup {
				continue
			}
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}

// Map returns Name -> values (for JSON output and session storage); values of
// attributes with equal Name are concatenated.
//
// The map owns its slices: changing them does not change s. An attribute
// without values maps to an empty, non-nil slice so that it still shows up
// as [] rather than null in JSON.
func (s Set) Map() map[string][]string {
	m := make(map[string][]string, len(s))
	for _, a := range s {
		if _, ok := m[a.Name]; !ok {
			m[a.Name] = make([]string, 0, len(a.Values))
		}
		m[a.Name] = append(m[a.Name], a.Values...)
	}
	return m
}

// Names returns the distinct Names of the attributes in s, in document
// order. It exists so that diagnostics can say which attributes an
// assertion did carry without revealing any of their values.
func (s Set) Names() []string {
	out := make([]string, 0, len(s))
	seen := make(map[string]struct{}, len(s))
	for _, a := range s {
		if _, dup := seen[a.Name]; dup {
			continue
		}
		seen[a.Name] = struct{}{}
		out = append(out, a.Name)
	}
	return out
}
