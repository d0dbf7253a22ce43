package relay

import (
	"net/http"
	"slices"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// handlePolicyDraft answers what the relay's settings say the session
// policy is today, for `tech policy sign` to show, diff and sign. It is
// the same data openSession uses to fill in SessionInfo.
func (s *Server) handlePolicyDraft(w http.ResponseWriter, r *http.Request, p *principal) {
	d, err := s.policyDraft()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// policyDraft collects recipients, record-input, role ceilings, unattended
// groups and the session limits from the relay's settings.
func (s *Server) policyDraft() (api.PolicyDraft, error) {
	d := api.PolicyDraft{Ceilings: map[string][]string{}, Recipients: []string{}, UnattendedGroups: []string{},
		IdleSeconds: seconds(s.cfg.IdleTimeout.Seconds()), AbsoluteSeconds: seconds(s.cfg.MaxSession.Seconds())}
	rs, err := s.recipients()
	if err != nil {
		return d, err
	}
	for _, r := range rs {
		d.Recipients = append(d.Recipients, r.Key)
	}
	slices.Sort(d.Recipients)
	if d.RecordInput, err = s.allOrgsRecordInput(); err != nil {
		return d, err
	}
	if d.DirectPath, err = s.noOrgDeniesDirect(); err != nil {
		return d, err
	}
	roles, err := s.allRoles()
	if err != nil {
		return d, err
	}
	for _, r := range roles {
		d.Ceilings[r.Name] = capsOf(rbac.Effective([]rbac.Role{r}))
	}
	groups, err := s.groupPolicies()
	if err != nil {
		return d, err
	}
	for g, pol := range groups {
		if isUnattended(pol) {
			d.UnattendedGroups = append(d.UnattendedGroups, g)
		}
	}
	slices.Sort(d.UnattendedGroups)
	return d, nil
}

// seconds rounds a positive duration in seconds up to whole seconds.
func seconds(f float64) uint32 {
	n := uint32(f)
	if float64(n) < f {
		n++
	}
	return n
}

// allOrgsRecordInput reports whether every organisation records typed
// input: only then does the signed policy demand it of every session.
func (s *Server) allOrgsRecordInput() (bool, error) {
	orgs, err := s.db.ListOrgs()
	if err != nil || len(orgs) == 0 {
		return false, err
	}
	for _, o := range orgs {
		pol, err := s.accounts.OrgPolicy(o.Name)
		if err != nil {
			return false, err
		}
		if !pol.RecordInput {
			return false, nil
		}
	}
	return true, nil
}

// noOrgDeniesDirect reports whether no organisation's policy denies the
// direct path: only then does the signed policy allow it.
func (s *Server) noOrgDeniesDirect() (bool, error) {
	orgs, err := s.db.ListOrgs()
	if err != nil {
		return false, err
	}
	for _, o := range orgs {
		pol, err := s.accounts.OrgPolicy(o.Name)
		if err != nil {
			return false, err
		}
		if pol.DenyDirectPath {
			return false, nil
		}
	}
	return true, nil
}

// allRoles is every built-in and custom role.
func (s *Server) allRoles() ([]rbac.Role, error) {
	custom, err := s.db.ListRoles()
	if err != nil {
		return nil, err
	}
	out := rbac.Builtin()
	for _, c := range custom {
		out = append(out, rbac.Role{Name: c.Name, Allow: c.Allow, Deny: c.Deny})
	}
	return out, nil
}

// capsOf lists the capabilities a permission set allows, sorted.
func capsOf(perms rbac.Set) []string {
	if !perms.Has(rbac.SessionStart) {
		return []string{}
	}
	out := allowedCaps(&principal{user: &store.User{}, perms: perms})
	slices.Sort(out)
	return out
}
