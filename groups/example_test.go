package groups_test

import (
	"errors"
	"fmt"

	"github.com/samlgate/samlgate/attributes"
	"github.com/samlgate/samlgate/groups"
)

func ExampleConfig_Compile() {
	// Compile once at start-up; the Resolver is safe for concurrent use.
	r, err := groups.Config{
		AllowedGroups: []string{"eng-*", "support"},
		Roles: []groups.RoleMapping{
			{Group: "eng-leads", Role: "admin"},
			{Group: "eng-*", Role: "developer"},
			{Group: "*/oncall", Role: "pager"},
		},
	}.Compile()
	if err != nil {
		fmt.Println(err)
		return
	}

	// A JumpCloud assertion: one memberOf value per group.
	set := attributes.Set{
		{Name: "email", Values: []string{"jane@example.com"}},
		{Name: "memberOf", Values: []string{"eng-leads", "sre/oncall", "eng-leads"}},
	}
	res, err := r.Resolve(set)
	fmt.Println(res.Groups, res.Roles, err)
	// Output: [eng-leads sre/oncall] [admin developer pager] <nil>
}

func ExampleConfig_Resolve_delimiter() {
	// Some IdPs pack every group into one value.
	res, _ := groups.Config{Delimiter: ";"}.Resolve(attributes.Set{
		{Name: "groups", Values: []string{"eng; ops ;;eng"}},
	})
	fmt.Printf("%q\n", res.Groups)
	// Output: ["eng" "ops"]
}

func ExampleConfig_Resolve_filter() {
	// Filter shortens the stored list; the gate and roles still see every
	// group.
	res, _ := groups.Config{
		AllowedGroups: []string{"staff"},
		Filter:        []string{"app-*"},
	}.Resolve(attributes.Set{
		{Name: "memberOf", Values: []string{"staff", "app-billing", "all-hands"}},
	})
	fmt.Println(res.Groups)
	// Output: [app-billing]
}

func ExampleNotAllowedError() {
	// The IdP was not configured to send groups.
	_, err := groups.Config{AllowedGroups: []string{"eng"}}.Resolve(attributes.Set{
		{Name: "email", Values: []string{"jane@example.com"}},
	})
	var na *groups.NotAllowedError
	if errors.As(err, &na) && !na.AttributeFound {
		fmt.Println("hint: include group attributes; assertion has", na.Present)
	}
	fmt.Println(errors.Is(err, groups.ErrNotAllowed))
	// Output:
	// hint: include group attributes; assertion has [email]
	// true
}

func ExampleErrOverage() {
	// Entra ID sends a Graph link instead of groups for users in very many
	// groups.
	_, err := groups.Config{}.Resolve(attributes.Set{
		{Name: groups.EntraOverageClaim, Values: []string{"https://graph.windows.net/..."}},
	})
	fmt.Println(errors.Is(err, groups.ErrOverage))
	// Output: true
}
