package relay

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/passpolicy"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// allowedWhileLimited lists the routes a limited user may call.
var allowedWhileLimited = map[string][]string{
	identity.LimitPassword: {"POST " + protocol.PathPasswd, "POST " + protocol.PathLogout, "GET " + protocol.PathWhoami},
	identity.LimitMFA: {"POST " + protocol.PathPasswd, "POST " + protocol.PathLogout, "GET " + protocol.PathWhoami,
		"POST " + protocol.PathMFAEnroll, "POST " + protocol.PathMFAConfirm},
}

// checkLimit refuses every route but the few allowed while p is limited.
func checkLimit(p *principal, pattern string) error {
	if p.limit == "" || slices.Contains(allowedWhileLimited[p.limit], pattern) {
		return nil
	}
	if p.limit == identity.LimitMFA {
		return errf(http.StatusForbidden, "run `tech mfa enroll`, then `tech mfa confirm CODE`", "%s: your organisation requires two-factor sign-in", identity.LimitMFA)
	}
	return errf(http.StatusForbidden, "run `tech passwd` to choose a new password", "%s: your password is temporary or expired", identity.LimitPassword)
}

func newPolicyView(p passpolicy.Policy) api.PolicyView {
	return api.PolicyView{MinLength: p.MinLength, MaxLength: p.MaxLength, RequireClasses: p.RequireClasses,
		PasswordMaxAge: fmtDur(p.MaxAge), PasswordHistoryCount: p.HistoryCount, PasswordHistory: fmtDur(p.HistoryAge),
		LockoutThreshold: p.LockoutThreshold, IdleTimeout: fmtDur(p.IdleTimeout), TokenLifetime: fmtDur(p.MaxTokenLifetime),
		RequireMFA: p.RequireMFA, RecordInput: p.RecordInput, ScreenMaxFPS: p.ScreenFPS(),
		RetentionDays: p.RetentionDays,
		DirectPath:    directPathView(p.DenyDirectPath)}
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
		return s.accounts.UserOrgs(p.user)[0], nil
	}
	if _, err := s.db.OrgByName(org); errors.Is(err, store.ErrNotFound) && org != s.accounts.DefaultOrg() {
		return "", errf(http.StatusNotFound, "see `tech orgs list`", "no organisation %q", org)
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if !slices.Contains(s.accounts.UserOrgs(p.user), org) && !identity.HasRole(p.user, rbac.Superadmin) {
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
	op, err := s.accounts.OrgPolicy(org)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	eff, err := s.accounts.UserPolicy(p.user)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.PolicyShow{Org: org, Policy: newPolicyView(op),
		YourOrgs: s.accounts.UserOrgs(p.user), Effective: newPolicyView(eff)})
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
	setInt("retention_days", req.RetentionDays, &pol.RetentionDays)
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
	if v := req.ScreenMaxFPS; v != nil {
		if !passpolicy.ValidScreenFPS(*v) {
			return nil, errf(http.StatusBadRequest, "see `tech policy set --help`",
				"invalid policy: --screen-max-fps %d is outside the allowed range %d..%d", *v, passpolicy.MinScreenMaxFPS, passpolicy.MaxScreenMaxFPS)
		}
		pol.ScreenMaxFPS, changed = *v, append(changed, "screen_max_fps")
	}
	if v := req.DirectPath; v != nil {
		if *v != protocol.DirectPathAllow && *v != protocol.DirectPathDeny {
			return nil, errf(http.StatusBadRequest, "see `tech policy set --help`", "invalid policy: --direct-path %q: want allow or deny", *v)
		}
		pol.DenyDirectPath, changed = *v == protocol.DirectPathDeny, append(changed, "direct_path")
	}
	return changed, nil
}

// directPathView is the direct-path policy as shown: "allow" or "deny".
func directPathView(deny bool) string {
	if deny {
		return protocol.DirectPathDeny
	}
	return protocol.DirectPathAllow
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
	pol, _ := s.accounts.OrgPolicy(org)
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
			"MaxTokenLifetime": "--token-lifetime", "RequireClasses": "--require-classes", "ScreenMaxFPS": "--screen-max-fps",
			"RetentionDays": "--retention-days"}
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
func (s *Server) updateOrgPolicy(org string, actor ids.UserID, fn func(*passpolicy.Policy) error) error {
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
