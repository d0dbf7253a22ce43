package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/password"
	"github.com/tether-support/tether/internal/store"
)

// errBadLogin is the one answer for an unknown user or a wrong password.
var errBadLogin = errf(http.StatusUnauthorized, "check the username and password", "invalid username or password")

// CheckPassword returns the user if name and pw match and the account may
// sign in. The throttles (admitSignIn) come first: a refused attempt is
// neither checked nor counted. Unknown names get the same argon2id work and
// the same answers as real accounts, locking included; failures count
// toward lockout and toward the throttles.
func (s *Accounts) CheckPassword(ctx context.Context, name string, pw []byte, src string) (*store.User, error) {
	if err := password.Check(pw); err != nil {
		return nil, errf(http.StatusBadRequest, "", "password rejected: %v", err)
	}
	canon := loginName(name)
	u, err := s.lookupLogin(canon)
	if err != nil {
		return nil, err
	}
	done, err := s.admitSignIn(canon, u, src)
	if err != nil {
		return nil, err
	}
	defer done()
	if u == nil {
		return nil, s.unknownLogin(ctx, canon, pw, src)
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, pw)
	if err != nil {
		return nil, err
	}
	if u.State == store.UserLocked {
		return nil, errLocked
	}
	if !ok {
		return nil, s.loginFailure(u, src, errBadLogin)
	}
	return u, accountState(u)
}

// errLocked is the one answer for a locked account, real or not: it names
// who may unlock without revealing whether the name exists.
var errLocked = errf(http.StatusForbidden,
	"an administrator of your organisation can unlock it with `tech users unlock NAME` (administrator accounts: the service superadmin; "+
		"any account, on the relay host: `relay users unlock NAME --data DIR`)",
	"account locked after too many failed sign-ins")

// unknownFailure counts a failed sign-in for a name that is no user and
// answers as for a real account: locked once the default threshold passes.
func (s *Accounts) unknownFailure(name, src string) error {
	s.countFailure(name, src)
	n, err := s.db.AddUnknownLoginFailure(name)
	if err != nil {
		return err
	}
	pol, err := s.OrgPolicy(s.DefaultOrg())
	if err != nil {
		return err
	}
	if n >= pol.LockoutThreshold {
		return errLocked
	}
	return errBadLogin
}

// unknownLocked reports whether an unknown name has reached the threshold.
func (s *Accounts) unknownLocked(name string) bool {
	n, _ := s.db.UnknownLoginFailures(name)
	pol, err := s.OrgPolicy(s.DefaultOrg())
	return err == nil && n >= pol.LockoutThreshold
}

// loginFailure counts a failed sign-in (wrong password or second factor)
// for u, locking the account at the policy's threshold, and charges it to
// the throttles (see countFailure). Failures are persisted, so a restart
// does not reset them. It returns the answer.
func (s *Accounts) loginFailure(u *store.User, src string, answer error) error {
	s.countFailure(u.Username, src)
	pol, err := s.UserPolicy(u)
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
		if s.cfg.OnLockout != nil {
			s.cfg.OnLockout()
		}
		s.record(audit.NewEvent("", "user.lock", u.ID, "locked", src, "failures", fmt.Sprint(pol.LockoutThreshold)))
		return errLocked
	}
	return answer
}

// LoginSucceeded resets u's failure count, stores the time of this
// sign-in (User.LastLoginAt) and remembers src as a source u signs in from.
func (s *Accounts) LoginSucceeded(u *store.User, src string) {
	s.rememberSource(u, src)
	t := now()
	err := s.db.UpdateUser(u.ID, func(u *store.User) error { u.FailedLogins, u.LastLoginAt = 0, t; return nil })
	if err != nil {
		s.log.Error("record the sign-in", "user", u.ID, "err", err)
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
// nil for a name that is no user. A deleted user is no user: signing in
// as one is answered exactly as for an unknown name.
func (s *Accounts) lookupLogin(name string) (*store.User, error) {
	u, err := s.db.UserByName(name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.State == store.UserDeleted) {
		return nil, nil
	}
	return u, err
}

// unknownLogin answers a sign-in to a name that is no user after the same
// argon2id work a real check costs, counting it like a real failure.
func (s *Accounts) unknownLogin(ctx context.Context, name string, pw []byte, src string) error {
	s.hasher.DummyVerify(ctx, pw)
	// Unknown names are counted under their digest, never in clear: they
	// may be a password typed into the wrong field (see loginname.go).
	key := unknownNamePrefix + s.nameDigest(name)
	if s.unknownLocked(key) {
		return errLocked
	}
	return s.unknownFailure(key, src)
}
