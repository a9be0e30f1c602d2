package groups

import (
	"fmt"
	"testing"

	"github.com/samlgate/samlgate/attributes"
)

// BenchmarkResolve measures a realistic configuration (a gate, a filter and
// 20 role mappings, half exact and half patterns) against users in 10 and in
// 1,000 groups.
func BenchmarkResolve(b *testing.B) {
	cfg := Config{
		AllowedGroups: []string{"app-users", "eng-*"},
		Filter:        []string{"app-*", "eng-*"},
	}
	for i := range 10 {
		cfg.Roles = append(cfg.Roles,
			RoleMapping{Group: fmt.Sprintf("dept-%03d", i*7), Role: fmt.Sprintf("exact-%d", i)},
			RoleMapping{Group: fmt.Sprintf("eng-%d*", i), Role: fmt.Sprintf("pattern-%d", i)},
		)
	}
	r, err := cfg.Compile()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 1000} {
		values := make([]string, n)
		for i := range values {
			switch i % 4 {
			case 0:
				values[i] = fmt.Sprintf("dept-%03d", i)
			case 1:
				values[i] = fmt.Sprintf("eng-%d-team", i)
			case 2:
				values[i] = fmt.Sprintf("CN=Group %d,OU=Groups,DC=example,DC=com", i)
			default:
				values[i] = fmt.Sprintf("app-%d", i)
			}
		}
		set := attributes.Set{
			{Name: "email", Values: []string{"jane@example.com"}},
			{Name: "firstname", Values: []string{"Jane"}},
			{Name: "memberOf", Values: values},
		}
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Resolve(set); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
