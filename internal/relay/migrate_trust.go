package relay

import (
	"slices"

	"github.com/tether-support/tether/internal/rbac"
)

// metaTrustMigrated records that custom roles were migrated when
// trust.manage appeared (see migrateTrustPermission).
const metaTrustMigrated = "migrated_trust_manage"

// migrateTrustPermission runs once per data directory, when a relay that
// knows trust.manage first opens it. Nobody held trust.manage before it
// existed, so a custom role whose wildcards ("*", "trust.*") would now
// grant it gets those wildcards written out as the permissions they stood
// for; a superadmin grants trust.manage explicitly. Each rewritten role is
// audited as role.migrate.
func (s *Server) migrateTrustPermission() error {
	return s.migrateRoles(metaTrustMigrated, rbac.TrustManage, "trust.manage is a new permission", func(r rbac.Role) ([]string, bool) {
		return withoutWildcardGrant(r, rbac.TrustManage)
	})
}

// withoutWildcardGrant returns r's allow list with every wildcard that
// grants p written out without p, and whether it changed. A role that
// names p itself keeps it.
func withoutWildcardGrant(r rbac.Role, p rbac.Permission) ([]string, bool) {
	if !rbac.Effective([]rbac.Role{r}).Has(p) || slices.Contains(r.Allow, string(p)) {
		return r.Allow, false
	}
	return expandWithout(r.Allow, p), true
}

// metaHoldMigrated records that custom roles were migrated when
// recording.hold appeared (see migrateHoldPermission).
const metaHoldMigrated = "migrated_recording_hold"

// migrateHoldPermission runs once per data directory, when a relay that
// knows recording.hold first opens it. A legal hold decides what
// retention may delete, and nobody held the permission before it existed,
// so a custom role whose wildcards ("*", "recording.*") would now grant it
// gets them written out without it, as for trust.manage; an administrator
// grants recording.hold explicitly. Each rewritten role is audited as
// role.migrate.
func (s *Server) migrateHoldPermission() error {
	return s.migrateRoles(metaHoldMigrated, rbac.RecordingHold, "recording.hold is a new permission", func(r rbac.Role) ([]string, bool) {
		return withoutWildcardGrant(r, rbac.RecordingHold)
	})
}
