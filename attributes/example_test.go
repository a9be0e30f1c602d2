package attributes_test

import (
	"errors"
	"fmt"

	"github.com/samlgate/samlgate/attributes"
)

func ExampleMapping_Extract() {
	// What a JumpCloud assertion typically carries.
	set := attributes.Set{
		{Name: "email", Values: []string{"jane@example.com"}},
		{Name: "firstname", Values: []string{"Jane"}},
		{Name: "lastname", Values: []string{"Doe"}},
	}
	f, err := attributes.Mapping{}.Extract(set, "jane@example.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s <%s> fromNameID=%v\n", f.GivenName, f.FamilyName, f.Email, f.EmailFromNameID)
	// Output: Jane Doe <jane@example.com> fromNameID=false
}

func ExampleMapping_Extract_nameIDFallback() {
	// No email attribute: the NameID is used because it is a bare address.
	f, _ := attributes.Mapping{}.Extract(nil, "jane@example.com")
	fmt.Println(f.Email, f.EmailFromNameID)

	// An opaque NameID is not mistaken for an address.
	f, _ = attributes.Mapping{}.Extract(nil, "jdoe")
	fmt.Printf("%q %v\n", f.Email, f.EmailFromNameID)
	// Output:
	// jane@example.com true
	// "" false
}

func ExampleMapping_Extract_conflict() {
	set := attributes.Set{
		{Name: "email", Values: []string{"jane@example.com"}},
		{Name: "mail", Values: []string{"mallory@example.com"}},
	}
	_, err := attributes.Mapping{}.Extract(set, "")
	var ce *attributes.ConflictError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field, ce.Names)
	}
	fmt.Println(err)
	// Output:
	// email [email mail]
	// attributes: conflicting values for email in attributes "email", "mail"
}

func ExampleMapping_Extract_customNames() {
	m := attributes.Mapping{
		Email:       []string{"corpEmail"},
		DisplayName: []string{}, // switched off
	}
	set := attributes.Set{
		{Name: "corpEmail", Values: []string{"jane@corp.example"}},
		{Name: "displayName", Values: []string{"Jane Doe"}},
	}
	f, _ := m.Extract(set, "")
	fmt.Printf("%q %q\n", f.Email, f.DisplayName)
	// Output: "jane@corp.example" ""
}

func ExampleParseBool() {
	set := attributes.Set{{Name: "email_verified", Values: []string{" TRUE "}}}
	values, found := attributes.Mapping{}.EmailVerifiedValues(set)
	verified, err := attributes.ParseBool(values)
	fmt.Println(found, verified, err)

	_, err = attributes.ParseBool([]string{"yes"})
	fmt.Println(errors.Is(err, attributes.ErrUnrecognized))
	// Output:
	// true true <nil>
	// true
}

func ExampleSet_Lookup() {
	set := attributes.Set{
		{Name: "urn:oid:0.9.2342.19200300.100.1.3", FriendlyName: "mail", Values: []string{"a@example.com"}},
		{Name: "Email", Values: []string{"b@example.com"}},
	}
	// Case-insensitive, on Name or FriendlyName, in the order of the names.
	for _, a := range set.Lookup("email", "mail") {
		fmt.Println(a.Name, a.Values)
	}
	// Output:
	// Email [b@example.com]
	// urn:oid:0.9.2342.19200300.100.1.3 [a@example.com]
}

func ExampleSet_Map() {
	set := attributes.Set{
		{Name: "memberOf", Values: []string{"eng"}},
		{Name: "email", Values: []string{"jane@example.com"}},
	}
	m := set.Map()
	fmt.Println(m["memberOf"], m["email"])
	// Output: [eng] [jane@example.com]
}
