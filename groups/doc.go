// Package groups turns the group attribute of a verified SAML assertion
// (JumpCloud and Active Directory "memberOf", Okta and Google "groups", Entra
// ID's groups claim) into a normalised group list, an access decision and a
// set of application roles.
//
// Like package attributes, it does no XML parsing and no signature checking:
// it works on an [attributes.Set] the caller has already verified.
//
// # Why normalise
//
// IdPs disagree on the shape of a group list. Most send one AttributeValue
// per group; some send the attribute element once per group; some send one
// value holding "a;b;c" or "a,b,c". Values arrive with stray white space
// and duplicates. [Config.Resolve] accepts all of these and produces one
// list: trimmed, without empties, de-duplicated, in first-seen order, so that
// the rest of the application sees a single, predictable format.
//
// # Group names
//
// Only ASCII white space (space, tab, CR, LF: XML indentation, "a; b"
// lists) is trimmed from a group value. A value that, so trimmed, still
// starts or ends with other white space ("Admins\u00a0", "\u3000Admins",
// "Admins\u0085") or an invisible character (U+200B, U+FEFF, variation
// selectors such as U+FE0F, and the other format and default-ignorable
// characters), or that holds a control character anywhere, or is not valid
// UTF-8, is refused: Resolve returns an error matching [ErrInvalidName]
// (package saml refuses the login as malformed), whatever the gate, filter
// and roles say. Such a name is
// neither merged with "Admins" (trimming it would let whoever can name a
// group in the IdP borrow the Admins group's access) nor kept beside it (an
// application or upstream that trims more than this package, as Python's
// str.strip() does, would merge it there). White space inside a name is
// kept as it is: "Domain\u00a0Admins" and "Domain Admins" are two groups.
//
// # Access decisions
//
// AllowedGroups is a gate: when it is set, a user in none of those groups is
// refused with a [*NotAllowedError]. The gate and the role mapping always see
// the full group list; Filter only trims what ends up in [Result.Groups]
// (typically to keep sessions small), so filtering can never change who is
// let in or which roles they get.
//
// A missing group attribute is not an error on its own, because many
// applications use groups only for optional features. When a gate is set,
// though, a missing attribute means the user cannot be admitted, and the
// [*NotAllowedError] says so (AttributeFound is false) and lists which
// attribute names were present, so that an administrator can see at a glance
// that the IdP was not configured to send groups. It never lists group
// names: they reveal organisation structure and end up in logs.
//
// # Entra ID group overage
//
// When a user is in more than 150 groups (SAML), Entra ID omits the groups
// claim and sends a link to the Microsoft Graph API instead
// ([EntraOverageClaim]). Treating that as "no groups" would silently deny
// access or drop roles for exactly the most privileged users, so Resolve
// reports [ErrOverage] instead. The usual fix is to configure Entra to emit
// only the groups assigned to the application.
//
// # Patterns
//
// Group names in AllowedGroups, Filter and RoleMapping.Group are exact,
// case-sensitive names unless they contain '*' (any run of characters,
// including '/' and none) or '?' (exactly one character). There is no escape
// syntax: group names that themselves contain '*' or '?' still match such a
// pattern, along with the other names it matches. Matching is case-sensitive
// because directory group names are identifiers and "Admins" and "admins" may
// be different groups in some IdPs.
//
// # Performance
//
// Users can be in thousands of groups. [Config.Compile] builds an immutable
// [*Resolver] once, with exact names in hash maps and patterns pre-split into
// literal prefix, suffix and wildcard middle, so that resolving a thousand
// groups against tens of patterns takes a fraction of a millisecond and
// about ten allocations (see BenchmarkResolve). A Resolver is safe for
// concurrent use.
package groups
