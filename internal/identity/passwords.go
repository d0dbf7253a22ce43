package identity

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/passpolicy"
	"github.com/tether-support/tether/internal/password"
	"github.com/tether-support/tether/internal/store"
)

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
func (s *Accounts) checkHistory(ctx context.Context, u *store.User, pol passpolicy.Policy, next []byte) error {
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

// Retire replaces u's password hash with hash, keeping the old one in the
// password history (trimmed as trimHistory says).
func Retire(u *store.User, hash string, at time.Time) {
	if u.PasswordHash != "" {
		u.PasswordHistory = trimHistory(append([]store.PasswordHistoryEntry{{Hash: u.PasswordHash, RetiredAt: at}}, u.PasswordHistory...), at)
	}
	u.PasswordHash, u.PasswordChangedAt = hash, at
}

// ChangePassword checks and stores a new password for u, signed in from
// src.
func (s *Accounts) ChangePassword(ctx context.Context, u *store.User, src string, cur, next []byte) error {
	if err := password.Check(next); err != nil {
		return errf(http.StatusBadRequest, "choose another password", "new password rejected: %v", err)
	}
	if err := s.VerifyCurrent(ctx, u, src, cur); err != nil {
		return err
	}
	pol, err := s.UserPolicy(u)
	if err != nil {
		return err
	}
	if err := pol.Check(u.Username, string(next)); err != nil {
		return violation(err)
	}
	if err := s.checkHistory(ctx, u, pol, next); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.db.UpdateUser(u.ID, func(u *store.User) error {
		t := now()
		if u.State == store.UserMustChangePassword {
			// A temporary password was never the user's choice: it takes
			// no place in the history, where it would push out a real one
			// (an administrator's reset retired that one already).
			u.PasswordHash, u.PasswordChangedAt, u.State = hash, t, store.UserActive
			return nil
		}
		Retire(u, hash, t)
		return nil
	})
}

// VerifyCurrent checks u's current password; a wrong one counts
// toward lockout like a failed sign-in and is throttled like one. A locked
// account's sign-in may go on, but not guess its password.
func (s *Accounts) VerifyCurrent(ctx context.Context, u *store.User, src string, cur []byte) error {
	if err := password.Check(cur); err != nil {
		return errf(http.StatusBadRequest, "", "current password rejected: %v", err)
	}
	if u.State == store.UserLocked {
		return errLocked
	}
	done, err := s.admitSignIn(u.Username, u, SourceKey(src))
	if err != nil {
		return err
	}
	defer done()
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, cur)
	if err != nil {
		return err
	}
	if !ok {
		return s.loginFailure(u, SourceKey(src), errf(http.StatusForbidden, "type your current password first", "the current password is wrong"))
	}
	return nil
}
