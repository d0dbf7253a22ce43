package identity

import (
	"errors"
	"time"

	"github.com/tether-support/tether/internal/passpolicy"
	"github.com/tether-support/tether/internal/store"
)

// Reasons a signed-in user is limited to a few calls (principal.limit).
const (
	LimitPassword = "password change required"
	LimitMFA      = "two-factor enrolment required"
)

// DefaultOrg is the relay's own organisation ("default" unless `relay init
// --org` named it); users without organisations belong to it.
func (s *Accounts) DefaultOrg() string {
	if s.org == "" {
		return "default"
	}
	return s.org
}

// UserOrgs returns the organisations u belongs to.
func (s *Accounts) UserOrgs(u *store.User) []string {
	if len(u.Orgs) == 0 {
		return []string{s.DefaultOrg()}
	}
	return u.Orgs
}

// OrgPolicy returns org's policy. An organisation without a stored record
// (a data directory made before organisations were stored) has the default.
func (s *Accounts) OrgPolicy(org string) (passpolicy.Policy, error) {
	o, err := s.db.OrgByName(org)
	if errors.Is(err, store.ErrNotFound) {
		return passpolicy.Default(), nil
	}
	if err != nil {
		return passpolicy.Policy{}, err
	}
	return o.Policy, nil
}

// UserPolicy returns the most restrictive policy across u's organisations.
func (s *Accounts) UserPolicy(u *store.User) (passpolicy.Policy, error) {
	var ps []passpolicy.Policy
	for _, org := range s.UserOrgs(u) {
		p, err := s.OrgPolicy(org)
		if err != nil {
			return passpolicy.Policy{}, err
		}
		ps = append(ps, p)
	}
	return passpolicy.Merge(ps...), nil
}

// TokenTimes returns a new token's idle timeout and lifetime: the stricter
// of the policy and the relay's --token-idle/--token-lifetime.
func (s *Accounts) TokenTimes(pol passpolicy.Policy) (idle, life time.Duration) {
	return min(pol.IdleTimeout, s.cfg.TokenIdle), min(pol.MaxTokenLifetime, s.cfg.TokenLifetime)
}

// IdleExpired reports whether tok has been idle longer than the policy now
// allows, which may be stricter than when the token was issued.
func IdleExpired(tok *store.LoginToken, pol passpolicy.Policy, t time.Time) bool {
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

// LimitOf returns why u may only change the password or enrol a second
// factor, or "" if u is not limited.
func LimitOf(u *store.User, pol passpolicy.Policy, t time.Time) string {
	switch {
	case u.State == store.UserMustChangePassword || passwordExpired(u, pol, t):
		return LimitPassword
	case pol.RequireMFA && len(u.TOTPSecret) == 0:
		return LimitMFA
	}
	return ""
}
