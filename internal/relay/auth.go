package relay

import (
	"context"
	"net/http"
	"time"

	"tether/internal/api"
	"tether/internal/audit"
	"tether/internal/password"
	"tether/internal/store"
	"tether/internal/token"
)

// errBadLogin is the one answer for an unknown user or a wrong password.
var errBadLogin = errf(http.StatusUnauthorized, "check the username and password", "invalid username or password")

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Status{Status: "ok"})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req api.LoginRequest
	if err := readBig(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	addr := sourceAddr(r)
	src := sourceKey(addr)
	if !s.limiter.allow("login:"+src, 20, time.Minute) {
		s.writeErr(w, tooMany(time.Minute, "too many sign-in attempts from this address"))
		return
	}
	u, err := s.checkPassword(r.Context(), req.Username, []byte(req.Password), src)
	if err == nil {
		err = s.checkSecondFactor(u, req.TOTP, src)
	}
	if err != nil {
		s.record(auditEvent("", "login", s.loginTarget(req.Username), "failure", addr, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.loginSucceeded(u, src)
	resp, err := s.issueToken(u)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(u.ID, "login", u.ID, "success", addr))
	writeJSON(w, http.StatusOK, resp)
}

// checkPassword returns the user if name and pw match and the account may
// sign in. The throttles (admitSignIn) come first: a refused attempt is
// neither checked nor counted. Unknown names get the same argon2id work and
// the same answers as real accounts, locking included; failures count
// toward lockout and toward the throttles.
func (s *Server) checkPassword(ctx context.Context, name string, pw []byte, src string) (*store.User, error) {
	if err := password.Check(pw); err != nil {
		return nil, errf(http.StatusBadRequest, "", "password rejected: %v", err)
	}
	canon := loginName(name)
	u, err := s.lookupLogin(canon)
	if err != nil {
		return nil, err
	}
	done, err := s.admitSignIn(canon, u, src)
	if err != nil {
		return nil, err
	}
	defer done()
	if u == nil {
		return nil, s.unknownLogin(ctx, canon, pw, src)
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, pw)
	if err != nil {
		return nil, err
	}
	if u.State == store.UserLocked {
		return nil, errLocked
	}
	if !ok {
		return nil, s.loginFailure(u, src, errBadLogin)
	}
	return u, accountState(u)
}

// issueToken creates and stores a new login token for u.
func (s *Server) issueToken(u *store.User) (*api.LoginResponse, error) {
	raw, err := token.New("tt_")
	if err != nil {
		return nil, err
	}
	pol, err := s.userPolicy(u)
	if err != nil {
		return nil, err
	}
	idle, life := s.tokenTimes(pol)
	t := now()
	lt := &store.LoginToken{Hash: token.Hash(raw), UserID: u.ID, CreatedAt: t, LastUsed: t,
		ExpiresAt: t.Add(life), IdleTimeout: idle}
	if err := s.db.PutLoginToken(lt); err != nil {
		return nil, err
	}
	limit := limitOf(u, pol, t)
	return &api.LoginResponse{Token: raw, UserID: u.ID, Username: u.Username, ExpiresAt: lt.ExpiresAt,
		IdleTimeout: idle.String(), MustChangePassword: limit == limitPassword, MFAEnrollRequired: limit == limitMFA}, nil
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

// auditEvent builds an audit event; kv are detail key/value pairs.
func auditEvent(actor, action, target, outcome, source string, kv ...string) audit.Event {
	return audit.NewEvent(actor, action, target, outcome, source, kv...)
}
