package relay

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"tether/internal/api"
	"tether/internal/passpolicy"
	"tether/internal/protocol"
	"tether/internal/rbac"
	"tether/internal/store"
)

// Reasons a signed-in user is limited to a few calls (principal.limit).
const (
	limitPassword = "password change required"
	limitMFA      = "two-factor enrolment required"
)

// defaultOrg is the relay's own organisation ("default" unless `relay init
// --org` named it); users without organisations belong to it.
func (s *Server) defaultOrg() string {
	if s.org == "" {
		return "default"
	}
	return s.org
}

// userOrgs returns the organisations u belongs to.
func (s *Server) userOrgs(u *store.User) []string {
	if len(u.Orgs) == 0 {
		return []string{s.defaultOrg()}
	}
	return u.Orgs
}

// orgPolicy returns org's policy. An organisation without a stored record
// (a data directory made before organisations were stored) has the default.
func (s *Server) orgPolicy(org string) (passpolicy.Policy, error) {
	o, err := s.db.OrgByName(org)
	if errors.Is(err, store.ErrNotFound) {
		return passpolicy.Default(), nil
	}
	if err != nil {
		return passpolicy.Policy{}, err
	}
	return o.Policy, nil
}

// userPolicy returns the most restrictive policy across u's organisations.
func (s *Server) userPolicy(u *store.User) (passpolicy.Policy, error) {
	var ps []passpolicy.Policy
	for _, org := range s.userOrgs(u) {
		p, err := s.orgPolicy(org)
		if err != nil {
			return passpolicy.Policy{}, err
		}
		ps = append(ps, p)
	}
	return passpolicy.Merge(ps...), nil
}

// tokenTimes returns a new token's idle timeout and lifetime: the stricter
// of the policy and the relay's --token-idle/--token-lifetime.
func (s *Server) tokenTimes(pol passpolicy.Policy) (idle, life time.Duration) {
	return min(pol.IdleTimeout, s.cfg.TokenIdle), min(pol.MaxTokenLifetime, s.cfg.TokenLifetime)
}

// idleExpired reports whether tok has been idle longer than the policy now
// allows, which may be stricter than when the token was issued.
func idleExpired(tok *store.LoginToken, pol passpolicy.Policy, t time.Time) bool {
	last := tok.LastUsed
	if last.IsZero() {
		last = tok.CreatedAt
	}
	return pol.IdleTimeout > 0 && t.Sub(last) >= pol.IdleTimeout
}

// passwordExpired reports whether u's password is older than the policy's
// maximum age. An expired password forces a change; it never locks.
func passwordExpired(u *store.User, pol passpolicy.Policy, t time.Time) bool {
	return pol.MaxAge > 0 && !u.PasswordChangedAt.IsZero() && t.Sub(u.PasswordChangedAt) >= pol.MaxAge
}

// limitOf returns why u may only change the password or enrol a second
// factor, or "" if u is not limited.
func limitOf(u *store.User, pol passpolicy.Policy, t time.Time) string {
	switch {
	case u.State == store.UserMustChangePassword || passwordExpired(u, pol, t):
		return limitPassword
	case pol.RequireMFA && len(u.TOTPSecret) == 0:
		return limitMFA
	}
	return ""
}

// allowedWhileLimited lists the routes a limited user may call.
var allowedWhileLimited = map[string][]string{
	limitPassword: {"POST " + protocol.PathPasswd, "POST " + protocol.PathLogout, "GET " + protocol.PathWhoami},
	limitMFA: {"POST " + protocol.PathPasswd, "POST " + protocol.PathLogout, "GET " + protocol.PathWhoami,
		"POST " + protocol.PathMFAEnroll, "POST " + protocol.PathMFAConfirm},
}

// checkLimit refuses every route but the few allowed while p is limited.
func checkLimit(p *principal, pattern string) error {
	if p.limit == "" || slices.Contains(allowedWhileLimited[p.limit], pattern) {
		return nil
	}
	if p.limit == limitMFA {
		return errf(http.StatusForbidden, "run `tech mfa enroll`, then `tech mfa confirm CODE`", "%s: your organisation requires two-factor sign-in", limitMFA)
	}
	return errf(http.StatusForbidden, "run `tech passwd` to choose a new password", "%s: your password is temporary or expired", limitPassword)
}

func newPolicyView(p passpolicy.Policy) api.PolicyView {
	return api.PolicyView{MinLength: p.MinLength, MaxLength: p.MaxLength, RequireClasses: p.RequireClasses,
		PasswordMaxAge: fmtDur(p.MaxAge), PasswordHistoryCount: p.HistoryCount, PasswordHistory: fmtDur(p.HistoryAge),
		LockoutThreshold: p.LockoutThreshold, IdleTimeout: fmtDur(p.IdleTimeout), TokenLifetime: fmtDur(p.MaxTokenLifetime),
		RequireMFA: p.RequireMFA, RecordInput: p.RecordInput}
}

// fmtDur formats whole days as "90d", zero as "0" and the rest in Go syntax.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// parseDur parses "90d" or a Go duration such as "15m"; "0" is zero.
func parseDur(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || fmt.Sprint(days) != n {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// pickOrg returns the organisation a request names, or the caller's first.
// Only its members (and superadmins) may act on it.
func (s *Server) pickOrg(p *principal, org string) (string, error) {
	if org == "" {
		return s.userOrgs(p.user)[0], nil
	}
	if _, err := s.db.OrgByName(org); errors.Is(err, store.ErrNotFound) && org != s.defaultOrg() {
		return "", errf(http.StatusNotFound, "see `tech orgs list`", "no organisation %q", org)
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if !slices.Contains(s.userOrgs(p.user), org) && !hasRole(p.user, rbac.Superadmin) {
		return "", errf(http.StatusForbidden, "ask an administrator of that organisation", "you are not a member of organisation %q", org)
	}
	return org, nil
}

func (s *Server) handlePolicyShow(w http.ResponseWriter, r *http.Request, p *principal) {
	org, err := s.pickOrg(p, r.URL.Query().Get("org"))
	if err != nil {
		s.writeErr(w, err)
		return
	}
	op, err := s.orgPolicy(org)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	eff, err := s.userPolicy(p.user)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.PolicyShow{Org: org, Policy: newPolicyView(op),
		YourOrgs: s.userOrgs(p.user), Effective: newPolicyView(eff)})
}

// applyPolicy changes pol as req asks and returns the names of changed settings.
func applyPolicy(req *api.PolicyChanges, pol *passpolicy.Policy) ([]string, error) {
	var changed []string
	setInt := func(name string, v *int, dst *int) {
		if v != nil {
			*dst, changed = *v, append(changed, name)
		}
	}
	setInt("min_length", req.MinLength, &pol.MinLength)
	setInt("require_classes", req.RequireClasses, &pol.RequireClasses)
	setInt("password_history_count", req.PasswordHistoryCount, &pol.HistoryCount)
	setInt("lockout_threshold", req.LockoutThreshold, &pol.LockoutThreshold)
	durs := []struct {
		name string
		v    *string
		dst  *time.Duration
	}{
		{"password_max_age", req.PasswordMaxAge, &pol.MaxAge}, {"password_history", req.PasswordHistory, &pol.HistoryAge},
		{"idle_timeout", req.IdleTimeout, &pol.IdleTimeout}, {"token_lifetime", req.TokenLifetime, &pol.MaxTokenLifetime},
	}
	for _, d := range durs {
		if d.v == nil {
			continue
		}
		v, err := parseDur(*d.v)
		if err != nil {
			return nil, errf(http.StatusBadRequest, "durations look like 90d, 12h or 15m", "%s: %v", d.name, err)
		}
		*d.dst, changed = v, append(changed, d.name)
	}
	if req.RequireMFA != nil {
		pol.RequireMFA, changed = *req.RequireMFA, append(changed, "require_mfa")
	}
	if req.RecordInput != nil {
		pol.RecordInput, changed = *req.RecordInput, append(changed, "record_input")
	}
	return changed, nil
}

func (s *Server) handlePolicySet(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.PolicyChanges
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	org, err := s.pickOrg(p, req.Org)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	var changed []string
	err = s.updateOrgPolicy(org, p.user.ID, func(pol *passpolicy.Policy) error {
		if changed, err = applyPolicy(&req, pol); err != nil {
			return err
		}
		return checkPolicy(*pol)
	})
	if err != nil {
		s.record(auditEvent(p.user.ID, "policy.set", org, "failure", p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "policy.set", org, "success", p.source, "changed", strings.Join(changed, ",")))
	pol, _ := s.orgPolicy(org)
	writeJSON(w, http.StatusOK, api.PolicySetResponse{Org: org, Policy: newPolicyView(pol)})
}

// checkPolicy validates a policy, naming the offending setting the way the
// CLI flags do.
func checkPolicy(pol passpolicy.Policy) error {
	err := pol.Validate()
	var fe *passpolicy.FieldError
	if errors.As(err, &fe) {
		flags := map[string]string{"MinLength": "--min-length", "MaxAge": "--password-max-age", "HistoryAge": "--password-history",
			"HistoryCount": "--password-history-count", "LockoutThreshold": "--lockout-threshold", "IdleTimeout": "--idle-timeout",
			"MaxTokenLifetime": "--token-lifetime", "RequireClasses": "--require-classes"}
		name := flags[fe.Field]
		if name == "" {
			name = fe.Field
		}
		return errf(http.StatusBadRequest, "see `tech policy set --help`", "invalid policy: %s %s is outside the allowed range %s", name, fe.Value, fe.Allowed)
	}
	return err
}

// updateOrgPolicy changes org's policy with fn, creating the organisation's
// record with the default policy first if it has none yet.
func (s *Server) updateOrgPolicy(org, actor string, fn func(*passpolicy.Policy) error) error {
	err := s.db.UpdateOrg(org, func(o *store.Org) error { return fn(&o.Policy) })
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	pol := passpolicy.Default()
	if err := fn(&pol); err != nil {
		return err
	}
	return s.db.CreateOrg(&store.Org{Name: org, Policy: pol, CreatedAt: now(), CreatedBy: actor})
}
