package identity

import (
	"errors"
	"net/http"
	"slices"

	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// Role returns the built-in or custom role called name.
func (s *Accounts) Role(name string) (rbac.Role, error) {
	for _, r := range rbac.Builtin() {
		if r.Name == name {
			return r, nil
		}
	}
	cr, err := s.db.RoleByName(name)
	if errors.Is(err, store.ErrNotFound) {
		return rbac.Role{}, errf(http.StatusNotFound, "see `tech roles list`", "no role %q", name)
	}
	if err != nil {
		return rbac.Role{}, err
	}
	return rbac.Role{Name: cr.Name, Allow: cr.Allow, Deny: cr.Deny, Description: cr.Description}, nil
}

// RolesOf returns the roles u holds; names that no longer exist are skipped.
func (s *Accounts) RolesOf(u *store.User) []rbac.Role {
	var out []rbac.Role
	for _, name := range u.Roles {
		if r, err := s.Role(name); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// orgPermissions returns u's permissions from every role but superadmin:
// what u may do as an administrator of its organisations, as opposed to as
// the service's operator.
func (s *Accounts) orgPermissions(u *store.User) rbac.Set {
	var roles []rbac.Role
	for _, r := range s.RolesOf(u) {
		if r.Name != rbac.Superadmin {
			roles = append(roles, r)
		}
	}
	return rbac.Effective(roles)
}

// HasRole reports whether u holds the role called name.
func HasRole(u *store.User, name string) bool { return slices.Contains(u.Roles, name) }

// isAdminAccount reports whether u is an administrator (admin or superadmin).
func isAdminAccount(u *store.User) bool { return HasRole(u, rbac.Admin) || HasRole(u, rbac.Superadmin) }

// Permissions computes a user's effective permissions from its built-in
// and custom roles: the union of the allows minus the union of the denies.
func (s *Accounts) Permissions(u *store.User) rbac.Set {
	return rbac.Effective(s.RolesOf(u))
}
