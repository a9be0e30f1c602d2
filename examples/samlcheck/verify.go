package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/samlgate/samlgate/saml"
)

// diagnosis is why a file was rejected: a *saml.Error, with notes the tool
// adds from what it can see in the response.
type diagnosis struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	// Hint names the console step that fixes it; for a verification error
	// it is always the *saml.Error's Hint.
	Hint string `json:"hint"`
	// Notes explain the values further (which certificate, which
	// connection, the clock); they never repeat the response's secrets.
	Notes []string `json:"notes,omitempty"`
}

func inputError(code, msg, hint string) *diagnosis {
	return &diagnosis{Code: code, Message: msg, Hint: hint}
}

// fileResult is one line of verify -json.
type fileResult struct {
	File     string        `json:"file,omitempty"`
	Form     string        `json:"form,omitempty"`
	OK       bool          `json:"ok"`
	Identity *identityJSON `json:"identity,omitempty"`
	Error    *diagnosis    `json:"error,omitempty"`
}

// identityJSON is the identity of verify -json: the JSON of saml.Identity,
// with the attributes added (saml.Identity leaves them out of its JSON).
type identityJSON struct {
	*saml.Identity
	// Attributes maps each attribute name to its values, as received.
	Attributes map[string][]string `json:"attributes"`
}

func newIdentityJSON(id *saml.Identity) *identityJSON {
	return &identityJSON{Identity: id, Attributes: id.Attributes.Map()}
}

func cmdVerify(e *env, args []string) int {
	fs := newFlagSet("verify")
	var cf connFlags
	cf.register(fs)
	var now timeFlag
	var requestIDs listFlag
	fs.Var(&now, "now", "")
	fs.Var(&requestIDs, "request-id", "")
	fs.BoolVar(&e.json, "json", e.json, "")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return e.usageError(err, "")
	}
	if len(files) == 0 {
		return e.usageError(errors.New("verify needs at least one FILE (- for stdin)"), "")
	}
	cfg, err := cf.build(fs, true)
	if err != nil {
		return e.configFailure(err)
	}
	clock, clockSource := now.clock()
	conn, err := newConnection(e, cfg, clock)
	if err != nil {
		return e.configFailure(err)
	}
	inputs, err := readInputs(files, e.stdin)
	if err != nil {
		return e.usageError(err, "")
	}

	v := &verifier{conn: conn, clockSource: clockSource, requestIDs: requestIDs, accepted: map[string]string{}}
	if !e.json {
		v.describe = func(file, description string) {
			fmt.Fprintf(e.stderr, "samlcheck: %s: found %s\n", file, description)
		}
	}
	status := exitOK
	for _, in := range inputs {
		res := v.verify(context.Background(), in)
		if !res.OK {
			status = exitRejected
		}
		if e.json {
			writeJSON(e.stdout, res)
		} else {
			printResult(e.stdout, res)
		}
	}
	return status
}

// verifier checks files through one connection.
type verifier struct {
	conn        *saml.Connection
	clockSource string
	requestIDs  []string
	// accepted maps the ID of each assertion accepted so far to its file.
	accepted map[string]string
	// describe, if set, receives the form found in each file.
	describe func(file, description string)
}

func (v *verifier) verify(ctx context.Context, in input) fileResult {
	res := fileResult{File: in.name}
	cfg := v.conn.Config()
	maxPlain := max(maxInputBytes, cfg.MaxResponseBytes)
	d, derr := decodeInput(in, maxPlain)
	if derr != nil {
		if d != nil {
			res.Form = d.form
		}
		res.Error = derr
		return res
	}
	res.Form = d.form
	if v.describe != nil {
		v.describe(in.name, d.description)
	}
	id, err := v.conn.Verify(ctx, d.value, saml.WithRequestIDs(v.requestIDs...))
	if err != nil {
		var se *saml.Error
		if !errors.As(err, &se) {
			res.Error = &diagnosis{Code: string(saml.CodeMalformed), Message: err.Error()}
			return res
		}
		res.Error = &diagnosis{Code: string(se.Code), Message: se.Message, Expected: se.Expected, Actual: se.Actual, Hint: se.Hint}
		res.Error.Notes = v.explain(se, d)
		return res
	}
	v.accepted[id.AssertionID] = in.name
	res.OK = true
	res.Identity = newIdentityJSON(id)
	return res
}

// printResult writes the result for people.
func printResult(w io.Writer, res fileResult) {
	if res.OK {
		id := res.Identity
		fmt.Fprintf(w, "%s: accepted\n", res.File)
		line := func(label, value string) { fmt.Fprintf(w, "  %-15s %s\n", label+":", value) }
		subject := id.Subject
		if id.SubjectFormat != "" {
			subject += " (" + id.SubjectFormat + ")"
		}
		line("subject", subject)
		line("email", emailLine(id.Identity))
		line("given name", orNone(id.GivenName))
		line("family name", orNone(id.FamilyName))
		if id.DisplayName != "" {
			line("display name", id.DisplayName)
		}
		line("groups", orNone(strings.Join(id.Groups, ", ")))
		line("roles", orNone(strings.Join(id.Roles, ", ")))
		line("issuer", id.Issuer)
		line("connection", id.Connection)
		line("session index", orNone(id.SessionIndex))
		if id.InResponseTo != "" {
			line("in response to", id.InResponseTo)
		}
		names := make([]string, 0, len(id.Attributes))
		for n := range id.Attributes {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) == 0 {
			line("attributes", "(none)")
		} else {
			fmt.Fprintf(w, "  attributes:\n")
		}
		for _, n := range names {
			fmt.Fprintf(w, "    %s = %s\n", n, strings.Join(id.Attributes[n], " | "))
		}
		return
	}
	d := res.Error
	fmt.Fprintf(w, "%s: rejected: %s\n", res.File, d.Code)
	fmt.Fprintf(w, "  %s\n", d.Message)
	if d.Expected != "" {
		fmt.Fprintf(w, "  expected: %s\n", d.Expected)
	}
	if d.Actual != "" {
		fmt.Fprintf(w, "  found:    %s\n", d.Actual)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(w, "  note:     %s\n", n)
	}
	if d.Hint != "" {
		fmt.Fprintf(w, "  hint:     %s\n", d.Hint)
	}
}

// emailLine is the email and who vouched for it: the IdP, or only this
// connection's configuration (email_verified: trust), which must not read
// as if the IdP had said so.
func emailLine(id *saml.Identity) string {
	switch {
	case id.Email == "":
		return "(none: the connection accepts users without email)"
	case id.EmailVerifiedBy == saml.EmailVerifiedByConfiguration:
		return id.Email + " (trusted by configuration: email_verified: trust; the IdP did not say it is verified)"
	case id.EmailVerified:
		return id.Email + " (verified)"
	}
	return id.Email + " (NOT verified)"
}
