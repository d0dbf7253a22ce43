package relay

import (
	"slices"

	"github.com/tether-support/tether/internal/rbac"
)

// metaScreenMigrated records that custom roles were migrated when the
// screen permissions appeared (see migrateScreenPermissions).
const metaScreenMigrated = "migrated_screen_permissions"

// legacySession are the session permissions that existed before the
// screen permissions: a role holding all of them was written as
// "session.*" or "*", or was such a role before an earlier migration wrote
// its wildcard out.
var legacySession = []rbac.Permission{rbac.SessionStart, rbac.SessionAttended, rbac.SessionUnattended,
	rbac.SessionFiles, rbac.SessionClipboard, rbac.SessionViewAll, rbac.SessionTerminate}

// screenPermissions are the permissions migrateScreenPermissions grants.
var screenPermissions = []rbac.Permission{rbac.SessionScreenView, rbac.SessionScreenControl}

// migrateScreenPermissions runs once per data directory, when a relay that
// knows session.screen_view and session.screen_control first opens it.
// The built-in roles are code: superadmin and admin hold both (they hold
// every session permission), technician holds both, auditor neither. A
// custom role holding "session.*" or "*" holds both through its wildcard
// already. A custom role whose wildcard an earlier migration wrote out
// (so it lists every older session permission by name) gets both added to
// its allows, audited as role.migrate, so that it still means "every
// session permission". Any other custom role (a hand-picked list) gets
// neither: an administrator grants screen access on purpose.
func (s *Server) migrateScreenPermissions() error {
	return s.migrateRoles(metaScreenMigrated, rbac.SessionScreenControl,
		"session.screen_view and session.screen_control are new; the role held every other session permission",
		migrateScreenRole)
}

// migrateScreenRole returns r's allow list rewritten as
// migrateScreenPermissions says, and whether it changed.
func migrateScreenRole(r rbac.Role) ([]string, bool) {
	eff := rbac.Effective([]rbac.Role{r})
	for _, p := range legacySession {
		if !eff.Has(p) {
			return r.Allow, false
		}
	}
	allow, changed := slices.Clone(r.Allow), false
	for _, p := range screenPermissions {
		if !eff.Has(p) && !slices.Contains(r.Deny, string(p)) {
			allow, changed = append(allow, string(p)), true
		}
	}
	return allow, changed
}
