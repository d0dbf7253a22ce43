package identity

import (
	"net/http"
	"slices"
	"strings"

	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// Who may manage whom (unlock, reset, disable, grant, approve, change the
// email or second factor…):
//
//   - an administrator of an organisation (user.manage from a role other than
//     superadmin) manages the users whose every organisation is one they
//     belong to, except superadmins;
//   - the service's superadmin manages administrator accounts and accounts
//     holding a permission the built-in admin role lacks (auditors,
//     break-glass holders: see aboveOrgAdmin), never ordinary users: an
//     operator does not act on a clinic's staff;
//   - in both cases the actor must hold every permission the account holds
//     and, if the actor is limited to device groups, the account must be
//     limited to some of the same groups: whoever may reset a password may
//     sign in as its owner, so managing an account must not be a way to
//     exceed one's own role (see checkSuperset).
//
// Nobody manages their own account this way.

// CanManage returns nil if actor, holding perms, may act on target, else
// the refusal.
func (s *Accounts) CanManage(actor *store.User, perms rbac.Set, target *store.User, action string) error {
	if target.ID == actor.ID {
		return errf(http.StatusForbidden, "ask another administrator", "you cannot %s your own account", action)
	}
	if err := s.mayAdminister(actor, target, action); err != nil {
		return err
	}
	return s.checkSuperset(actor, perms, target, action)
}

// mayAdminister returns nil if target is one of the accounts actor
// administers (see the rules above), ignoring permissions.
func (s *Accounts) mayAdminister(actor, target *store.User, action string) error {
	actorOrgs, targetOrgs := s.UserOrgs(actor), s.UserOrgs(target)
	if s.orgPermissions(actor).Has(rbac.UserManage) && SharesOrg(actorOrgs, targetOrgs) && !HasRole(target, rbac.Superadmin) {
		for _, o := range targetOrgs {
			if !slices.Contains(actorOrgs, o) {
				return errf(http.StatusForbidden, "an administrator of every organisation the user belongs to must do it",
					"permission denied: %s also belongs to organisation %q, which you do not administer", target.Username, o)
			}
		}
		return nil
	}
	if HasRole(actor, rbac.Superadmin) {
		if isAdminAccount(target) || s.aboveOrgAdmin(target) {
			return nil
		}
		return errf(http.StatusForbidden, "an administrator of the user's organisation must do it",
			"the service superadmin may %s only administrator accounts and accounts holding permissions beyond the admin role, and %s is neither", action, target.Username)
	}
	return errf(http.StatusForbidden, "an administrator of the user's organisation must do it",
		"%s is not in an organisation you administer", target.Username)
}

// aboveOrgAdmin reports whether u holds a permission that the built-in
// admin role lacks (recording.review, recording.recipients, emergency.use):
// no organisation administrator could manage such an account, so the
// service superadmin does.
func (s *Accounts) aboveOrgAdmin(u *store.User) bool {
	admin, err := s.Role(rbac.Admin)
	if err != nil {
		return true
	}
	return !rbac.Effective([]rbac.Role{admin}).Contains(s.Permissions(u))
}

// checkSuperset refuses an action on target unless actor holds every
// permission target holds (perms) and actor's device-group limit, if any, covers
// target's. The refusal names what actor lacks.
func (s *Accounts) checkSuperset(actor *store.User, perms rbac.Set, target *store.User, action string) error {
	have, theirs := perms, s.Permissions(target)
	if !have.Contains(theirs) {
		var missing []string
		for _, x := range theirs.List() {
			if !have.Has(x) {
				missing = append(missing, string(x))
			}
		}
		return errf(http.StatusForbidden, "an administrator holding every permission of the account must do it",
			"permission denied: you may not %s %s, who holds %s, which you do not hold", action, target.Username, strings.Join(missing, ", "))
	}
	if mine := actor.DeviceGroups; len(mine) > 0 {
		if len(target.DeviceGroups) == 0 {
			return errf(http.StatusForbidden, "an administrator without a device-group limit must do it",
				"permission denied: you may not %s %s, who may reach every device group while you are limited to %s", action, target.Username, strings.Join(mine, ", "))
		}
		for _, g := range target.DeviceGroups {
			if !slices.Contains(mine, g) {
				return errf(http.StatusForbidden, "an administrator of that device group must do it",
					"permission denied: you may not %s %s, who may reach device group %q, outside your device groups", action, target.Username, g)
			}
		}
	}
	return nil
}

// SharesOrg reports whether the organisation lists a and b have one in common.
func SharesOrg(a, b []string) bool {
	for _, o := range a {
		if slices.Contains(b, o) {
			return true
		}
	}
	return false
}
