package attributes

import (
	"errors"
	"testing"
)

func TestParseBool(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    bool
		wantErr error
	}{
		{"true", []string{"true"}, true, nil},
		{"TRUE padded", []string{" TRUE "}, true, nil},
		{"True mixed case", []string{"True"}, true, nil},
		{"tRuE tabs newlines", []string{"\ttRuE\n"}, true, nil},
		{"1", []string{"1"}, true, nil},
		{"1 padded", []string{" 1 "}, true, nil},
		{"false", []string{"false"}, false, nil},
		{"FALSE", []string{"FALSE"}, false, nil},
		{"0", []string{"0"}, false, nil},
		{"none", nil, false, ErrMissing},
		{"empty slice", []string{}, false, ErrMissing},
		{"empty value", []string{""}, false, ErrEmpty},
		{"whitespace value", []string{" \t\n"}, false, ErrEmpty},
		{"two values", []string{"true", "true"}, false, ErrMultiple},
		{"two differing values", []string{"true", "false"}, false, ErrMultiple},
		{"two empty values", []string{"", ""}, false, ErrMultiple},
		{"yes", []string{"yes"}, false, ErrUnrecognized},
		{"no", []string{"no"}, false, ErrUnrecognized},
		{"t", []string{"t"}, false, ErrUnrecognized},
		{"on", []string{"on"}, false, ErrUnrecognized},
		{"01", []string{"01"}, false, ErrUnrecognized},
		{"inner space", []string{"tr ue"}, false, ErrUnrecognized},
		{"trueish", []string{"truex"}, false, ErrUnrecognized},
		{"long s folds to s under Unicode", []string{"falſe"}, false, ErrUnrecognized},
		{"fullwidth digit", []string{"１"}, false, ErrUnrecognized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBool(tt.values)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ParseBool(%q) error = %v, want %v", tt.values, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseBool(%q) = %v, want %v", tt.values, got, tt.want)
			}
		})
	}
}

func TestParseBoolErrorsAreDistinct(t *testing.T) {
	errs := []error{ErrMissing, ErrEmpty, ErrMultiple, ErrUnrecognized}
	for i, a := range errs {
		for j, b := range errs {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = %v", a, b, errors.Is(a, b))
			}
		}
	}
}
