package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"

	"github.com/samlgate/samlgate/saml"
)

// The audit log: one Info line per event, each key once, and never an
// email, a group name, a name or assertion XML. The refusal detail (which
// may quote the response) goes to Debug only. Every line has "event", so
// that a log pipeline can select the audit lines without parsing messages:
//
//	event           msg                        keys
//	login           samlgate: login            connection, flow, subject, session, groups, request_id
//	login_refused   samlgate: login refused    connection, flow, code, request_id, expected, actual, hint
//	logout          samlgate: logout           connection, subject, session, server_side
//	sessions_revoked samlgate: sessions revoked connection, subject, outcome
//
// flow is "sp-initiated" or "idp-initiated". session is sessionHash of the
// session cookie (never the cookie), the same at login and at logout.
// subject is the Subject, unless it is email-shaped (JumpCloud's default
// NameID is the email): then it is "hmac:" and the first 32 hex digits of
// the user's HMAC under the session keys, the name the user index of a
// UserSessionStore uses, so that the lines of one user still correlate.
const (
	auditLogin           = "login"
	auditLoginRefused    = "login_refused"
	auditLogout          = "logout"
	auditSessionsRevoked = "sessions_revoked"
)

// flowName names an event's flow.
func flowName(idpInitiated bool) string {
	if idpInitiated {
		return "idp-initiated"
	}
	return "sp-initiated"
}

// sessionHash names a session cookie value in logs: the first 16 bytes of
// its SHA-256, hex. It identifies the session across lines without being
// usable as a cookie.
func sessionHash(cookieValue string) string {
	sum := sha256.Sum256([]byte(cookieValue))
	return hex.EncodeToString(sum[:16])
}

// auditSubject is the subject as the audit log shows it (see above).
func (g *Gateway) auditSubject(c *conn, subject string) string {
	if !strings.Contains(subject, "@") {
		return subject
	}
	return "hmac:" + g.sealer.userKey(0, c.spEntityID, c.Name(), subject)[:32]
}

// auditLoginAccepted logs a login that created a session.
func (g *Gateway) auditLoginAccepted(ctx context.Context, c *conn, id *saml.Identity, ev LoginEvent, cookieValue, reqID string) {
	g.logger.LogAttrs(ctx, slog.LevelInfo, "samlgate: login",
		slog.String("event", auditLogin),
		slog.String("connection", c.Name()),
		slog.String("flow", flowName(ev.IdPInitiated)),
		slog.String("subject", g.auditSubject(c, id.Subject)),
		slog.String("session", sessionHash(cookieValue)),
		slog.Int("groups", len(id.Groups)),
		slog.String("request_id", reqID))
}

// auditLoginRefused logs a refused callback at Info, and its detail (with
// the note refining in_response_to_mismatch) at Debug.
func (g *Gateway) auditLoginRefused(ctx context.Context, ev LoginEvent, e *saml.Error, reqID, note string) {
	attrs := []slog.Attr{
		slog.String("event", auditLoginRefused),
		slog.String("connection", ev.Connection),
		slog.String("flow", flowName(ev.IdPInitiated)),
		slog.String("code", string(e.Code)),
		slog.String("request_id", reqID),
	}
	if e.Expected != "" || e.Actual != "" {
		attrs = append(attrs, slog.String("expected", e.Expected), slog.String("actual", e.Actual))
	}
	if e.Hint != "" {
		attrs = append(attrs, slog.String("hint", e.Hint))
	}
	g.logger.LogAttrs(ctx, slog.LevelInfo, "samlgate: login refused", attrs...)
	if g.logger.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{slog.String("connection", ev.Connection), slog.String("request_id", reqID), slog.String("detail", e.Detail())}
		if note != "" {
			attrs = append(attrs, slog.String("note", note))
		}
		g.logger.LogAttrs(ctx, slog.LevelDebug, "samlgate: login refused: detail", attrs...)
	}
}

// auditLogout logs a logout. c and subject are those of the session the
// browser presented (nil and "" when it presented none that opens);
// serverSide says whether a stored session was deleted (false for a
// stateless cookie, which stays valid until it expires).
func (g *Gateway) auditLogout(ctx context.Context, c *conn, subject, cookieValue string, serverSide bool) {
	attrs := []slog.Attr{slog.String("event", auditLogout)}
	if c != nil {
		attrs = append(attrs, slog.String("connection", c.Name()))
		if subject != "" {
			attrs = append(attrs, slog.String("subject", g.auditSubject(c, subject)))
		}
	}
	if cookieValue != "" {
		attrs = append(attrs, slog.String("session", sessionHash(cookieValue)))
	}
	attrs = append(attrs, slog.Bool("server_side", serverSide))
	g.logger.LogAttrs(ctx, slog.LevelInfo, "samlgate: logout", attrs...)
}

// auditSessionsRevoked logs a RevokeUser: outcome is "revoked", or the
// code of the error it returns (config_invalid when sessions in cookies
// stay valid, unavailable when a store failed).
func (g *Gateway) auditSessionsRevoked(ctx context.Context, c *conn, subject string, err error) {
	outcome := "revoked"
	if e, ok := err.(*saml.Error); ok {
		outcome = string(e.Code)
	}
	g.logger.LogAttrs(ctx, slog.LevelInfo, "samlgate: sessions revoked",
		slog.String("event", auditSessionsRevoked),
		slog.String("connection", c.Name()),
		slog.String("subject", g.auditSubject(c, subject)),
		slog.String("outcome", outcome))
}
