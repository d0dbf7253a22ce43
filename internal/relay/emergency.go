package relay

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/store"
)

// MaxEmergencyTTL is the longest an emergency (break-glass) token lives.
const MaxEmergencyTTL = identity.MaxEmergencyTTL

// EmergencyOptions describes one break-glass token.
type EmergencyOptions struct {
	// Dir is the relay's data directory; writing into it is the credential.
	Dir string
	// Reason says why; it is audited with every use. Required.
	Reason string
	// TTL is the token's lifetime: more than zero, at most MaxEmergencyTTL.
	TTL time.Duration
}

// EmergencyAccess issues a time-boxed superadmin token on the relay host
// and returns it; only its hash is written, into the data directory, so the
// running relay honours it at once. Issuing is audited when the database is
// free (the relay stopped); every use is audited by the relay either way. An
// emergency token does not bypass anyone's consent to a session.
func EmergencyAccess(o EmergencyOptions) (string, time.Time, error) {
	if !Initialized(o.Dir) {
		return "", time.Time{}, fmt.Errorf("%q is not a relay data directory (--data DIR)", o.Dir)
	}
	raw, g, err := identity.IssueGrant(o.Dir, o.Reason, o.TTL)
	if err != nil {
		return "", time.Time{}, err
	}
	auditIssue(o.Dir, g)
	return raw, g.ExpiresAt, nil
}

// auditIssue records the issue in the audit log if the relay is not
// holding the database.
func auditIssue(dir string, g identity.EmergencyGrant) {
	db, err := openStore(dir)
	if err != nil {
		return
	}
	defer db.Close()
	l, err := openAuditLog(dir, db)
	if err != nil {
		return
	}
	l.Append(audit.Event{Action: "emergency.issue", Outcome: "success", Source: "relay host",
		Details: map[string]string{"reason": g.Reason, "expires_at": g.ExpiresAt.Format(time.RFC3339)}})
	l.SignHead()
}

// errNoToken is the answer for a token the relay does not know.
var errNoToken = errf(http.StatusUnauthorized, "sign in again with `tech login`", "your sign-in is not valid (signed out, revoked or unknown)")

// emergencyPrincipal returns the break-glass principal for a token hash
// found in the data directory, auditing the use with its reason.
func (s *Server) emergencyPrincipal(r *http.Request, h [32]byte) (*principal, error) {
	id := identity.EmergencyID(h)
	src := sourceAddr(r)
	g, err := identity.CheckGrant(s.cfg.DataDir, h, now())
	switch {
	case errors.Is(err, identity.ErrGrantTampered):
		s.record(auditEvent(id, "emergency.tampered", r.URL.Path, "denied", src))
		s.log.Warn("emergency grant failed its integrity check", "grant", id)
		return nil, err
	case errors.Is(err, identity.ErrGrantExpired):
		s.record(auditEvent(id, "emergency.expired", r.URL.Path, "denied", src, "reason", g.Reason))
		return nil, err
	case err != nil:
		return nil, errNoToken
	}
	s.record(auditEvent(id, "emergency.use", r.Method+" "+r.URL.Path, "allowed", src, "reason", g.Reason))
	u, tok := identity.EmergencyUser(h, g)
	return &principal{user: u, tok: tok, perms: s.accounts.Permissions(u), source: src}, nil
}

// deleteToken ends a sign-in: a stored token, or an emergency grant.
func (s *Server) deleteToken(tok *store.LoginToken) error {
	if tok.Emergency {
		return identity.RemoveGrant(s.cfg.DataDir, tok.Hash)
	}
	return s.db.DeleteLoginToken(tok.Hash)
}

// notEmergency refuses account self-service to an emergency principal,
// which has no account of its own.
func notEmergency(p *principal) error {
	if p.tok.Emergency {
		return errf(http.StatusForbidden, "emergency access has no password or second factor to change", "not available with emergency access")
	}
	return nil
}
