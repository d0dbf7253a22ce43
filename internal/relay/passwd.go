package relay

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"tether/internal/api"
	"tether/internal/identity"
	"tether/internal/password"
	"tether/internal/store"
)

// maxLoginBody bounds a login or password-change body. It is well above
// password.MaxLength so that an overlong password is refused by name rather
// than as a malformed body.
const maxLoginBody = 4 << 20

// readBig decodes a JSON body of at most maxLoginBody bytes into v.
func readBig(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxLoginBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errf(http.StatusBadRequest, "", "malformed request body: %v", err)
	}
	return nil
}

// handlePasswd changes the caller's password after checking the current
// one, the organisations' policy and the password history. Other sign-ins
// of the user are revoked.
func (s *Server) handlePasswd(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.PasswdRequest
	if err := readBig(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	err := notEmergency(p)
	if err == nil {
		err = s.changePassword(r.Context(), p, []byte(req.Current), []byte(req.New))
	}
	if err != nil {
		s.record(auditEvent(p.user.ID, "user.passwd", p.user.ID, "failure", p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "user.passwd", p.user.ID, "success", p.source))
	if _, err := s.db.DeleteUserLoginTokensExcept(p.user.ID, p.tok.Hash); err != nil {
		s.log.Error("revoke other sign-ins", "user", p.user.ID, "err", err)
	}
	writeJSON(w, http.StatusOK, api.Status{Status: "password changed"})
}

// changePassword checks and stores a new password for p's user.
func (s *Server) changePassword(ctx context.Context, p *principal, cur, next []byte) error {
	if err := password.Check(next); err != nil {
		return errf(http.StatusBadRequest, "choose another password", "new password rejected: %v", err)
	}
	if err := s.verifyCurrent(ctx, p, cur); err != nil {
		return err
	}
	pol, err := s.accounts.UserPolicy(p.user)
	if err != nil {
		return err
	}
	if err := pol.Check(p.user.Username, string(next)); err != nil {
		return identity.Violation(err)
	}
	if err := s.accounts.CheckHistory(ctx, p.user, pol, next); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.db.UpdateUser(p.user.ID, func(u *store.User) error {
		t := now()
		if u.State == store.UserMustChangePassword {
			// A temporary password was never the user's choice: it takes
			// no place in the history, where it would push out a real one
			// (an administrator's reset retired that one already).
			u.PasswordHash, u.PasswordChangedAt, u.State = hash, t, store.UserActive
			return nil
		}
		identity.Retire(u, hash, t)
		return nil
	})
}

// verifyCurrent checks the caller's current password; a wrong one counts
// toward lockout like a failed sign-in and is throttled like one. A locked
// account's sign-in may go on, but not guess its password.
func (s *Server) verifyCurrent(ctx context.Context, p *principal, cur []byte) error {
	if err := password.Check(cur); err != nil {
		return errf(http.StatusBadRequest, "", "current password rejected: %v", err)
	}
	if p.user.State == store.UserLocked {
		return identity.ErrLocked
	}
	done, err := s.accounts.AdmitSignIn(p.user.Username, p.user, identity.SourceKey(p.source))
	if err != nil {
		return err
	}
	defer done()
	ok, err := s.hasher.Verify(ctx, p.user.PasswordHash, cur)
	if err != nil {
		return err
	}
	if !ok {
		return s.accounts.LoginFailure(p.user, identity.SourceKey(p.source), errf(http.StatusForbidden, "type your current password first", "the current password is wrong"))
	}
	return nil
}
