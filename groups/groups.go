package groups

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/samlgate/samlgate/attributes"
)

// EntraGroupsClaim is the attribute name under which Entra ID sends group
// object IDs (or names, if so configured).
const EntraGroupsClaim = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"

// EntraOverageClaim is the attribute Entra ID sends instead of
// [EntraGroupsClaim] when the user is in too many groups to list.
const EntraOverageClaim = "http://schemas.microsoft.com/claims/groups.link"

// DefaultAttributeNames are the group attribute names looked up when
// Config.AttributeNames is nil: JumpCloud and directory IdPs ("memberOf"),
// Okta and Google ("groups", as usually configured) and Entra ID.
var DefaultAttributeNames = []string{"memberOf", "groups", EntraGroupsClaim}

// RoleMapping grants Role to users in Group.
type RoleMapping struct {
	Group string // exact group name, or a pattern with '*' (any run of characters, including '/' and empty) and '?' (one character); matching is case-sensitive
	Role  string
}

// Config says where to find groups in an assertion and what they mean to
// the application. The zero Config reads the default attributes, admits
// everyone and maps no roles.
type Config struct {
	// AttributeNames are looked up via attributes.Set.Lookup
	// (case-insensitive on Name and FriendlyName). nil means
	// DefaultAttributeNames.
	AttributeNames []string
	// Delimiter, when not "", splits each value on it (e.g. ";" or ","),
	// for IdPs that pack all groups into one value.
	Delimiter string
	// AllowedGroups is a gate: if non-empty the user must be in at least
	// one (exact names or patterns), or Resolve returns a *NotAllowedError.
	AllowedGroups []string
	// Filter, if non-empty, makes Result.Groups keep only groups matching
	// one of these (exact names or patterns). It affects neither the gate
	// nor the roles.
	Filter []string
	// Roles maps groups to roles. Result.Roles is de-duplicated in
	// first-seen order: order of the user's groups, then of the mappings.
	Roles []RoleMapping
}

// Result is the outcome of resolving groups for one assertion.
type Result struct {
	// Groups is the user's groups: trimmed of ASCII white space,
	// non-empty, de-duplicated, in first-seen order, and restricted by
	// Config.Filter if set.
	Groups []string
	// Roles is the roles granted by Config.Roles, de-duplicated.
	Roles []string
	// AttributeFound reports whether any group attribute was present, even
	// if it held no usable values.
	AttributeFound bool
	// AttributeNames is the attribute names looked for.
	AttributeNames []string
	// Received is the number of distinct groups the attribute held, before
	// Config.Filter: what an IdP's documented cap on the list applies to
	// (see package groups/teamsync).
	Received int
}

// Code is why Resolve refused an assertion. Like saml.Code it is an error
// and a constant, so no caller can change what errors.Is matches; its
// values are the names of saml's codes for the same refusals, which is how
// package saml maps them.
type Code string

// Error returns the code itself.
func (c Code) Error() string { return string(c) }

const (
	// ErrOverage is matched when Entra ID sent a link to the groups
	// ([EntraOverageClaim]) instead of the groups themselves.
	ErrOverage Code = "groups_overage"
	// ErrNotAllowed is matched by errors.Is for every [*NotAllowedError].
	ErrNotAllowed Code = "group_not_allowed"
	// ErrInvalidName is matched when a group value, once trimmed of ASCII
	// white space, holds a control character or invalid UTF-8, or starts
	// or ends with other white space or an invisible character (see the
	// package documentation, "Group names").
	ErrInvalidName Code = "malformed"
)

// errOverage is what Resolve returns for an overage claim.
var errOverage = fmt.Errorf("groups: Entra ID omitted the groups claim because the user is in too many groups "+
	"(group overage); configure the application to emit only groups assigned to it: %w", ErrOverage)

// NotAllowedError is returned when Config.AllowedGroups is set and the user
// is in none of those groups. It never holds group values, which are not
// needed to diagnose the problem and reveal organisation structure.
type NotAllowedError struct {
	// AttributeFound is false when the assertion had no group attribute at
	// all, which usually means the IdP is not configured to send one.
	AttributeFound bool
	// LookedFor is the group attribute names searched for.
	LookedFor []string
	// Present is the attribute NAMES present in the assertion, never group
	// values.
	Present []string
}

func (e *NotAllowedError) Error() string {
	if e.AttributeFound {
		return "groups: user is not in an allowed group"
	}
	return fmt.Sprintf("groups: user is not in an allowed group: the assertion has no group attribute (looked for %s; present: %s); "+
		"configure the IdP to include group attributes",
		quoteList(e.LookedFor), quoteList(e.Present))
}

// Is makes errors.Is(err, ErrNotAllowed) true.
func (e *NotAllowedError) Is(target error) bool {
	return target == error(ErrNotAllowed)
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	c.AttributeNames = slices.Clone(c.AttributeNames)
	c.AllowedGroups = slices.Clone(c.AllowedGroups)
	c.Filter = slices.Clone(c.Filter)
	c.Roles = slices.Clone(c.Roles)
	return c
}

// quoteList formats names with %q, since attribute names come from the IdP
// and may hold characters that would garble a log line.
func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}

// Validate reports configuration mistakes that would make a pattern or
// mapping silently never match: empty names, patterns or roles; patterns
// with leading or trailing white space (group names are trimmed), with what
// Resolve refuses in a group name (a control character, an invisible
// character at either end), or containing the Delimiter (group names are
// split on it); and a non-nil but empty AttributeNames. The error names the offending field and index, not
// the value.
func (c Config) Validate() error {
	if c.AttributeNames != nil && len(c.AttributeNames) == 0 {
		// Most likely "[]" in a config file meant "the defaults"; refusing
		// it beats a gate that can never be passed.
		return errors.New("groups: AttributeNames is empty; use nil for the defaults")
	}
	for i, n := range c.AttributeNames {
		if n == "" {
			return fmt.Errorf("groups: AttributeNames[%d]: empty name", i)
		}
	}
	if err := c.checkPatterns("AllowedGroups", c.AllowedGroups); err != nil {
		return err
	}
	if err := c.checkPatterns("Filter", c.Filter); err != nil {
		return err
	}
	for i, rm := range c.Roles {
		if err := c.checkPattern(rm.Group); err != nil {
			return fmt.Errorf("groups: Roles[%d].Group: %w", i, err)
		}
		if rm.Role == "" {
			return fmt.Errorf("groups: Roles[%d].Role: empty", i)
		}
		if hasOuterSpace(rm.Role) {
			return fmt.Errorf("groups: Roles[%d].Role: leading or trailing white space", i)
		}
		if why := badName(rm.Role); why != "" {
			// Roles end up in headers and logs, as group names do.
			return fmt.Errorf("groups: Roles[%d].Role: has %s", i, why)
		}
	}
	return nil
}

func (c Config) checkPatterns(field string, list []string) error {
	for i, p := range list {
		if err := c.checkPattern(p); err != nil {
			return fmt.Errorf("groups: %s[%d]: %w", field, i, err)
		}
	}
	return nil
}

// checkPattern rejects patterns that can never match a resolved group,
// since groups are trimmed, non-empty, split on the delimiter, and free of
// what badName refuses.
func (c Config) checkPattern(p string) error {
	switch {
	case p == "":
		return errors.New("empty group name or pattern")
	case hasOuterSpace(p):
		return errors.New("leading or trailing white space (group names are trimmed)")
	case c.Delimiter != "" && strings.Contains(p, c.Delimiter):
		return errors.New("contains the Delimiter (group names are split on it)")
	}
	if why := badName(p); why != "" {
		return fmt.Errorf("has %s, which no group name may have", why)
	}
	return nil
}

func hasOuterSpace(s string) bool {
	return strings.TrimFunc(s, unicode.IsSpace) != s
}

// trimASCIISpace removes leading and trailing space, tab, CR and LF: the
// white space of XML indentation and of "a; b" lists, and the only white
// space trimmed from group names.
func trimASCIISpace(s string) string {
	for len(s) > 0 && isASCIISpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isASCIISpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isASCIISpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// badName says why g, already trimmed by trimASCIISpace, cannot be a group
// name, or returns "". Trimming every Unicode space (as strings.TrimSpace
// does) would merge "Admins\u00a0" into "Admins", and so would any consumer
// downstream that trims more than this package (Python's str.strip(), a
// JavaScript trim()) if such a name were passed on as distinct: either way
// a group an attacker can name in the IdP would borrow another's access.
// So a name with other outer white space or an invisible character at
// either end (format characters such as U+200B or U+FEFF, variation
// selectors, and the other default-ignorable code points), or with a
// control character anywhere
// (NEL U+0085 included), or invalid UTF-8, is refused rather than kept.
// The reason never quotes the name.
func badName(g string) string {
	for i := 0; i < len(g); {
		if c := g[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return "a control character"
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(g[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return "invalid UTF-8"
		case unicode.IsControl(r):
			return "a control character"
		case (i == 0 || i+size == len(g)) && invisible(r):
			return "leading or trailing white space other than ASCII space, tab, CR or LF, or an invisible character"
		}
		i += size
	}
	return ""
}

// invisible reports white space and characters that render as nothing:
// format characters, the other default-ignorable code points, and the
// variation selectors (U+FE00–FE0F, U+180B–180F, U+E0100–E01EF), which only
// select a glyph for the character before them ("Admins\uFE0F" looks like
// "Admins").
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// Compile validates c and returns a Resolver for it. Compile once at start-up
// and reuse the Resolver; it does not refer to c afterwards.
func (c Config) Compile() (*Resolver, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	names := c.AttributeNames
	if names == nil {
		names = DefaultAttributeNames
	}
	r := &Resolver{
		attrNames: append([]string(nil), names...),
		delimiter: c.Delimiter,
		allowed:   newMatcher(c.AllowedGroups),
		filter:    newMatcher(c.Filter),
	}
	roleIDs := make(map[string]int)
	for i, rm := range c.Roles {
		id, ok := roleIDs[rm.Role]
		if !ok {
			id = len(r.roles)
			roleIDs[rm.Role] = id
			r.roles = append(r.roles, rm.Role)
		}
		if isPattern(rm.Group) {
			r.rolePatterns.add(compilePattern(rm.Group))
			r.rolePatRefs = append(r.rolePatRefs, roleRef{mapping: i, role: id})
			continue
		}
		if r.roleExact == nil {
			r.roleExact = make(map[string][]roleRef)
		}
		r.roleExact[rm.Group] = append(r.roleExact[rm.Group], roleRef{mapping: i, role: id})
	}
	return r, nil
}

// Resolve compiles c and resolves s. Applications resolving more than one
// assertion should call [Config.Compile] once and use [Resolver.Resolve].
func (c Config) Resolve(s attributes.Set) (Result, error) {
	r, err := c.Compile()
	if err != nil {
		return Result{}, err
	}
	return r.Resolve(s)
}
