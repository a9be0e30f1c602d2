package saml_test

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/url"
	"testing"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlgate/samlgate/saml"
)

// benchGroups are the group counts every benchmark runs with.
var benchGroups = []int{10, 1000}

// benchResponse mints the standard response (Assertion signed, as
// JumpCloud does) with n groups group-0001…, at the pinned clock.
func benchResponse(b *testing.B, n int) []byte {
	b.Helper()
	r := standard()
	r.Groups = make([]string, n)
	for i := range r.Groups {
		r.Groups[i] = fmt.Sprintf("group-%04d", i+1)
	}
	return mintXML(b, newIdP(b, "idp"), r)
}

// BenchmarkVerify measures Connection.Verify on a base64 form value, the
// whole public path: size check, base64 decoding, XML guard and shape
// inspection, crewjam's signature and protocol checks, time, attribute
// and group policy.
//
// The same response is verified on every iteration, so the connection's
// ReplayCache is replaced by one that accepts everything (acceptAll):
// otherwise every iteration after the first would stop at the cache as
// "replayed", or b.N responses would have to be signed beforehand. The
// default MemoryReplayCache's own cost is BenchmarkMemoryReplayCache.
func BenchmarkVerify(b *testing.B) {
	for _, n := range benchGroups {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			form := encode(benchResponse(b, n))
			conn := fuzzConnection(b)
			ctx := context.Background()
			if id, err := conn.Verify(ctx, form); err != nil || len(id.Groups) != n {
				b.Fatalf("setup: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.Verify(ctx, form); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// crewjamSP is a crewjam ServiceProvider configured as the samlgate
// connection is: the IdP from its metadata, the same SP entity ID and ACS
// URL, IdP-initiated logins allowed, SHA-1 refused, the clock pinned.
func crewjamSP(b *testing.B) *crewjam.ServiceProvider {
	b.Helper()
	md := &crewjam.EntityDescriptor{}
	if err := xml.Unmarshal(newIdP(b, "idp").Metadata(), md); err != nil {
		b.Fatal(err)
	}
	acs, err := url.Parse(acsURL)
	if err != nil {
		b.Fatal(err)
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

// BenchmarkCrewjamParseXMLResponse is the baseline: crewjam/saml's
// ServiceProvider.ParseXMLResponse on the identical, already decoded XML.
func BenchmarkCrewjamParseXMLResponse(b *testing.B) {
	for _, n := range benchGroups {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			raw := benchResponse(b, n)
			sp := crewjamSP(b)
			acs := sp.AcsURL
			if _, err := sp.ParseXMLResponse(raw, nil, acs); err != nil {
				b.Fatalf("setup: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sp.ParseXMLResponse(raw, nil, acs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyParts measures, on the same input, two steps Verify does
// before crewjam runs, to attribute its overhead: decoding the form value,
// and one etree parse of the XML (what the XML guard's parse costs, before
// its token walk and the shape inspection).
func BenchmarkVerifyParts(b *testing.B) {
	for _, n := range benchGroups {
		raw := benchResponse(b, n)
		form := encode(raw)
		b.Run(fmt.Sprintf("base64/groups=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := base64.StdEncoding.DecodeString(form); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("etree-parse/groups=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				doc := etree.NewDocument()
				doc.ReadSettings = etree.ReadSettings{MaxDepth: 32}
				if err := doc.ReadFromBytes(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyRefused measures the cheap refusals: junk that never
// reaches the signature code.
func BenchmarkVerifyRefused(b *testing.B) {
	conn := fuzzConnection(b)
	ctx := context.Background()
	cases := map[string]string{
		"too_large":     string(make([]byte, 2<<20)),
		"not_base64":    "not base64!",
		"doctype":       encode([]byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "a">]><r/>`)),
		"wrong_element": encode([]byte(`<saml2p:AuthnRequest xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol"/>`)),
	}
	for name, form := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.Verify(ctx, form); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

// BenchmarkMemoryReplayCache is the cost of the default replay cache per
// login: one Consume of a new key.
func BenchmarkMemoryReplayCache(b *testing.B) {
	c := saml.NewMemoryReplayCache(0, fixedClock(verifyAt))
	ctx := context.Background()
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = fmt.Sprintf("samlgate:assertion:%s:%040d", idpEntityID, i)
	}
	exp := verifyAt.Add(5 * 60e9)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(keys) {
			b.StopTimer()
			c = saml.NewMemoryReplayCache(0, fixedClock(verifyAt))
			i = 0
			b.StartTimer()
		}
		if err := c.Consume(ctx, keys[i], exp); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
