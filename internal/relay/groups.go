package relay

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/store"
)

// Device group consent policies. policyUnattendedControl is
// policyUnattended that also lets an unattended session (no end user
// asked) have screen-control; under policyUnattended the agent leaves
// screen-control out of an unattended session's grant.
const (
	policyConsent           = "consent"
	policyUnattended        = "unattended"
	policyUnattendedControl = "unattended-control"
)

// isUnattended reports whether group policy pol allows unattended sessions.
func isUnattended(pol string) bool {
	return pol == policyUnattended || pol == policyUnattendedControl
}

// metaGroupPolicies holds map[group]policy as JSON.
const metaGroupPolicies = "group_policies"

// groupPolicies returns every group's consent policy (absent = consent).
func (s *Server) groupPolicies() (map[string]string, error) {
	b, err := s.db.GetMeta(metaGroupPolicies)
	if errors.Is(err, store.ErrNotFound) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// groupPolicy returns one group's consent policy.
func (s *Server) groupPolicy(group string) (string, error) {
	m, err := s.groupPolicies()
	if err != nil {
		return "", err
	}
	if p := m[group]; p != "" {
		return p, nil
	}
	return policyConsent, nil
}

func (s *Server) handleGroupPolicy(w http.ResponseWriter, r *http.Request, p *principal) {
	group := r.PathValue("group")
	var req api.GroupPolicyRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	if !deviceName.MatchString(group) {
		s.writeErr(w, errf(http.StatusBadRequest, "", "invalid group name %q", group))
		return
	}
	if !deviceInScope(p, &store.Device{Group: group}) {
		s.record(auditEvent(p.user.ID, "device.group_policy", group, "denied", p.source, "reason", "outside the user's device groups"))
		s.writeErr(w, errf(http.StatusForbidden, "ask an administrator of that group",
			"permission denied: group %q is outside your device groups", group))
		return
	}
	if req.Policy != policyConsent && !isUnattended(req.Policy) {
		s.writeErr(w, errf(http.StatusBadRequest, "use consent, unattended or unattended-control", "unknown policy %q", truncate(req.Policy, 40)))
		return
	}
	m, err := s.groupPolicies()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	m[group] = req.Policy
	b, _ := json.Marshal(m)
	if err := s.db.PutMeta(metaGroupPolicies, b); err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "device.group_policy", group, "success", p.source, "policy", req.Policy))
	writeJSON(w, http.StatusOK, api.GroupPolicyResponse{Group: group, Policy: req.Policy})
}
