package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"tether/internal/api"
	"tether/internal/passpolicy"
	"tether/internal/password"
	"tether/internal/store"
)

// maxLoginBody bounds a login or password-change body. It is well above
// password.MaxLength so that an overlong password is refused by name rather
// than as a malformed body.
const maxLoginBody = 4 << 20

// errLocked is the one answer for a locked account, real or not: it names
// who may unlock without revealing whether the name exists.
var errLocked = errf(http.StatusForbidden,
	"an administrator of your organisation can unlock it with `tech users unlock NAME` (administrator accounts: the service superadmin; "+
		"any account, on the relay host: `relay users unlock NAME --data DIR`)",
	"account locked after too many failed sign-ins")

// readBig decodes a JSON body of at most maxLoginBody bytes into v.
func readBig(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxLoginBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errf(http.StatusBadRequest, "", "malformed request body: %v", err)
	}
	return nil
}

// unknownFailure counts a failed sign-in for a name that is no user and
// answers as for a real account: locked once the default threshold passes.
func (s *Server) unknownFailure(name, src string) error {
	s.countFailure(name, src)
	n, err := s.db.AddUnknownLoginFailure(name)
	if err != nil {
		return err
	}
	pol, err := s.orgPolicy(s.defaultOrg())
	if err != nil {
		return err
	}
	if n >= pol.LockoutThreshold {
		return errLocked
	}
	return errBadLogin
}

// unknownLocked reports whether an unknown name has reached the threshold.
func (s *Server) unknownLocked(name string) bool {
	n, _ := s.db.UnknownLoginFailures(name)
	pol, err := s.orgPolicy(s.defaultOrg())
	return err == nil && n >= pol.LockoutThreshold
}

// loginFailure counts a failed sign-in (wrong password or second factor)
// for u, locking the account at the policy's threshold, and charges it to
// the throttles (see countFailure). Failures are persisted, so a restart
// does not reset them. It returns the answer.
func (s *Server) loginFailure(u *store.User, src string, answer error) error {
	s.countFailure(u.Username, src)
	pol, err := s.userPolicy(u)
	if err != nil {
		return err
	}
	locked := false
	err = s.db.UpdateUser(u.ID, func(u *store.User) error {
		u.FailedLogins++
		if u.FailedLogins >= pol.LockoutThreshold && (u.State == store.UserActive || u.State == store.UserMustChangePassword) {
			u.State, u.LockedAt, locked = store.UserLocked, now(), true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if locked {
		s.record(auditEvent("", "user.lock", u.ID, "locked", src, "failures", fmt.Sprint(pol.LockoutThreshold)))
		return errLocked
	}
	return answer
}

// loginSucceeded resets u's failure count and remembers src as a source
// u signs in from.
func (s *Server) loginSucceeded(u *store.User, src string) {
	s.rememberSource(u, src)
	if u.FailedLogins == 0 {
		return
	}
	err := s.db.UpdateUser(u.ID, func(u *store.User) error { u.FailedLogins = 0; return nil })
	if err != nil {
		s.log.Error("reset failed sign-ins", "user", u.ID, "err", err)
	}
}

// accountState refuses sign-in for a locked, disabled or pending account.
// It runs after the password was checked, so it reveals nothing to someone
// who does not know the password (a locked account says locked either way).
func accountState(u *store.User) error {
	switch u.State {
	case store.UserLocked:
		return errLocked
	case store.UserDisabled:
		return errf(http.StatusForbidden, "ask an administrator", "account disabled")
	case store.UserPending:
		return errf(http.StatusForbidden, "an administrator must approve it with `tech users approve NAME`", "account pending approval")
	}
	return nil
}

// lookupLogin returns the user called name (canonical, see loginName), or
// nil for a name that is no user.
func (s *Server) lookupLogin(name string) (*store.User, error) {
	u, err := s.db.UserByName(name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

// unknownLogin answers a sign-in to a name that is no user after the same
// argon2id work a real check costs, counting it like a real failure.
func (s *Server) unknownLogin(ctx context.Context, name string, pw []byte, src string) error {
	s.hasher.DummyVerify(ctx, pw)
	// Unknown names are counted under their digest, never in clear: they
	// may be a password typed into the wrong field (see loginname.go).
	key := unknownNamePrefix + s.nameDigest(name)
	if s.unknownLocked(key) {
		return errLocked
	}
	return s.unknownFailure(key, src)
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
	pol, err := s.userPolicy(p.user)
	if err != nil {
		return err
	}
	if err := pol.Check(p.user.Username, string(next)); err != nil {
		return violation(err)
	}
	if err := s.checkHistory(ctx, p.user, pol, next); err != nil {
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
		retire(u, hash, t)
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
		return errLocked
	}
	done, err := s.admitSignIn(p.user.Username, p.user, sourceKey(p.source))
	if err != nil {
		return err
	}
	defer done()
	ok, err := s.hasher.Verify(ctx, p.user.PasswordHash, cur)
	if err != nil {
		return err
	}
	if !ok {
		return s.loginFailure(p.user, sourceKey(p.source), errf(http.StatusForbidden, "type your current password first", "the current password is wrong"))
	}
	return nil
}

// violation turns a policy violation into an answer naming the rule.
func violation(err error) error {
	var v *passpolicy.Violation
	if errors.As(err, &v) {
		return errf(http.StatusBadRequest, "choose another password", "new password rejected (%s): %s", v.Rule, v.Message)
	}
	return err
}

// checkHistory refuses the current password and, as the policy says, the
// recent ones, comparing against the stored hashes.
func (s *Server) checkHistory(ctx context.Context, u *store.User, pol passpolicy.Policy, next []byte) error {
	hashes := []string{u.PasswordHash}
	t := now()
	for i, h := range u.PasswordHistory {
		if pol.HistoryApplies(h.RetiredAt, t, i) {
			hashes = append(hashes, h.Hash)
		}
	}
	for _, h := range hashes {
		ok, err := s.hasher.Verify(ctx, h, next)
		if err != nil {
			return err
		}
		if ok {
			return violation(passpolicy.Reused())
		}
	}
	return nil
}

// maxHistory bounds the stored history whatever the policy, so that a
// change never costs more than this many argon2id checks.
const maxHistory = 48

// trimHistory keeps what any valid policy could still need: the newest
// passpolicy.MaxHistoryCount entries and those retired within
// passpolicy.MaxHistoryAge, at most maxHistory in all.
func trimHistory(h []store.PasswordHistoryEntry, t time.Time) []store.PasswordHistoryEntry {
	for i, e := range h {
		if i >= maxHistory || (i >= passpolicy.MaxHistoryCount && t.Sub(e.RetiredAt) > passpolicy.MaxHistoryAge) {
			return h[:i]
		}
	}
	return h
}
