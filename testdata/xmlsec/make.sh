#!/bin/sh
# Signs the templates in templates/ with xmlsec1 (an implementation
# independent of goxmldsig) and the committed IdP key, writing
# xmlsec-NAME.xml for each templates/NAME.xml, then verifies every output
# with xmlsec1 against idp.crt.pem at the pinned clock.
#
# The templates are unsigned JumpCloud-shaped responses (written by
# go generate ./testdata/) holding an empty ds:Signature template after the
# Issuer of the element to sign. RSA PKCS #1 v1.5 signatures are
# deterministic, so re-running this gives the same bytes.
#
# Usage: cd testdata/xmlsec && ./make.sh   (needs xmlsec1, Debian package xmlsec1)
set -eu
cd "$(dirname "$0")"

KEY=../keys/idp.key.pem
CERT=../keys/idp.crt.pem
# The pinned clock of the fixtures (testdata/README.md): the certificate
# is checked at this time, not at the current one.
CLOCK="2026-01-15 10:00:00"
IDS="--id-attr:ID urn:oasis:names:tc:SAML:2.0:assertion:Assertion --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:Response"

for tmpl in templates/*.xml; do
	name=$(basename "$tmpl" .xml)
	out="xmlsec-$name.xml"
	# shellcheck disable=SC2086
	xmlsec1 --sign --privkey-pem "$KEY,$CERT" $IDS --output "$out" "$tmpl"
	# shellcheck disable=SC2086
	xmlsec1 --verify --trusted-pem "$CERT" --verification-gmt-time "$CLOCK" $IDS "$out"
	echo "signed and verified $out"
done
