package relay

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// superadminsMu serialises the last-superadmin check with the change that
// could take the last one away (delete, disable), so that two superadmins
// cannot disable or delete each other at the same time.
var superadminsMu sync.Mutex

// lockedOp runs h holding mu.
func lockedOp(mu *sync.Mutex, h func(http.ResponseWriter, *http.Request, *principal)) func(http.ResponseWriter, *http.Request, *principal) {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		mu.Lock()
		defer mu.Unlock()
		h(w, r, p)
	}
}

// usableState reports whether an account in state can still be used to
// sign in, now or after an administrator unlocks it.
func usableState(state string) bool {
	return state != store.UserDeleted && state != store.UserDisabled && state != store.UserPending
}

// notLastSuperadmin refuses to take away t if it is the last superadmin
// account that can sign in. The caller holds superadminsMu.
func (s *Server) notLastSuperadmin(t *store.User, verb string) error {
	if !identity.HasRole(t, rbac.Superadmin) {
		return nil
	}
	all, err := s.db.ListUsers()
	if err != nil {
		return err
	}
	for _, x := range all {
		if x.ID != t.ID && identity.HasRole(&x, rbac.Superadmin) && usableState(x.State) {
			return nil
		}
	}
	return errf(http.StatusConflict, "create or enable another superadmin first",
		"you cannot %s %s: it is the last superadmin account", verb, t.Username)
}

// handleUserDelete deletes an account: it can no longer sign in, its
// tokens are deleted and its live sessions end. The record stays, without
// its password, second factor or email address, so that the audit log's
// IDs still resolve to its name, which stays taken.
func (s *Server) handleUserDelete() func(http.ResponseWriter, *http.Request, *principal) {
	return lockedOp(&superadminsMu, s.userOp("delete", "delete", func(r *http.Request, p *principal, t *store.User) (userChange, error) {
		if err := s.notLastSuperadmin(t, "delete"); err != nil {
			return userChange{}, err
		}
		return userChange{apply: func(u *store.User) error {
			if u.State == store.UserDeleted {
				return errf(http.StatusNotFound, "see `tech users list`", "no user %q", u.Username)
			}
			u.State, u.DeletedAt, u.DeletedBy = store.UserDeleted, now(), p.user.ID
			u.PasswordHash, u.PasswordHistory, u.Email = "", nil, ""
			u.TOTPSecret, u.TOTPPending, u.TOTPLastStep, u.RecoveryCodes = nil, nil, 0, nil
			u.FailedLogins, u.LockedAt = 0, time.Time{}
			return nil
		}, revoke: "account deleted"}, nil
	}))
}

// emailTaken refuses email if another account that is not deleted has it,
// compared ignoring case. The caller holds userNamesMu. The answer does
// not say whose it is: the other account may be in another organisation.
func emailTaken(all []store.User, self *store.User, email string) error {
	if email == "" {
		return nil
	}
	for _, x := range all {
		if x.ID != self.ID && x.State != store.UserDeleted && strings.EqualFold(x.Email, email) {
			return errf(http.StatusConflict, "each account needs its own address; give another one or none",
				"email address %q is already used by another account", email)
		}
	}
	return nil
}

// usersView is the answer of GET /v1/users for p.
func (s *Server) usersView(p *principal, all []store.User, withDeleted bool) []api.User {
	out := []api.User{}
	for _, u := range all {
		if u.State == store.UserDeleted && !withDeleted {
			continue
		}
		if s.userVisible(p, &u) {
			out = append(out, s.newUserView(&u))
		}
	}
	return out
}
