package saml_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/samlgate/samlgate/groups"
	"github.com/samlgate/samlgate/saml"
)

// TestGroupNamesPaddedWithUnicodeSpace: issue 12 (CWE-1289). Group values
// were trimmed of all Unicode white space, so a group the IdP named
// "Admins\u00a0", "\u3000Admins" or "Admins\u0085" passed the allowed-groups
// gate, the filter and the role mapping for "Admins", and became "Admins"
// in Identity.Groups. Such a value is now refused (malformed), whatever the
// group policy, and never reaches the Identity, merged or not.
func TestGroupNamesPaddedWithUnicodeSpace(t *testing.T) {
	idp := newIdP(t, "idp")
	policies := []struct {
		name string
		cfg  groups.Config
	}{
		{"Identity.Groups (no policy)", groups.Config{}},
		{"gate", groups.Config{AllowedGroups: []string{"Admins"}}},
		{"filter", groups.Config{Filter: []string{"Admins"}}},
		{"roles", groups.Config{Roles: []groups.RoleMapping{{Group: "Admins", Role: "admin"}}}},
	}
	for _, name := range []string{"Admins\u00a0", "\u3000Admins", "Admins\u0085"} {
		for _, p := range policies {
			for _, userGroups := range [][]string{{name}, {"Everyone", name}} {
				t.Run(p.name+"/"+strings.Join(userGroups, ","), func(t *testing.T) {
					cfg := baseConfig(t)
					cfg.Groups = p.cfg
					r := standard()
					r.Groups = userGroups
					e := refuse(t, newConn(t, cfg), mint(t, idp, r), saml.CodeMalformed)
					if !errors.Is(e, groups.ErrInvalidName) {
						t.Errorf("errors.Is(err, groups.ErrInvalidName) = false: %s", e.Detail())
					}
					if strings.Contains(e.Detail(), "Admins") || strings.Contains(e.Detail(), "Everyone") {
						t.Errorf("the error quotes a group name: %s", e.Detail())
					}
					if !strings.Contains(e.Message, "group name") || !strings.Contains(e.Hint, "Rename the group") {
						t.Errorf("the error does not say which group problem it is: %q, hint %q", e.Message, e.Hint)
					}
				})
			}
		}
	}

	// ASCII padding (XML indentation) is still trimmed: " Admins\n" is
	// Admins, for the gate, the roles and Identity.Groups.
	cfg := baseConfig(t)
	cfg.Groups = groups.Config{AllowedGroups: []string{"Admins"}, Roles: []groups.RoleMapping{{Group: "Admins", Role: "admin"}}}
	r := standard()
	r.Groups = []string{" Admins\n", "\tEveryone "}
	id := mustVerify(t, newConn(t, cfg), mint(t, idp, r))
	if !slices.Equal(id.Groups, []string{"Admins", "Everyone"}) || !slices.Equal(id.Roles, []string{"admin"}) {
		t.Errorf("Groups %q, Roles %q", id.Groups, id.Roles)
	}
}
