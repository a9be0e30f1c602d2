package samltest

import (
	"crypto"
	"crypto/rsa"
	"fmt"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// keyStore hands the IdP key pair to goxmldsig.
type keyStore struct {
	key  *rsa.PrivateKey
	cert []byte
}

func (ks keyStore) GetKeyPair() (*rsa.PrivateKey, []byte, error) { return ks.key, ks.cert, nil }

// sign makes an enveloped signature of el and inserts it right after el's
// Issuer child (first, if there is none), as the SAML schema requires.
func (idp *IdP) sign(el *etree.Element, sha1 bool) error {
	ctx := dsig.NewDefaultSigningContext(keyStore{key: idp.Key, cert: idp.Certificate.Raw})
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	ctx.Prefix = "ds"
	if sha1 {
		ctx.Hash = crypto.SHA1
	}
	// goxmldsig's exclusive canonicalizer rewrites the element it digests
	// (it drops namespace declarations it does not need, such as xmlns:xs
	// on AttributeValue), so digest a copy and leave the document as built.
	sig, err := ctx.ConstructSignature(detachedCopy(el), true)
	if err != nil {
		return fmt.Errorf("samltest: signing %s: %w", el.Tag, err)
	}
	at := 0
	if issuer := el.SelectElement("Issuer"); issuer != nil {
		at = issuer.Index() + 1
	}
	el.InsertChildAt(at, sig)
	return nil
}

// detachedCopy copies el and declares on the copy the namespaces it
// inherits from its ancestors, so that the copy canonicalizes (exclusive
// c14n) exactly as el does in place.
func detachedCopy(el *etree.Element) *etree.Element {
	c := el.Copy()
	declared := map[string]bool{}
	for _, a := range el.Attr {
		if a.Space == "xmlns" {
			declared[a.Key] = true
		} else if a.Space == "" && a.Key == "xmlns" {
			declared[""] = true
		}
	}
	for p := el.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			switch {
			case a.Space == "xmlns" && !declared[a.Key]:
				declared[a.Key] = true
				c.CreateAttr("xmlns:"+a.Key, a.Value)
			case a.Space == "" && a.Key == "xmlns" && !declared[""]:
				declared[""] = true
				c.CreateAttr("xmlns", a.Value)
			}
		}
	}
	return c
}
