package saml

import (
	"crypto/x509"
	"encoding/xml"

	crewjam "github.com/crewjam/saml"
)

// idpMetadata is what a connection takes from IdP metadata.
type idpMetadata struct {
	entityID, ssoURL string
	redirect         bool
	certs            []*x509.Certificate
}

// parseIdPMetadata reads JumpCloud's "Export Metadata" (or any IdP's): an
// EntityDescriptor, or an EntitiesDescriptor holding exactly one IdP. It
// goes through the same XML guard as responses: metadata is pasted by
// admins and may come from a URL. It unmarshals into crewjam's metadata
// types directly; crewjam's samlsp.ParseMetadata would do the same but
// pulls a JWT library into every user's build.
func parseIdPMetadata(data []byte) (*idpMetadata, *Error) {
	doc, gerr := parseGuarded(data)
	if gerr != nil {
		// The guard's *Error is not kept as the cause: errors.Is would then
		// report malformed for what is a configuration error.
		return nil, configError("IdPMetadataXML: %s", gerr.Message).withCause(gerr.Err)
	}
	var ed *crewjam.EntityDescriptor
	switch root := doc.Root(); {
	case root.Tag == "EntityDescriptor" && root.NamespaceURI() == nsMetadata:
		ed = &crewjam.EntityDescriptor{}
		if err := xml.Unmarshal(data, ed); err != nil {
			return nil, configError("IdPMetadataXML is not SAML metadata: %v", err).withCause(err)
		}
	case root.Tag == "EntitiesDescriptor" && root.NamespaceURI() == nsMetadata:
		var all crewjam.EntitiesDescriptor
		if err := xml.Unmarshal(data, &all); err != nil {
			return nil, configError("IdPMetadataXML is not SAML metadata: %v", err).withCause(err)
		}
		idps := idpEntities(&all)
		if len(idps) != 1 {
			return nil, configError("IdPMetadataXML is an EntitiesDescriptor with %d IdP entities; give the metadata of exactly one IdP", len(idps))
		}
		ed = idps[0]
	default:
		return nil, configError("IdPMetadataXML is not SAML metadata: the root element is {%s}%s, not an EntityDescriptor", root.NamespaceURI(), root.Tag)
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, configError("IdPMetadataXML has no IDPSSODescriptor: is this the IdP's metadata?")
	}
	md := &idpMetadata{entityID: ed.EntityID}
	if err := md.read(ed.IDPSSODescriptors); err != nil {
		return nil, err
	}
	if md.entityID == "" {
		return nil, configError("IdPMetadataXML has no entityID")
	}
	if len(md.certs) == 0 {
		return nil, configError("IdPMetadataXML has no signing certificate")
	}
	for _, cert := range md.certs {
		if err := checkKey(cert); err != nil {
			return nil, err
		}
	}
	return md, nil
}

// idpEntities returns the entities of an aggregate that have an
// IDPSSODescriptor, nested aggregates included.
func idpEntities(all *crewjam.EntitiesDescriptor) []*crewjam.EntityDescriptor {
	var out []*crewjam.EntityDescriptor
	for i := range all.EntityDescriptors {
		if len(all.EntityDescriptors[i].IDPSSODescriptors) > 0 {
			out = append(out, &all.EntityDescriptors[i])
		}
	}
	for i := range all.EntitiesDescriptors {
		out = append(out, idpEntities(&all.EntitiesDescriptors[i])...)
	}
	return out
}

// read takes the SSO URL and signing certificates of the descriptors.
func (md *idpMetadata) read(descriptors []crewjam.IDPSSODescriptor) *Error {
	for _, d := range descriptors {
		for _, sso := range d.SingleSignOnServices {
			switch sso.Binding {
			case crewjam.HTTPRedirectBinding:
				md.redirect = true
				md.ssoURL = sso.Location
			case crewjam.HTTPPostBinding:
				if md.ssoURL == "" {
					md.ssoURL = sso.Location
				}
			}
		}
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for i, xc := range kd.KeyInfo.X509Data.X509Certificates {
				certs, err := ParseCertificatesPEM([]byte(xc.Data))
				if err != nil {
					return configError("IdPMetadataXML: signing certificate %d: %v", i, err).withCause(err)
				}
				md.certs = append(md.certs, certs...)
			}
		}
	}
	return nil
}
