package attributes

import (
	"errors"
	"strings"
)

// Errors returned by [ParseBool]. They carry no attribute name; callers wrap
// them with one (fmt.Errorf("%s: %w", name, err)) and test with errors.Is.
var (
	ErrMissing      = errors.New("attributes: boolean attribute has no value")
	ErrEmpty        = errors.New("attributes: boolean attribute value is empty")
	ErrMultiple     = errors.New("attributes: boolean attribute has more than one value")
	ErrUnrecognized = errors.New("attributes: boolean attribute value is not true, false, 1 or 0")
)

// ParseBool reads a boolean claim such as email_verified: exactly one value
// which, trimmed of whitespace, is "true"/"1" (any ASCII letter case) -> true,
// "false"/"0" -> false.
//
// len(values)==0 -> [ErrMissing]; one empty/whitespace value -> [ErrEmpty];
// more than one value -> [ErrMultiple]; anything else -> [ErrUnrecognized].
//
// The accepted spellings are deliberately fewer than strconv.ParseBool's:
// a claim that gates trust in an email address should only be read when the
// IdP said it unambiguously, so "yes", "t" or "on" are refused rather than
// guessed at. Several values are refused even when they agree, because
// an IdP that states a claim twice is misconfigured and the two statements
// may come from different sources.
func ParseBool(values []string) (bool, error) {
	switch {
	case len(values) == 0:
		return false, ErrMissing
	case len(values) > 1:
		return false, ErrMultiple
	}
	v := strings.TrimSpace(values[0])
	switch {
	case v == "":
		return false, ErrEmpty
	case v == "1" || asciiEqualFold(v, "true"):
		return true, nil
	case v == "0" || asciiEqualFold(v, "false"):
		return false, nil
	}
	return false, ErrUnrecognized
}

// asciiEqualFold is strings.EqualFold restricted to ASCII letters.
// strings.EqualFold applies Unicode folding, under which "falſe" (with a
// long s) equals "false"; a strict boolean parser should not accept that.
func asciiEqualFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
