package saml

// SignaturePolicy says which elements of a response must carry a valid
// signature. Whatever the policy, a signature that is present must verify.
type SignaturePolicy string

const (
	// SignatureEither (the default) accepts a signed Assertion, a signed
	// Response, or both. JumpCloud signs only the Assertion by default.
	SignatureEither SignaturePolicy = "either"
	// SignatureAssertion requires the Assertion itself to be signed.
	SignatureAssertion SignaturePolicy = "assertion"
	// SignatureResponse requires the Response to be signed.
	SignatureResponse SignaturePolicy = "response"
	// SignatureBoth requires both signatures.
	SignatureBoth SignaturePolicy = "both"
)

// assertionSignatureRequired reports whether the policy requires the
// Assertion itself to be signed: what WantAssertionsSigned tells the IdP.
func assertionSignatureRequired(p SignaturePolicy) bool {
	return p == SignatureAssertion || p == SignatureBoth
}

// EmailVerifiedPolicy says how the email_verified attribute is treated.
type EmailVerifiedPolicy string

const (
	// EmailVerifiedRequire (the default): the signed assertion must carry
	// email_verified once, with one value that is true or 1 (any case).
	// JumpCloud sends it when the admin adds the constant attribute
	// email_verified = true.
	EmailVerifiedRequire EmailVerifiedPolicy = "require"
	// EmailVerifiedTrust marks every email as verified: the admin vouches
	// for the IdP, which cannot send the attribute. An explicit opt-in.
	EmailVerifiedTrust EmailVerifiedPolicy = "trust"
	// EmailVerifiedIgnore reads the attribute when present and valid, and
	// never refuses a login because of it. Identity.EmailVerified is true
	// only when the IdP said so.
	EmailVerifiedIgnore EmailVerifiedPolicy = "ignore"
)
