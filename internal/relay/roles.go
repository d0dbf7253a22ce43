package relay

import (
	"errors"
	"net/http"
	"slices"
	"sort"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// newRoleView is r as GET /v1/roles shows it.
func newRoleView(r rbac.Role) api.Role {
	v := api.Role{Name: r.Name, Builtin: r.Builtin, Allow: orEmpty(r.Allow), Deny: orEmpty(r.Deny), Description: r.Description, Effective: []string{}}
	for _, p := range rbac.Effective([]rbac.Role{r}).List() {
		v.Effective = append(v.Effective, string(p))
	}
	return v
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) handleRoles(w http.ResponseWriter, r *http.Request, p *principal) {
	custom, err := s.db.ListRoles()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	var out []api.Role
	for _, b := range rbac.Builtin() {
		out = append(out, newRoleView(b))
	}
	sort.Slice(custom, func(i, j int) bool { return custom[i].Name < custom[j].Name })
	for _, c := range custom {
		out = append(out, newRoleView(rbac.Role{Name: c.Name, Allow: c.Allow, Deny: c.Deny, Description: c.Description}))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleRolePut(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.RoleRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	role := rbac.Role{Name: req.Name, Allow: req.Allow, Deny: req.Deny, Description: truncate(req.Description, 200)}
	if err := rbac.ValidateRole(role); err != nil {
		s.writeErr(w, errf(http.StatusBadRequest, "role names are [a-z][a-z0-9_-]{1,31}; see `tech roles list` for permissions", "invalid role: %v", err))
		return
	}
	if !rbac.CanGrant(p.perms, role) {
		s.record(auditEvent(p.user.ID, "role.put", role.Name, "denied", p.source, "reason", "escalation"))
		s.writeErr(w, errf(http.StatusForbidden, "a role may only allow permissions you hold yourself", "permission denied: role %q allows more than you hold", role.Name))
		return
	}
	rec := &store.Role{Name: role.Name, Allow: role.Allow, Deny: role.Deny, Description: role.Description, CreatedBy: p.user.ID, CreatedAt: now()}
	if err := s.db.PutRole(rec); err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "role.put", role.Name, "success", p.source, "allow", joinCaps(role.Allow), "deny", joinCaps(role.Deny)))
	writeJSON(w, http.StatusOK, newRoleView(role))
}

func (s *Server) handleRoleDelete(w http.ResponseWriter, r *http.Request, p *principal) {
	name := r.PathValue("name")
	if _, err := s.accounts.Role(name); err != nil {
		s.writeErr(w, err)
		return
	}
	if err := s.db.DeleteRole(name); errors.Is(err, store.ErrNotFound) {
		s.writeErr(w, errf(http.StatusBadRequest, "built-in roles cannot be deleted", "role %q is built in", name))
		return
	} else if err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "role.delete", name, "success", p.source))
	if err := s.dropRole(name, p); err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.Status{Status: "deleted"})
}

// dropRole takes a deleted role away from everyone who held it and signs
// them out.
func (s *Server) dropRole(name string, p *principal) error {
	users, err := s.db.ListUsers()
	if err != nil {
		return err
	}
	for _, u := range users {
		if !identity.HasRole(&u, name) {
			continue
		}
		err := s.db.UpdateUser(u.ID, func(u *store.User) error {
			u.Roles = slices.DeleteFunc(u.Roles, func(r string) bool { return r == name })
			return nil
		})
		if err != nil {
			return err
		}
		s.revokeUser(u.ID, "role "+name+" was deleted", p)
	}
	return nil
}
