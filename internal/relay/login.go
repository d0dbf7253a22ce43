package relay

import (
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/apierr"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/token"
)

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req api.LoginRequest
	if err := readBig(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	addr := sourceAddr(r)
	src := identity.SourceKey(addr)
	if !s.limiter.Allow("login:"+src, 20, time.Minute) {
		s.writeErr(w, apierr.TooMany(time.Minute, "too many sign-in attempts from this address"))
		return
	}
	u, err := s.accounts.CheckPassword(r.Context(), req.Username, []byte(req.Password), src)
	if err == nil {
		err = s.accounts.CheckSecondFactor(u, req.TOTP, src)
	}
	s.metrics.Login(err == nil)
	if err != nil {
		s.record(auditEvent("", "login", s.accounts.LoginTarget(req.Username), "failure", addr, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.accounts.LoginSucceeded(u, src)
	resp, err := s.issueToken(u)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(u.ID, "login", u.ID, "success", addr, "username", u.Username))
	s.announceNextPin(w)
	writeJSON(w, http.StatusOK, resp)
}

// issueToken creates and stores a new login token for u.
func (s *Server) issueToken(u *store.User) (*api.LoginResponse, error) {
	raw, err := token.New("tt_")
	if err != nil {
		return nil, err
	}
	pol, err := s.accounts.UserPolicy(u)
	if err != nil {
		return nil, err
	}
	idle, life := s.accounts.TokenTimes(pol)
	t := now()
	lt := &store.LoginToken{Hash: token.Hash(raw), UserID: u.ID, CreatedAt: t, LastUsed: t,
		ExpiresAt: t.Add(life), IdleTimeout: idle}
	if err := s.db.PutLoginToken(lt); err != nil {
		return nil, err
	}
	limit := identity.LimitOf(u, pol, t)
	return &api.LoginResponse{Token: raw, UserID: u.ID, Username: u.Username, ExpiresAt: lt.ExpiresAt,
		IdleTimeout: idle.String(), MustChangePassword: limit == identity.LimitPassword, MFAEnrollRequired: limit == identity.LimitMFA}, nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := s.deleteToken(p.tok); err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "logout", p.user.ID, "success", p.source))
	writeJSON(w, http.StatusOK, api.Status{Status: "signed out"})
}

func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request, p *principal) {
	perms := []string{}
	for _, x := range p.perms.List() {
		perms = append(perms, string(x))
	}
	writeJSON(w, http.StatusOK, api.Whoami{UserID: p.user.ID, Username: p.user.Username,
		Roles: p.user.Roles, Permissions: perms, Org: s.org})
}
