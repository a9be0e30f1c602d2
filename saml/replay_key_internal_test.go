package saml

import "testing"

// With a shared replay cache, one issuer and ID pair must not spell
// another's key; before the length prefix, "urn:a" + "b:c" and
// "urn:a:b" + "c" were the same key, refusing the second login as a replay.
func TestReplayKeyUnambiguous(t *testing.T) {
	pairs := [][2]string{{"urn:a", "b:c"}, {"urn:a:b", "c"}, {"urn:a:", "bc"}, {"", "urn:a:b:c"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		k := replayKey(p[0], p[1])
		if other, ok := seen[k]; ok {
			t.Fatalf("replayKey%q == replayKey%q == %q", p, other, k)
		}
		seen[k] = p
	}
}
