package relay

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"tether/internal/rbac"
	"tether/internal/store"
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
	if _, err := s.db.GetMeta(metaTrustMigrated); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	roles, err := s.db.ListRoles()
	if err != nil {
		return err
	}
	for _, cr := range roles {
		allow, changed := withoutWildcardGrant(rbac.Role{Name: cr.Name, Allow: cr.Allow, Deny: cr.Deny}, rbac.TrustManage)
		if !changed {
			continue
		}
		before := strings.Join(cr.Allow, ",")
		cr.Allow = allow
		if err := s.db.PutRole(&cr); err != nil {
			return fmt.Errorf("migrate role %q: %w", cr.Name, err)
		}
		s.record(auditEvent("", "role.migrate", cr.Name, "success", "",
			"reason", "trust.manage is a new permission", "allow_before", before, "allow", strings.Join(allow, ",")))
		s.log.Info("migrated role for trust.manage", "role", cr.Name, "allow", strings.Join(allow, ","))
	}
	return s.db.PutMeta(metaTrustMigrated, []byte(now().Format("2006-01-02T15:04:05Z")))
}

// withoutWildcardGrant returns r's allow list with every wildcard that
// grants p written out without p, and whether it changed. A role that
// names p itself keeps it.
func withoutWildcardGrant(r rbac.Role, p rbac.Permission) ([]string, bool) {
	if !rbac.Effective([]rbac.Role{r}).Has(p) || slices.Contains(r.Allow, string(p)) {
		return r.Allow, false
	}
	var out []string
	for _, a := range r.Allow {
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
	return out, true
}
