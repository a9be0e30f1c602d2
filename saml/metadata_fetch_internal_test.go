package saml

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHTTPSRedirectsOnly is the default client's redirect policy: https
// anywhere; http only to a loopback host and never after https.
func TestHTTPSRedirectsOnly(t *testing.T) {
	for _, tc := range []struct {
		name string
		via  []string
		to   string
		ok   bool
	}{
		{"https to https", []string{"https://idp.example.com/md"}, "https://cdn.example.com/md", true},
		{"https to http://localhost", []string{"https://idp.example.com/md"}, "http://localhost:8080/md", false},
		{"https to http://127.0.0.1", []string{"https://idp.example.com/md"}, "http://127.0.0.1/md", false},
		{"https to http://[::1]", []string{"https://idp.example.com/md"}, "http://[::1]:9000/md", false},
		{"https to http://x.localhost", []string{"https://idp.example.com/md"}, "http://md.localhost/md", false},
		{"https, https, then http://localhost", []string{"https://a.example.com/", "https://b.example.com/"}, "http://localhost/md", false},
		{"https to http://example.com", []string{"https://idp.example.com/md"}, "http://example.com/md", false},
		{"http://localhost to http://127.0.0.1 (local sidecar)", []string{"http://localhost:8081/md"}, "http://127.0.0.1:8081/md", true},
		{"http://localhost to https", []string{"http://localhost:8081/md"}, "https://idp.example.com/md", true},
		{"http://localhost to http://example.com", []string{"http://localhost:8081/md"}, "http://example.com/md", false},
		{"ftp", []string{"https://idp.example.com/md"}, "ftp://idp.example.com/md", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var via []*http.Request
			for _, u := range tc.via {
				via = append(via, httptest.NewRequest(http.MethodGet, u, nil))
			}
			err := httpsRedirectsOnly(httptest.NewRequest(http.MethodGet, tc.to, nil), via)
			if (err == nil) != tc.ok {
				t.Errorf("httpsRedirectsOnly(%s after %v) = %v, want ok %v", tc.to, tc.via, err, tc.ok)
			}
		})
	}
}
