package relay

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// metaRecipientsMigrated records that custom roles were migrated to the
// recording.recipients permission (see migrateRecipientsPermission).
const metaRecipientsMigrated = "migrated_recording_recipients"

// migrateRecipientsPermission runs once per data directory, when a relay
// that knows recording.recipients first opens it. Recipient keys used to be
// managed with policy.manage; that let an administrator who may not review
// recordings register a key of their own and read every later recording.
// The built-in roles are code: superadmin has the new permission (it has
// every permission) and admin denies it. Custom roles are stored, and their
// wildcards ("*", "recording.*") would now silently grant it, so each one
// is rewritten so that it keeps exactly what it had, and holds
// recording.recipients only if it holds both policy.manage (recipients
// used to come with it) and recording.review (whoever manages recipient
// keys can read recordings):
//
//   - a role that should not hold it but would through a wildcard gets
//     that wildcard written out as the permissions it used to stand for;
//   - a role that should hold it and does not gets it added to its allows.
//
// Each rewritten role is audited as role.migrate. A user who held
// policy.manage and recording.review through two different roles, or
// policy.manage without recording.review, loses recipient management: a
// superadmin grants it again with a role allowing recording.recipients.
// Configured recipient keys are kept as they are.
func (s *Server) migrateRecipientsPermission() error {
	return s.migrateRoles(metaRecipientsMigrated, rbac.RecordingRecipients, "recording.recipients is its own permission", migrateRole)
}

// migrateRoles runs once per data directory (meta marks it done): every
// stored custom role that rewrite changes gets the allow list rewrite
// returns, audited as role.migrate with reason. Each permission added to
// the code that existing wildcards would silently grant comes with one.
func (s *Server) migrateRoles(meta string, perm rbac.Permission, reason string, rewrite func(rbac.Role) ([]string, bool)) error {
	if _, err := s.db.GetMeta(meta); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	roles, err := s.db.ListRoles()
	if err != nil {
		return err
	}
	pending, err := s.pendingPermissions(perm)
	if err != nil {
		return err
	}
	for _, cr := range roles {
		allow, changed := rewrite(rbac.Role{Name: cr.Name, Allow: cr.Allow, Deny: cr.Deny})
		if !changed {
			continue
		}
		allow = withoutPending(cr.Allow, allow, pending)
		before := strings.Join(cr.Allow, ",")
		cr.Allow = allow
		if err := s.db.PutRole(&cr); err != nil {
			return fmt.Errorf("migrate role %q: %w", cr.Name, err)
		}
		s.record(auditEvent("", "role.migrate", cr.Name, "success", "",
			"reason", reason, "allow_before", before, "allow", strings.Join(allow, ",")))
		s.log.Info("migrated role for "+string(perm), "role", cr.Name, "allow", strings.Join(allow, ","))
	}
	return s.db.PutMeta(meta, []byte(now().Format("2006-01-02T15:04:05Z")))
}

// newPermissions lists, in the order New migrates them, the permissions
// added to the code that existing wildcards would silently grant, with
// the meta key marking each one's migration done.
var newPermissions = []struct {
	meta string
	perm rbac.Permission
}{
	{metaRecipientsMigrated, rbac.RecordingRecipients},
	{metaTrustMigrated, rbac.TrustManage},
	{metaHoldMigrated, rbac.RecordingHold},
}

// pendingPermissions returns the new permissions other than perm whose
// migration has not run yet. A wildcard written out now must not grant
// them: their own migration, later, would find them named explicitly and
// keep them.
func (s *Server) pendingPermissions(perm rbac.Permission) ([]rbac.Permission, error) {
	var out []rbac.Permission
	for _, m := range newPermissions {
		if m.perm == perm {
			continue
		}
		if _, err := s.db.GetMeta(m.meta); errors.Is(err, store.ErrNotFound) {
			out = append(out, m.perm)
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// withoutPending returns allow without the pending permissions that a
// rewrite wrote out and the role did not name itself (before).
func withoutPending(before, allow []string, pending []rbac.Permission) []string {
	return slices.DeleteFunc(slices.Clone(allow), func(a string) bool {
		return slices.Contains(pending, rbac.Permission(a)) && !slices.Contains(before, a)
	})
}

// migrateRole returns r's allow list rewritten as migrateRecipientsPermission
// says, and whether it changed.
func migrateRole(r rbac.Role) ([]string, bool) {
	eff := rbac.Effective([]rbac.Role{r})
	want := eff.Has(rbac.PolicyManage) && eff.Has(rbac.RecordingReview)
	has := eff.Has(rbac.RecordingRecipients)
	switch {
	case want && !has:
		return append(slices.Clone(r.Allow), string(rbac.RecordingRecipients)), true
	case !want && has:
		return expandWithout(r.Allow, rbac.RecordingRecipients), true
	}
	return r.Allow, false
}

// expandWithout returns allow with every wildcard written out as the
// permissions it stands for, except p; entries that are not wildcards are
// kept as they are.
func expandWithout(allow []string, p rbac.Permission) []string {
	var out []string
	for _, a := range allow {
		if !rbac.Permission(a).IsWildcard() {
			out = append(out, a)
			continue
		}
		ps, _ := rbac.Expand(a)
		for _, q := range ps {
			if q != p && !slices.Contains(out, string(q)) {
				out = append(out, string(q))
			}
		}
	}
	return out
}
