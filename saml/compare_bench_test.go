package saml_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"net/url"
	"syscall"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// The side-by-side benchmarks: samlgate's Connection.Verify, crewjam's
// ServiceProvider.ParseXMLResponse and gosaml2's RetrieveAssertionInfo on
// byte-identical responses minted by samltest at the pinned clock, each
// library configured alike: the same pinned certificate
// (testdata/keys/idp), IdP and SP entity IDs, ACS URL, clock (verifyAt)
// and pending request ID. Run them with
//
//	go test -run '^$' -bench '^BenchmarkCompare' -benchmem -count 6 ./saml/
//
// and compare with benchstat -col /lib (see BENCHMARKS.md).
//
// Inputs: Verify and gosaml2 take the base64 form value, as a browser
// posts it; crewjam's ParseXMLResponse takes the decoded XML, so its
// figures leave out the base64 decoding the other two include.
// gosaml2 has no parameter for pending request IDs: it is given the same
// response and checks what it checks.

// compareRequestID is the AuthnRequest the benchmark responses answer.
const compareRequestID = "id-REQUEST-compare-0001"

// compareMaxBytes is the MaxResponseBytes of the valid-response
// benchmarks: 5,000 groups, as samltest writes them (each AttributeValue
// declaring xs and xsi, as JumpCloud's do), encode to about 1.2 MB, over
// the 1 MiB default, so a connection expecting that many raises the cap
// (an explicit opt-in).
const compareMaxBytes = 2 << 20

// compareGroups are the group counts of the valid responses.
var compareGroups = []int{10, 100, 1000, 5000}

// compareSigns are the signing modes of the valid responses.
var compareSigns = []samltest.Sign{samltest.SignAssertion, samltest.SignResponse}

// compareResponse mints the standard response, SP-initiated, signed as
// sign, with n groups group-00001….
func compareResponse(tb testing.TB, sign samltest.Sign, n int) []byte {
	tb.Helper()
	r := standard()
	r.Sign = sign
	r.InResponseTo = compareRequestID
	r.Groups = make([]string, n)
	for i := range r.Groups {
		r.Groups[i] = fmt.Sprintf("group-%05d", i+1)
	}
	return mintXML(tb, newIdP(tb, "idp"), r)
}

// compareConnection is the standard connection with a replay cache that
// records nothing (the same response is verified on every iteration) and
// maxBytes as MaxResponseBytes (0: the default).
func compareConnection(tb testing.TB, maxBytes int) *saml.Connection {
	tb.Helper()
	cfg := baseConfig(tb)
	cfg.ReplayCache = acceptAll{}
	cfg.MaxResponseBytes = maxBytes
	return newConn(tb, cfg)
}

// compareCrewjam is a crewjam ServiceProvider configured as the
// connection: the IdP metadata of the pinned certificate, the same SP
// entity ID and ACS URL, IdP-initiated logins allowed, SHA-1 refused,
// the clock pinned at verifyAt.
func compareCrewjam(tb testing.TB) *crewjam.ServiceProvider {
	tb.Helper()
	md := &crewjam.EntityDescriptor{}
	if err := xml.Unmarshal(newIdP(tb, "idp").Metadata(), md); err != nil {
		tb.Fatal(err)
	}
	acs, err := url.Parse(acsURL)
	if err != nil {
		tb.Fatal(err)
	}
	return &crewjam.ServiceProvider{
		EntityID:             spEntityID,
		AcsURL:               *acs,
		IDPMetadata:          md,
		AllowIDPInitiated:    true,
		RejectSHA1Signatures: true,
		Clock:                dsig.NewFakeClockAt(verifyAt),
	}
}

// compareGosaml2 is a gosaml2 SAMLServiceProvider configured as the
// connection.
func compareGosaml2(tb testing.TB) *saml2.SAMLServiceProvider {
	tb.Helper()
	_, cert := keyPair(tb, "idp")
	return &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:      idpEntityID,
		IdentityProviderIssuer:      idpEntityID,
		ServiceProviderIssuer:       spEntityID,
		AudienceURI:                 spEntityID,
		AssertionConsumerServiceURL: acsURL,
		IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}},
		Clock:                       dsig.NewFakeClockAt(verifyAt),
	}
}

// comparers run one library on a response: raw is the XML, form its base64.
type comparer struct {
	lib string
	run func(raw []byte, form string) error
}

func comparers(tb testing.TB, conn *saml.Connection) []comparer {
	sp := compareCrewjam(tb)
	g := compareGosaml2(tb)
	ctx := context.Background()
	ids := []string{compareRequestID}
	opt := saml.WithRequestIDs(compareRequestID)
	return []comparer{
		{"crewjam", func(raw []byte, _ string) error {
			_, err := sp.ParseXMLResponse(raw, ids, sp.AcsURL)
			return err
		}},
		{"samlgate", func(_ []byte, form string) error {
			_, err := conn.Verify(ctx, form, opt)
			return err
		}},
		{"gosaml2", func(_ []byte, form string) error {
			_, err := g.RetrieveAssertionInfo(form)
			return err
		}},
	}
}

// BenchmarkCompare verifies valid responses with each library, by signing
// mode and group count. A library that refuses an input is skipped for it,
// with its error: that is a result too (goxmldsig's traversal budget).
func BenchmarkCompare(b *testing.B) {
	conn := compareConnection(b, compareMaxBytes)
	for _, sign := range compareSigns {
		for _, n := range compareGroups {
			raw := compareResponse(b, sign, n)
			form := encode(raw)
			if len(form) > compareMaxBytes {
				b.Fatalf("sign=%s groups=%d: %d bytes, over the cap", sign, n, len(form))
			}
			for _, c := range comparers(b, conn) {
				b.Run(fmt.Sprintf("sign=%s/groups=%d/lib=%s", sign, n, c.lib), func(b *testing.B) {
					if err := c.run(raw, form); err != nil {
						b.Skipf("%s refuses this response: %v", c.lib, err)
					}
					b.ReportAllocs()
					cpu := processCPU()
					for b.Loop() {
						if err := c.run(raw, form); err != nil {
							b.Fatal(err)
						}
					}
					reportCPU(b, cpu)
				})
			}
		}
	}
}

// junkMaxBytes is the raised MaxResponseBytes of the junk benchmarks: above
// every input, so that what is measured is the work each input causes,
// not the size cap (which refuses all of them by default in about a
// microsecond, BenchmarkVerifyRefused/too_large).
const junkMaxBytes = 16 << 20

// junkInputs are what an unauthenticated sender can post, by size: random
// bytes, base64 of random bytes, and base64 of a well-formed unsigned
// Response (minted by samltest, SignNone) grown to size with groups. The
// values are the form values; every library must refuse them.
func junkInputs(tb testing.TB, size int) map[string]string {
	tb.Helper()
	rnd := rand.New(rand.NewPCG(1, uint64(size)))
	random := make([]byte, size)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	return map[string]string{
		"random":        string(random),
		"base64-random": base64.StdEncoding.EncodeToString(random),
		"unsigned-xml":  encode(unsignedXML(tb, size)),
	}
}

// unsignedXML mints an unsigned response of about size bytes.
func unsignedXML(tb testing.TB, size int) []byte {
	tb.Helper()
	mintN := func(n int) []byte {
		r := standard()
		r.Sign = samltest.SignNone
		r.InResponseTo = compareRequestID
		r.Groups = make([]string, n)
		for i := range r.Groups {
			r.Groups[i] = fmt.Sprintf("group-%07d", i+1)
		}
		return mintXML(tb, newIdP(tb, "idp"), r)
	}
	one := len(mintN(1001)) - len(mintN(1))
	return mintN(max(1, size*1000/one))
}

// BenchmarkCompareJunk measures what junk costs each library before it is
// refused, with the form value's cap raised (junkMaxBytes) for samlgate.
// crewjam is given the base64-decoded form value, as its ParseResponse
// would, and its decoding is included; random bytes are not base64, so
// every library stops at decoding them.
func BenchmarkCompareJunk(b *testing.B) {
	conn := compareConnection(b, junkMaxBytes)
	for _, size := range []int{1 << 20, 10 << 20} {
		inputs := junkInputs(b, size)
		for _, kind := range []string{"random", "base64-random", "unsigned-xml"} {
			form := inputs[kind]
			for _, c := range comparers(b, conn) {
				b.Run(fmt.Sprintf("input=%s/size=%dMiB/lib=%s", kind, size>>20, c.lib), func(b *testing.B) {
					run := func() error {
						if c.lib != "crewjam" {
							return c.run(nil, form)
						}
						raw, err := base64.StdEncoding.DecodeString(form)
						if err != nil {
							return err
						}
						return c.run(raw, form)
					}
					b.ReportAllocs()
					cpu := processCPU()
					for b.Loop() {
						if err := run(); err == nil {
							b.Fatal("junk accepted")
						}
					}
					reportCPU(b, cpu)
				})
			}
		}
	}
}

// processCPU is the CPU time this process has used (user and system, all
// threads, the garbage collector's included).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the metric cpu-ns/op: the process CPU time per iteration
// since start. On a machine shared with other work, sec/op counts the time
// the benchmark waited for a CPU too; cpu-ns/op does not, so the ratio
// between two libraries measured in one run is steadier in it.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
