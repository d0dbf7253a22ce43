package identity

import (
	"context"
	"errors"
	"net/http"
	"time"

	"tether/internal/passpolicy"
	"tether/internal/store"
)

// Violation turns a policy violation into an answer naming the rule.
func Violation(err error) error {
	var v *passpolicy.Violation
	if errors.As(err, &v) {
		return errf(http.StatusBadRequest, "choose another password", "new password rejected (%s): %s", v.Rule, v.Message)
	}
	return err
}

// CheckHistory refuses the current password and, as the policy says, the
// recent ones, comparing against the stored hashes.
func (s *Accounts) CheckHistory(ctx context.Context, u *store.User, pol passpolicy.Policy, next []byte) error {
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
			return Violation(passpolicy.Reused())
		}
	}
	return nil
}

// MaxHistory bounds the stored history whatever the policy, so that a
// change never costs more than this many argon2id checks.
const MaxHistory = 48

// TrimHistory keeps what any valid policy could still need: the newest
// passpolicy.MaxHistoryCount entries and those retired within
// passpolicy.MaxHistoryAge, at most MaxHistory in all.
func TrimHistory(h []store.PasswordHistoryEntry, t time.Time) []store.PasswordHistoryEntry {
	for i, e := range h {
		if i >= MaxHistory || (i >= passpolicy.MaxHistoryCount && t.Sub(e.RetiredAt) > passpolicy.MaxHistoryAge) {
			return h[:i]
		}
	}
	return h
}

// Retire replaces u's password hash with hash, keeping the old one in the
// password history (trimmed as TrimHistory says).
func Retire(u *store.User, hash string, at time.Time) {
	if u.PasswordHash != "" {
		u.PasswordHistory = TrimHistory(append([]store.PasswordHistoryEntry{{Hash: u.PasswordHash, RetiredAt: at}}, u.PasswordHistory...), at)
	}
	u.PasswordHash, u.PasswordChangedAt = hash, at
}
