package relay

import (
	"errors"
	"net/http"
	"regexp"
	"slices"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/passpolicy"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// orgName is what an organisation may be called.
var orgName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// handleOrgs lists the caller's organisations (every one for a superadmin).
func (s *Server) handleOrgs(w http.ResponseWriter, r *http.Request, p *principal) {
	names, err := s.accounts.OrgNames()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	users, err := s.db.ListUsers()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := []api.Org{}
	for _, name := range names {
		if !identity.HasRole(p.user, rbac.Superadmin) && !slices.Contains(s.accounts.UserOrgs(p.user), name) {
			continue
		}
		pol, err := s.accounts.OrgPolicy(name)
		if err != nil {
			s.writeErr(w, err)
			return
		}
		v := api.Org{Name: name, Policy: newPolicyView(pol)}
		for _, u := range users {
			if u.State != store.UserDeleted && slices.Contains(s.accounts.UserOrgs(&u), name) {
				v.Members++
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleOrgCreate creates an organisation with the default policy; its
// creator becomes a member, so an administrator administers what it creates.
func (s *Server) handleOrgCreate(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.OrgRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	if !orgName.MatchString(req.Name) {
		s.writeErr(w, errf(http.StatusBadRequest, "use letters, digits, '.', '-' and '_' (at most 63)", "invalid organisation name %q", req.Name))
		return
	}
	err := s.db.CreateOrg(&store.Org{Name: req.Name, Policy: passpolicy.Default(), CreatedAt: now(), CreatedBy: p.user.ID})
	if errors.Is(err, store.ErrExists) || req.Name == s.accounts.DefaultOrg() {
		s.writeErr(w, errf(http.StatusConflict, "see `tech orgs list`", "organisation %q already exists", req.Name))
		return
	} else if err != nil {
		s.writeErr(w, err)
		return
	}
	err = s.db.UpdateUser(p.user.ID, func(u *store.User) error {
		u.Orgs = append(s.accounts.UserOrgs(u), req.Name)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) { // an emergency principal is no stored user
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "org.create", req.Name, "success", p.source))
	writeJSON(w, http.StatusOK, api.OrgRequest{Name: req.Name})
}

// handleMemberAdd puts a user into an organisation the caller belongs to.
func (s *Server) handleMemberAdd() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("add_to_org", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		var req api.OrgRequest
		if err := readJSON(r, &req); err != nil {
			return nil, "", err
		}
		org, err := s.pickOrg(p, req.Name)
		if err != nil {
			return nil, "", err
		}
		return func(u *store.User) error {
			if orgs := s.accounts.UserOrgs(u); !slices.Contains(orgs, org) {
				u.Orgs = append(orgs, org)
			}
			return nil
		}, "", nil
	})
}

// handleMemberRemove takes a user out of an organisation; a user keeps at
// least one.
func (s *Server) handleMemberRemove() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("remove_from_org", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		org, err := s.pickOrg(p, r.PathValue("org"))
		if err != nil {
			return nil, "", err
		}
		return func(u *store.User) error {
			orgs := s.accounts.UserOrgs(u)
			if !slices.Contains(orgs, org) {
				return errf(http.StatusNotFound, "see `tech users list`", "%s is not a member of %q", u.Username, org)
			}
			if len(orgs) == 1 {
				return errf(http.StatusConflict, "add the user to another organisation first, or disable the account", "%q is %s's only organisation", org, u.Username)
			}
			u.Orgs = slices.DeleteFunc(slices.Clone(orgs), func(o string) bool { return o == org })
			return nil
		}, "", nil
	})
}
