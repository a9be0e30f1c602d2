package gateway

import (
	"net/http"

	"github.com/samlgate/samlgate/saml"
)

// serveMetadata serves a connection's SP metadata: GET MetadataPath?connection=X.
func (g *Gateway) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	name := r.URL.Query().Get("connection")
	c, found := g.pick(name)
	if !found || c == nil {
		g.unknownConnection(w, r, name)
		return
	}
	md, err := c.Metadata()
	if err != nil {
		reqID := randomHex(8)
		g.logger.ErrorContext(r.Context(), "samlgate: cannot write SP metadata", "connection", c.Name(), "request_id", reqID, "error", err.Error())
		g.errorPage(w, http.StatusInternalServerError, saml.CodeUnavailable, "The metadata could not be written.", reqID, "")
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(md)
}
