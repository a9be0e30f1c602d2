package gateway

import (
	"fmt"
	"strings"
	"testing"
)

// TestDecodeCacheBounds fills a decode cache past its bounds: it keeps at
// most decodeCacheEntries entries and decodeCacheBytes bytes, counts its
// bytes exactly, decodes a plaintext above decodeCacheMaxPlain without
// keeping it, and never keeps what does not decode.
func TestDecodeCacheBounds(t *testing.T) {
	small := func(i int) []byte { return fmt.Appendf(nil, `{"gp":"%d"}`, i) }
	big := func(i int) []byte {
		return fmt.Appendf(nil, `{"gp":"%d","tm":["%s"]}`, i, strings.Repeat("x", 200<<10))
	}
	for _, tc := range []struct {
		name  string
		n     int
		plain func(int) []byte
	}{
		{"entries", decodeCacheEntries + 100, small},
		{"bytes", 2 * decodeCacheBytes / (400 << 10), big},
		{"too large to keep", 3, func(i int) []byte {
			return fmt.Appendf(nil, `{"gp":"%d","tm":["%s"]}`, i, strings.Repeat("x", decodeCacheMaxPlain))
		}},
		{"not JSON", 3, func(i int) []byte { return fmt.Appendf(nil, `{"gp":%d`, i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c decodeCache[sessionState]
			for i := range tc.n {
				p := tc.plain(i)
				st, ok := c.decode(p)
				if tc.name == "not JSON" {
					if ok {
						t.Fatal("a plaintext that is not JSON decoded")
					}
					continue
				}
				if !ok || st.Policy != fmt.Sprint(i) {
					t.Fatalf("decode %d: %v %+v", i, ok, st)
				}
				// The second decoding is the cached one, if kept.
				if st2, ok := c.decode(p); !ok || st2.Policy != st.Policy {
					t.Fatalf("second decode %d: %v %+v", i, ok, st2)
				}
			}
			sum := 0
			for k := range c.m {
				sum += 2 * len(k)
			}
			if len(c.m) > decodeCacheEntries || c.bytes > decodeCacheBytes || sum != c.bytes {
				t.Errorf("%d entries, %d bytes counted, %d bytes held: over the bounds or miscounted", len(c.m), c.bytes, sum)
			}
			if (tc.name == "too large to keep" || tc.name == "not JSON") && len(c.m) != 0 {
				t.Errorf("%d entries kept", len(c.m))
			}
			if tc.name == "entries" && len(c.m) != decodeCacheEntries {
				t.Errorf("%d entries, want the cache full (%d)", len(c.m), decodeCacheEntries)
			}
		})
	}
}
