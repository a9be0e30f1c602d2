package attributes

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestExtractAliases checks that every default alias feeds its field, in
// the spelling listed, upper-cased, and as a FriendlyName.
func TestExtractAliases(t *testing.T) {
	fields := []struct {
		field string
		names []string
		get   func(Fields) string
		value string
	}{
		{FieldEmail, DefaultEmail, func(f Fields) string { return f.Email }, "jane@example.com"},
		{FieldGivenName, DefaultGivenName, func(f Fields) string { return f.GivenName }, "Jane"},
		{FieldFamilyName, DefaultFamilyName, func(f Fields) string { return f.FamilyName }, "Doe"},
		{FieldDisplayName, DefaultDisplayName, func(f Fields) string { return f.DisplayName }, "Jane Doe"},
	}
	for _, fl := range fields {
		for _, alias := range fl.names {
			shapes := map[string]Attribute{
				"name":          attr(alias, fl.value),
				"upper":         attr(strings.ToUpper(alias), fl.value),
				"friendly name": {Name: "urn:example:opaque", FriendlyName: alias, Values: []string{fl.value}},
			}
			for shape, a := range shapes {
				t.Run(fl.field+"/"+alias+"/"+shape, func(t *testing.T) {
					got, err := Mapping{}.Extract(Set{a}, "")
					if err != nil {
						t.Fatalf("Extract: %v", err)
					}
					if v := fl.get(got); v != fl.value {
						t.Errorf("%s = %q, want %q (fields %+v)", fl.field, v, fl.value, got)
					}
					// The value must feed only its own field.
					n := 0
					for _, v := range []string{got.Email, got.GivenName, got.FamilyName, got.DisplayName} {
						if v != "" {
							n++
						}
					}
					if n != 1 {
						t.Errorf("alias %q fed %d fields: %+v", alias, n, got)
					}
				})
			}
		}
	}
}

func TestExtract(t *testing.T) {
	tests := []struct {
		name     string
		mapping  Mapping
		set      Set
		nameID   string
		want     Fields
		conflict *ConflictError
	}{
		{
			name: "jumpcloud style",
			set: Set{
				attr("email", "jane@example.com"),
				attr("firstname", "Jane"),
				attr("lastname", "Doe"),
				attr("memberOf", "eng"),
			},
			nameID: "jane@example.com",
			want:   Fields{Email: "jane@example.com", GivenName: "Jane", FamilyName: "Doe"},
		},
		{
			name: "entra style",
			set: Set{
				attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "jane@example.com"),
				attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "Jane"),
				attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "Doe"),
				attr("http://schemas.microsoft.com/identity/claims/displayname", "Jane Doe"),
			},
			nameID: "opaque-id",
			want:   Fields{Email: "jane@example.com", GivenName: "Jane", FamilyName: "Doe", DisplayName: "Jane Doe"},
		},
		{
			name:   "nothing",
			set:    nil,
			nameID: "",
			want:   Fields{},
		},
		{
			name: "values trimmed, empties dropped",
			set: Set{
				attr("email", "", "  ", "\t jane@example.com \n"),
				attr("given_name", " ", " Jane "),
			},
			want: Fields{Email: "jane@example.com", GivenName: "Jane"},
		},
		{
			name: "same email under several aliases is not a conflict",
			set: Set{
				attr("mail", "jane@example.com"),
				attr("email", "jane@example.com"),
			},
			want: Fields{Email: "jane@example.com"},
		},
		{
			name: "emails differing in case only: first in priority order wins",
			set: Set{
				attr("mail", "jane@example.com"),
				attr("email", "Jane@Example.COM"),
			},
			want: Fields{Email: "Jane@Example.COM"},
		},
		{
			name: "different emails in different attributes conflict",
			set: Set{
				attr("mail", "jane@example.com"),
				attr("email", "mallory@example.com"),
			},
			conflict: &ConflictError{Field: FieldEmail, Names: []string{"email", "mail"}},
		},
		{
			name:     "different emails in one attribute conflict",
			set:      Set{attr("email", "jane@example.com", "mallory@example.com")},
			conflict: &ConflictError{Field: FieldEmail, Names: []string{"email"}},
		},
		{
			name: "empty value in a second attribute is not a conflict, and not involved",
			set: Set{
				attr("email", "jane@example.com"),
				attr("mail", " "),
			},
			want: Fields{Email: "jane@example.com"},
		},
		{
			name: "conflict lists only attributes that contributed values",
			set: Set{
				attr("email", "jane@example.com"),
				attr("mail", ""),
				attr("urn:oid:0.9.2342.19200300.100.1.3", "other@example.com"),
			},
			conflict: &ConflictError{Field: FieldEmail, Names: []string{"email", "urn:oid:0.9.2342.19200300.100.1.3"}},
		},
		{
			name: "different names: first in priority order, no error",
			set: Set{
				attr("givenName", "Janet"),
				attr("given_name", "Jane", "J."),
				attr("sn", "Doe"),
				attr("lastname", "Smith"),
				attr("displayName", "JD"),
				attr("name", "Jane Doe"),
			},
			want: Fields{GivenName: "Jane", FamilyName: "Smith", DisplayName: "Jane Doe"},
		},
		{
			name:    "custom mapping replaces defaults",
			mapping: Mapping{Email: []string{"corpEmail"}, GivenName: []string{"first"}},
			set: Set{
				attr("email", "ignored@example.com"),
				attr("corpemail", "jane@corp.example"),
				attr("first", "Jane"),
				attr("given_name", "Ignored"),
				attr("sn", "Doe"),
			},
			want: Fields{Email: "jane@corp.example", GivenName: "Jane", FamilyName: "Doe"},
		},
		{
			name:    "empty non-nil mapping switches a field off",
			mapping: Mapping{DisplayName: []string{}},
			set:     Set{attr("displayName", "Jane Doe")},
			want:    Fields{},
		},
		{
			name:   "NameID fallback",
			set:    Set{attr("given_name", "Jane")},
			nameID: "jane@example.com",
			want:   Fields{Email: "jane@example.com", GivenName: "Jane", EmailFromNameID: true},
		},
		{
			name:   "NameID fallback trims",
			nameID: " jane@example.com\n",
			want:   Fields{Email: "jane@example.com", EmailFromNameID: true},
		},
		{
			name:   "NameID fallback with plus address and subdomain",
			nameID: "jane+saml@mail.example.co.uk",
			want:   Fields{Email: "jane+saml@mail.example.co.uk", EmailFromNameID: true},
		},
		{
			name:    "NameID fallback also when email mapping is switched off",
			mapping: Mapping{Email: []string{}},
			set:     Set{attr("email", "ignored@example.com")},
			nameID:  "jane@example.com",
			want:    Fields{Email: "jane@example.com", EmailFromNameID: true},
		},
		{
			name:   "email attribute wins over NameID",
			set:    Set{attr("mail", "jane@example.com")},
			nameID: "other@example.com",
			want:   Fields{Email: "jane@example.com"},
		},
		{
			name:   "present but empty email attribute disables NameID fallback",
			set:    Set{attr("email", " ")},
			nameID: "jane@example.com",
			want:   Fields{},
		},
		{name: "NameID username not used", nameID: "jdoe", want: Fields{}},
		{name: "NameID two at signs not used", nameID: "a@b@c", want: Fields{}},
		{name: "NameID with display name not used", nameID: "Jane <jane@example.com>", want: Fields{}},
		{name: "NameID in angle brackets not used", nameID: "<jane@example.com>", want: Fields{}},
		{name: "NameID with comment not used", nameID: "jane@example.com (Jane)", want: Fields{}},
		{name: "NameID quoted local part not used", nameID: `"jane doe"@example.com`, want: Fields{}},
		{name: "NameID quoted at sign not used", nameID: `"a@b"@example.com`, want: Fields{}},
		{name: "NameID list not used", nameID: "a@example.com, b@example.com", want: Fields{}},
		{name: "NameID missing domain not used", nameID: "jane@", want: Fields{}},
		{name: "NameID missing local part not used", nameID: "@example.com", want: Fields{}},
		{name: "NameID with inner space not used", nameID: "jane doe@example.com", want: Fields{}},
		{name: "NameID with newline not used", nameID: "jane@example.com\nBcc: x@example.com", want: Fields{}},
		{name: "NameID with inner newline not used", nameID: "jane@exa\nmple.com", want: Fields{}},
		{name: "NameID with NUL not used", nameID: "jane@example.com\x00", want: Fields{}},
		{name: "NameID opaque not used", nameID: "00u1abcd2EFGH3ijk4x7", want: Fields{}},
		{name: "NameID whitespace only not used", nameID: " \t", want: Fields{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.mapping.Extract(tt.set, tt.nameID)
			if tt.conflict != nil {
				var ce *ConflictError
				if !errors.As(err, &ce) {
					t.Fatalf("Extract error = %v, want *ConflictError", err)
				}
				if !reflect.DeepEqual(ce, tt.conflict) {
					t.Errorf("ConflictError = %+v, want %+v", ce, tt.conflict)
				}
				if got != (Fields{}) {
					t.Errorf("Fields on error = %+v, want zero", got)
				}
				// Values are personal data and must never reach error text.
				for _, a := range tt.set {
					for _, v := range a.Values {
						if v = strings.TrimSpace(v); v != "" && strings.Contains(err.Error(), v) {
							t.Errorf("error %q contains attribute value %q", err, v)
						}
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if got != tt.want {
				t.Errorf("Extract = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConflictErrorMessage(t *testing.T) {
	tests := []struct {
		err  *ConflictError
		want string
	}{
		{&ConflictError{Field: FieldEmail}, "attributes: conflicting values for email"},
		{&ConflictError{Field: FieldEmail, Names: []string{"email"}}, `attributes: conflicting values for email in attribute "email"`},
		{&ConflictError{Field: FieldEmail, Names: []string{"email", "mail\n"}}, `attributes: conflicting values for email in attributes "email", "mail\n"`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestEmailVerifiedValues(t *testing.T) {
	tests := []struct {
		name      string
		mapping   Mapping
		set       Set
		want      []string
		wantFound bool
		wantBool  bool
		wantErr   error
	}{
		{
			name:    "absent",
			set:     Set{attr("email", "jane@example.com")},
			wantErr: ErrMissing,
		},
		{
			name:      "present without values",
			set:       Set{attr("email_verified")},
			want:      []string{},
			wantFound: true,
			wantErr:   ErrMissing,
		},
		{
			name:      "one value, not trimmed",
			set:       Set{attr("Email_Verified", " true ")},
			want:      []string{" true "},
			wantFound: true,
			wantBool:  true,
		},
		{
			name:      "two attributes each true are two values",
			set:       Set{attr("email_verified", "true"), {Name: "urn:x", FriendlyName: "email_verified", Values: []string{"true"}}},
			want:      []string{"true", "true"},
			wantFound: true,
			wantErr:   ErrMultiple,
		},
		{
			name:      "repeated value not de-duplicated",
			set:       Set{attr("email_verified", "true", "true")},
			want:      []string{"true", "true"},
			wantFound: true,
			wantErr:   ErrMultiple,
		},
		{
			name:      "custom names",
			mapping:   Mapping{EmailVerified: []string{"verified", "email_verified"}},
			set:       Set{attr("email_verified", "false"), attr("Verified", "1")},
			want:      []string{"1", "false"},
			wantFound: true,
			wantErr:   ErrMultiple,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := tt.mapping.EmailVerifiedValues(tt.set)
			if found != tt.wantFound || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("EmailVerifiedValues = %q, %v; want %q, %v", got, found, tt.want, tt.wantFound)
			}
			b, err := ParseBool(got)
			if !errors.Is(err, tt.wantErr) || (err == nil && b != tt.wantBool) {
				t.Errorf("ParseBool(%q) = %v, %v; want %v, %v", got, b, err, tt.wantBool, tt.wantErr)
			}
		})
	}
}

func TestEmailVerifiedValuesDoesNotAlias(t *testing.T) {
	set := Set{attr("email_verified", "false")}
	got, _ := Mapping{}.EmailVerifiedValues(set)
	got[0] = "true"
	if set[0].Values[0] != "false" {
		t.Errorf("EmailVerifiedValues shares its slice with the Set")
	}
}

func TestEmailVerifiedNames(t *testing.T) {
	if got := (Mapping{}).EmailVerifiedNames(); !reflect.DeepEqual(got, DefaultEmailVerified) {
		t.Errorf("default EmailVerifiedNames = %q", got)
	}
	got := (Mapping{}).EmailVerifiedNames()
	got[0] = "changed"
	if DefaultEmailVerified[0] != "email_verified" {
		t.Errorf("EmailVerifiedNames returned the package default itself")
	}
	custom := Mapping{EmailVerified: []string{"verified"}}
	if got := custom.EmailVerifiedNames(); !reflect.DeepEqual(got, []string{"verified"}) {
		t.Errorf("custom EmailVerifiedNames = %q", got)
	}
}

// FuzzExtract checks that arbitrary (signed but otherwise untrusted) values
// never cause a panic, that the NameID fallback only ever yields a bare
// address, and that errors never echo values.
func FuzzExtract(f *testing.F) {
	f.Add("jane@example.com", "Jane", "jane@example.com")
	f.Add("", "", "a@b@c")
	f.Add("a@example.com\x00A@EXAMPLE.COM", "x", "Jane <jane@example.com>")
	f.Add("a@example.com\x00b@example.com", "", `"a b"@example.com`)
	f.Fuzz(func(t *testing.T, emails, given, nameID string) {
		var set Set
		if emails != "" {
			set = append(set, attr("mail", strings.Split(emails, "\x00")...))
		}
		set = append(set, attr("given_name", given))
		got, err := Mapping{}.Extract(set, nameID)
		if err != nil {
			var ce *ConflictError
			if !errors.As(err, &ce) || ce.Field != FieldEmail {
				t.Fatalf("unexpected error %v", err)
			}
			if strings.Contains(err.Error(), "@") {
				t.Fatalf("error %q may contain an email value", err)
			}
			return
		}
		if got.EmailFromNameID {
			id := strings.TrimSpace(nameID)
			if emails != "" || got.Email != id || strings.Count(id, "@") != 1 {
				t.Fatalf("NameID fallback used wrongly: %+v for NameID %q", got, nameID)
			}
		}
		if got.GivenName != strings.TrimSpace(given) {
			t.Fatalf("GivenName = %q for %q", got.GivenName, given)
		}
	})
}
