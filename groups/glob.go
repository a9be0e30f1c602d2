package groups

import (
	"strings"
	"unicode/utf8"
)

// isPattern reports whether s contains a wildcard and so cannot be looked up
// in a map of exact names.
func isPattern(s string) bool {
	return strings.ContainsAny(s, "*?")
}

// pattern is a compiled glob. Most real patterns are "prefix*", "*suffix" or
// "*infix*"; splitting off the literal ends lets those be decided with
// strings.HasPrefix/HasSuffix, and rejects the vast majority of non-matching
// groups after comparing a byte or two.
type pattern struct {
	prefix string // literal text before the first wildcard
	suffix string // literal text after the last wildcard
	middle string // from the first wildcard to the last, inclusive
	// anyMiddle is set when middle is only '*'s and so matches anything.
	anyMiddle bool
	// minLen is the length of the shortest matching name, in bytes: the
	// literal ends plus one byte per '?'.
	minLen int
}

// compilePattern compiles a string for which isPattern is true.
func compilePattern(s string) pattern {
	i := strings.IndexAny(s, "*?")
	j := strings.LastIndexAny(s, "*?")
	p := pattern{prefix: s[:i], suffix: s[j+1:], middle: s[i : j+1]}
	p.anyMiddle = strings.Trim(p.middle, "*") == ""
	p.minLen = len(p.prefix) + len(p.suffix) + strings.Count(p.middle, "?")
	return p
}

func (p *pattern) match(name string) bool {
	// minLen also keeps the literal ends from overlapping: "a*a" does not
	// match "a".
	if len(name) < p.minLen ||
		!strings.HasPrefix(name, p.prefix) ||
		!strings.HasSuffix(name, p.suffix) {
		return false
	}
	return p.anyMiddle || globMatch(p.middle, name[len(p.prefix):len(name)-len(p.suffix)])
}

// patternList holds patterns in configuration order. The first byte of each
// pattern's literal prefix is kept in a parallel slice so that scanning the
// list for a group name rejects most patterns with one comparison in a tight
// loop, instead of a call per pattern: with a thousand groups and tens of
// patterns, that loop is most of the work.
type patternList struct {
	pats  []pattern
	first []int16 // first byte of the prefix, or -1 if the pattern starts with a wildcard
}

func (l *patternList) add(p pattern) {
	f := int16(-1)
	if p.prefix != "" {
		f = int16(p.prefix[0])
	}
	l.pats = append(l.pats, p)
	l.first = append(l.first, f)
}

// next returns the index of the first pattern at or after i that matches
// name, or -1 if there is none.
func (l *patternList) next(name string, i int) int {
	c := int16(-2) // matches no first byte
	if name != "" {
		c = int16(name[0])
	}
	for ; i < len(l.first); i++ {
		if f := l.first[i]; f >= 0 && f != c {
			continue
		}
		if l.pats[i].match(name) {
			return i
		}
	}
	return -1
}

// MatchGlob reports whether name matches pattern, with the syntax of the
// groups Config's patterns: '*' matches any run of characters and '?'
// exactly one; matching is byte for byte (fold case before calling it for
// a case-insensitive match). Package teamsync matches its links with it.
func MatchGlob(pattern, name string) bool { return globMatch(pattern, name) }

// globMatch reports whether name matches pattern, where '*' matches any run
// of characters and '?' exactly one character (a UTF-8 sequence, or a single
// byte of invalid UTF-8, as in package regexp). Everything else matches
// itself byte for byte.
//
// It backtracks only to the most recent '*', which is enough for globs
// (an earlier star could absorb anything a later one would) and bounds the
// work at O(len(pattern)·len(name)); a recursive matcher would be
// exponential on patterns such as "*a*a*a*a*b".
func globMatch(pattern, name string) bool {
	px, nx := 0, 0
	starPx, starNx := -1, 0
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				// Try the star as empty first; on mismatch come back and
				// let it absorb one more character.
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					_, w := utf8.DecodeRuneInString(name[nx:])
					px++
					nx += w
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if starPx >= 0 && starNx < len(name) {
			_, w := utf8.DecodeRuneInString(name[starNx:])
			starNx += w
			px, nx = starPx+1, starNx
			continue
		}
		return false
	}
	return true
}

// matcher matches a group name against a list of exact names and patterns.
type matcher struct {
	exact    map[string]struct{}
	patterns patternList
}

func newMatcher(list []string) matcher {
	var m matcher
	for _, s := range list {
		if isPattern(s) {
			m.patterns.add(compilePattern(s))
			continue
		}
		if m.exact == nil {
			m.exact = make(map[string]struct{})
		}
		m.exact[s] = struct{}{}
	}
	return m
}

func (m *matcher) empty() bool {
	return len(m.exact) == 0 && len(m.patterns.pats) == 0
}

func (m *matcher) match(name string) bool {
	if _, ok := m.exact[name]; ok {
		return true
	}
	return m.patterns.next(name, 0) >= 0
}
