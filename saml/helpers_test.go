package saml_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/samltest"
)

// The standard settings of testdata/README.md. Every golden fixture is
// issued at pinned; tests verify at verifyAt (pinned + 30 s) unless they
// are about the clock.
var (
	pinned      = samltest.FixtureClock()
	verifyAt    = pinned.Add(30 * time.Second)
	idpEntityID = samltest.FixtureIdPEntityID
	spEntityID  = samltest.FixtureSPEntityID
	acsURL      = samltest.FixtureACSURL
	aliceEmail  = samltest.FixtureEmail
	aliceGroups = samltest.FixtureResponse().Groups
)

// allCodes is every Code of errors.go: the "known set" of codes the fuzz
// target checks against, and what TestMain requires some test to assert.
var allCodes = []saml.Code{
	saml.CodeMalformed,
	saml.CodeTooLarge,
	saml.CodeUnsupported,
	saml.CodeSignatureMissing,
	saml.CodeSignatureInvalid,
	saml.CodeUntrustedCertificate,
	saml.CodeCertificateExpired,
	saml.CodeWeakSignatureAlgorithm,
	saml.CodeIssuerMismatch,
	saml.CodeAudienceMismatch,
	saml.CodeDestinationMismatch,
	saml.CodeRecipientMismatch,
	saml.CodeInResponseToMismatch,
	saml.CodeExpired,
	saml.CodeNotYetValid,
	saml.CodeReplayed,
	saml.CodeStatusNotSuccess,
	saml.CodeEmailMissing,
	saml.CodeEmailNotVerified,
	saml.CodeEmailVerifiedInvalid,
	saml.CodeEmailDomainNotAllowed,
	saml.CodeAttributeConflict,
	saml.CodeGroupNotAllowed,
	saml.CodeGroupsOverage,
	saml.CodeConfigInvalid,
	saml.CodeUnavailable,
}

// codesSeen records every code checkError has asserted, so that TestMain
// can fail the full run when some code of errors.go is reached by no test.
var codesSeen = struct {
	sync.Mutex
	m map[saml.Code]bool
}{m: map[saml.Code]bool{}}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	// Only a full, unfiltered run can judge coverage of the codes.
	if code == 0 && fullRun() {
		var missing []string
		codesSeen.Lock()
		for _, c := range allCodes {
			if !codesSeen.m[c] {
				missing = append(missing, string(c))
			}
		}
		codesSeen.Unlock()
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "FAIL: no test asserts the error codes %s\n", strings.Join(missing, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

// fullRun reports whether every test ran: no -run, -skip, -list or -short.
func fullRun() bool {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

// checkError asserts that err is an *saml.Error with Code want: errors.Is
// matches want's sentinel and no other, e.Code is want, the Hint is
// non-empty and Error() names the code. It returns the *saml.Error.
func checkError(t testing.TB, err error, want saml.Code) *saml.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", want)
	}
	var e *saml.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want an *saml.Error with code %s", err, err, want)
	}
	if e.Code != want {
		t.Fatalf("got code %q, want %q\nerror:  %v\ndetail: %s", e.Code, want, err, e.Detail())
	}
	if !slices.Contains(allCodes, want) {
		t.Fatalf("code %q is not in allCodes", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("errors.Is(err, %s) = false", want)
	}
	for _, c := range allCodes {
		if c != want && errors.Is(err, c) {
			t.Errorf("errors.Is(err, %s) = true for an error with code %s", c, want)
		}
	}
	if strings.TrimSpace(e.Hint) == "" {
		t.Errorf("code %s: empty Hint", want)
	}
	if !strings.Contains(err.Error(), string(want)) {
		t.Errorf("Error() %q does not name the code %s", err.Error(), want)
	}
	codesSeen.Lock()
	codesSeen.m[want] = true
	codesSeen.Unlock()
	return e
}

// checkMismatch asserts the Expected and Actual of a mismatch error, and
// that Error() shows both.
func checkMismatch(t testing.TB, e *saml.Error, expected, actual string) {
	t.Helper()
	if e.Expected != expected || e.Actual != actual {
		t.Errorf("%s: got Expected %q, Actual %q; want %q, %q", e.Code, e.Expected, e.Actual, expected, actual)
	}
	if !strings.Contains(e.Error(), fmt.Sprintf("(expected %q, got %q)", expected, actual)) {
		t.Errorf("Error() %q does not show expected and actual", e.Error())
	}
}

func checkMessage(t testing.TB, e *saml.Error, substrings ...string) {
	t.Helper()
	for _, s := range substrings {
		if !strings.Contains(e.Message, s) {
			t.Errorf("%s: Message %q does not contain %q", e.Code, e.Message, s)
		}
	}
}

// testdata returns the path of a file under the module's testdata.
func testdata(parts ...string) string {
	return filepath.Join(append([]string{"..", "testdata"}, parts...)...)
}

func readFile(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(testdata(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func certPEM(t testing.TB, name string) []byte {
	t.Helper()
	return readFile(t, "keys", name+".crt.pem")
}

type keyPairT struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

var keyCache sync.Map // name -> keyPairT

// keyPair loads testdata/keys/NAME.{key,crt}.pem (once per process).
func keyPair(t testing.TB, name string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	if kp, ok := keyCache.Load(name); ok {
		return kp.(keyPairT).key, kp.(keyPairT).cert
	}
	key, cert, err := samltest.KeyPair(certPEM(t, name), readFile(t, "keys", name+".key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keyCache.Store(name, keyPairT{key, cert})
	return key, cert
}

// newIdP returns a test IdP signing with testdata/keys/NAME, at the pinned
// clock.
func newIdP(t testing.TB, name string) *samltest.IdP {
	t.Helper()
	key, cert := keyPair(t, name)
	idp := samltest.New(key, cert, idpEntityID)
	idp.Now = fixedClock(pinned)
	return idp
}

// standard returns the options of the standard response (the golden
// jumpcloud-default.xml).
func standard() samltest.Response {
	return samltest.FixtureResponse()
}

// mint returns the SAMLResponse form value of r, signed by idp.
func mint(t testing.TB, idp *samltest.IdP, r samltest.Response) string {
	t.Helper()
	form, err := idp.FormValue(r)
	if err != nil {
		t.Fatal(err)
	}
	return form
}

func mintXML(t testing.TB, idp *samltest.IdP, r samltest.Response) []byte {
	t.Helper()
	b, err := idp.ResponseXML(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// golden returns testdata/golden/NAME.xml as a form value.
func golden(t testing.TB, name string) string {
	t.Helper()
	return encode(readFile(t, "golden", name+".xml"))
}

func fixedClock(at time.Time) func() time.Time { return func() time.Time { return at } }

// baseConfig is the standard connection: trusts idp.crt.pem, clock at
// verifyAt, every other setting at its default.
func baseConfig(t testing.TB) saml.ConnectionConfig {
	t.Helper()
	return saml.ConnectionConfig{
		Name:               "acme",
		SPEntityID:         spEntityID,
		ACSURL:             acsURL,
		IdPEntityID:        idpEntityID,
		IdPSSOURL:          idpEntityID,
		IdPCertificatesPEM: [][]byte{certPEM(t, "idp")},
		Now:                fixedClock(verifyAt),
	}
}

func newConn(t testing.TB, cfg saml.ConnectionConfig) *saml.Connection {
	t.Helper()
	conn, err := saml.NewConnection(cfg)
	if err != nil {
		if e, ok := err.(*saml.Error); ok {
			t.Fatalf("NewConnection: %s", e.Detail())
		}
		t.Fatalf("NewConnection: %v", err)
	}
	return conn
}

// verify calls Verify, turning a panic into an error so that one panicking
// case fails its own test instead of aborting the whole run.
func verify(conn *saml.Connection, form string, opts ...saml.VerifyOption) (id *saml.Identity, err error) {
	defer func() {
		if r := recover(); r != nil {
			id, err = nil, fmt.Errorf("Verify panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return conn.Verify(context.Background(), form, opts...)
}

// mustVerify verifies and fails the test on any error.
func mustVerify(t testing.TB, conn *saml.Connection, form string, opts ...saml.VerifyOption) *saml.Identity {
	t.Helper()
	id, err := verify(conn, form, opts...)
	if err != nil {
		if e, ok := err.(*saml.Error); ok {
			t.Fatalf("Verify: %s", e.Detail())
		}
		t.Fatalf("Verify: %v", err)
	}
	if id == nil {
		t.Fatal("Verify returned neither an identity nor an error")
	}
	return id
}

// refuse verifies, asserts the code, and that no identity came back.
func refuse(t testing.TB, conn *saml.Connection, form string, want saml.Code, opts ...saml.VerifyOption) *saml.Error {
	t.Helper()
	id, err := verify(conn, form, opts...)
	if id != nil {
		t.Errorf("got an identity (%s) with the error %v", id.Subject, err)
	}
	e := checkError(t, err, want)
	if e.Connection != conn.Name() {
		t.Errorf("Connection = %q, want %q", e.Connection, conn.Name())
	}
	return e
}

// checkAlice asserts the identity of the standard response.
func checkAlice(t testing.TB, id *saml.Identity) {
	t.Helper()
	if id.Subject != aliceEmail || id.Email != aliceEmail || !id.EmailVerified {
		t.Errorf("got subject %q email %q verified %v; want %q %q true", id.Subject, id.Email, id.EmailVerified, aliceEmail, aliceEmail)
	}
	if id.GivenName != "Alice" || id.FamilyName != "Liddell" {
		t.Errorf("got names %q %q, want Alice Liddell", id.GivenName, id.FamilyName)
	}
	if !slices.Equal(id.Groups, aliceGroups) {
		t.Errorf("got groups %q, want %q", id.Groups, aliceGroups)
	}
	if id.Issuer != idpEntityID {
		t.Errorf("got issuer %q, want %q", id.Issuer, idpEntityID)
	}
}

// mutableClock is a clock tests move; safe for concurrent use.
type mutableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *mutableClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *mutableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

var idCounter atomic.Int64

// uniqueID returns a fresh assertion ID, for tests that mint with several
// IdPs (samltest numbers IDs per IdP, so two IdPs repeat each other's).
func uniqueID() string {
	return fmt.Sprintf("T%039d", idCounter.Add(1))
}
