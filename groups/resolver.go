package groups

import (
	"fmt"
	"strings"

	"github.com/samlgate/samlgate/attributes"
)

// Resolver is a compiled [Config]. It is immutable and safe for concurrent
// use. The zero Resolver is not usable; obtain one from [Config.Compile].
type Resolver struct {
	attrNames []string
	delimiter string
	allowed   matcher
	filter    matcher

	roles        []string // distinct roles, indexed by role ID
	roleExact    map[string][]roleRef
	rolePatterns patternList // in mapping order
	rolePatRefs  []roleRef   // parallel to rolePatterns.pats
}

// roleRef ties a mapping (by its index in Config.Roles, which fixes the
// order roles are granted in) to the ID of its role.
type roleRef struct {
	mapping int
	role    int
}

// linearDedupMax is the group count up to which duplicates are found by
// scanning the list so far; beyond it a map is cheaper. Most users are in a
// few groups, and a scan of a few strings beats allocating a map.
const linearDedupMax = 16

// Resolve extracts the user's groups from s and applies the gate, the role
// mapping and the filter, in that order of evaluation (see [Config]). A
// group value that is not a valid name (see "Group names" in the package
// documentation) fails the whole call with an error matching
// [ErrInvalidName], before any of them.
//
// On success Groups and Roles are non-nil, so that they encode as [] rather
// than null in JSON. On error, Result carries only AttributeFound and
// AttributeNames, never groups or roles, so that a caller that forgets to
// check the error cannot grant access from a partial result.
func (r *Resolver) Resolve(s attributes.Set) (Result, error) {
	res := Result{AttributeNames: append([]string(nil), r.attrNames...)}
	attrs := s.Lookup(r.attrNames...)
	res.AttributeFound = len(attrs) > 0

	groups, err := r.collect(attrs)
	if err != nil {
		return res, err
	}

	if len(groups) == 0 && len(s.Lookup(EntraOverageClaim)) > 0 {
		return res, errOverage
	}
	res.Received = len(groups)

	if !r.allowed.empty() && !r.anyAllowed(groups) {
		return res, &NotAllowedError{
			AttributeFound: res.AttributeFound,
			LookedFor:      append([]string(nil), r.attrNames...),
			Present:        s.Names(),
		}
	}

	res.Roles = r.mapRoles(groups)
	if res.Roles == nil {
		res.Roles = []string{}
	}

	if !r.filter.empty() {
		// groups is private to this call and roles are already computed
		// from the full list, so it can be filtered in place.
		kept := groups[:0]
		for _, g := range groups {
			if r.filter.match(g) {
				kept = append(kept, g)
			}
		}
		groups = kept
	}
	if groups == nil {
		groups = []string{}
	}
	res.Groups = groups
	return res, nil
}

// collect returns the trimmed, non-empty, de-duplicated values of attrs,
// split on the delimiter if there is one, in first-seen order; or an error
// matching ErrInvalidName for a value badName refuses.
func (r *Resolver) collect(attrs []attributes.Attribute) ([]string, error) {
	n := 0
	for _, a := range attrs {
		n += len(a.Values)
	}
	if n == 0 {
		return nil, nil
	}
	// Without a delimiter, n is an exact upper bound and the slice never
	// grows; with one, it is a good first guess.
	groups := make([]string, 0, n)
	var seen map[string]struct{}
	var invalid string // why the first refused value was refused
	add := func(g string) {
		g = trimASCIISpace(g)
		if g == "" || invalid != "" {
			return
		}
		if invalid = badName(g); invalid != "" {
			return
		}
		if seen == nil {
			for _, x := range groups {
				if x == g {
					return
				}
			}
			groups = append(groups, g)
			if len(groups) > linearDedupMax {
				seen = make(map[string]struct{}, n)
				for _, x := range groups {
					seen[x] = struct{}{}
				}
			}
			return
		}
		if _, dup := seen[g]; dup {
			return
		}
		seen[g] = struct{}{}
		groups = append(groups, g)
	}
	for _, a := range attrs {
		for _, v := range a.Values {
			if r.delimiter == "" {
				add(v)
			} else {
				for part := range strings.SplitSeq(v, r.delimiter) {
					add(part)
				}
			}
			if invalid != "" {
				// The attribute's name, never the value: group names
				// reveal organisation structure and errors reach logs.
				return nil, fmt.Errorf("groups: a value of the attribute %q has %s: %w", a.Name, invalid, ErrInvalidName)
			}
		}
	}
	return groups, nil
}

func (r *Resolver) anyAllowed(groups []string) bool {
	for _, g := range groups {
		if r.allowed.match(g) {
			return true
		}
	}
	return false
}

// mapRoles returns the roles granted to groups, de-duplicated, ordered by
// group and then by mapping index.
func (r *Resolver) mapRoles(groups []string) []string {
	if len(r.roles) == 0 || len(groups) == 0 {
		return nil
	}
	// Sized for every role up front: the role list is short, and one
	// allocation beats growing it role by role.
	out := make([]string, 0, len(r.roles))
	// Role IDs are small and dense, so a bit set records which roles were
	// granted without a map; 64 distinct roles fit without allocating.
	var small [1]uint64
	granted := small[:]
	if len(r.roles) > 64 {
		granted = make([]uint64, (len(r.roles)+63)/64)
	}
	grant := func(role int) {
		if granted[role/64]&(1<<(role%64)) != 0 {
			return
		}
		granted[role/64] |= 1 << (role % 64)
		out = append(out, r.roles[role])
	}
	for _, g := range groups {
		// Merge the exact mappings for g with the matching patterns by
		// mapping index; both lists are already in index order.
		exact := r.roleExact[g]
		i := 0
		for k := r.rolePatterns.next(g, 0); k >= 0; k = r.rolePatterns.next(g, k+1) {
			p := r.rolePatRefs[k]
			for ; i < len(exact) && exact[i].mapping < p.mapping; i++ {
				grant(exact[i].role)
			}
			grant(p.role)
		}
		for ; i < len(exact); i++ {
			grant(exact[i].role)
		}
		if len(out) == len(r.roles) {
			// Every role is granted; no further group can add one.
			break
		}
	}
	return out
}
