package relay

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"

	"tether/internal/rbac"
	"tether/internal/store"
	"tether/internal/username"
)

// Who may manage whom (unlock, reset, disable, grant…):
//
//   - an administrator of an organisation (user.manage from a role other than
//     superadmin) manages the users that share an organisation with them,
//     except superadmins;
//   - the service's superadmin manages administrator accounts only, never
//     ordinary users: an operator does not act on a clinic's staff.
//
// Nobody manages their own account this way.

// canManage returns nil if p may act on target, else the refusal.
func (s *Server) canManage(p *principal, target *store.User, action string) error {
	if target.ID == p.user.ID {
		return errf(http.StatusForbidden, "ask another administrator", "you cannot %s your own account", action)
	}
	if s.orgPermissions(p.user).Has(rbac.UserManage) && sharesOrg(s.userOrgs(p.user), s.userOrgs(target)) && !hasRole(target, rbac.Superadmin) {
		return nil
	}
	if hasRole(p.user, rbac.Superadmin) {
		if isAdminAccount(target) {
			return nil
		}
		return errf(http.StatusForbidden, "an administrator of the user's organisation must do it",
			"the service superadmin may %s only administrator accounts, and %s is not one", action, target.Username)
	}
	return errf(http.StatusForbidden, "an administrator of the user's organisation must do it",
		"%s is not in an organisation you administer", target.Username)
}

func sharesOrg(a, b []string) bool {
	for _, o := range a {
		if slices.Contains(b, o) {
			return true
		}
	}
	return false
}

// userView is one row of `tech users list`.
type userView struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	Email        string    `json:"email,omitempty"`
	Roles        []string  `json:"roles"`
	Orgs         []string  `json:"orgs"`
	DeviceGroups []string  `json:"device_groups,omitempty"`
	State        string    `json:"state"`
	MFA          bool      `json:"mfa"`
	FailedLogins int       `json:"failed_logins"`
	PasswordAge  string    `json:"password_changed_at,omitempty"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
}

func (s *Server) newUserView(u *store.User) userView {
	v := userView{ID: u.ID, Username: u.Username, Email: u.Email, Roles: orEmpty(u.Roles), Orgs: s.userOrgs(u),
		DeviceGroups: u.DeviceGroups, State: u.State, MFA: len(u.TOTPSecret) > 0, FailedLogins: u.FailedLogins, CreatedAt: u.CreatedAt}
	if !u.PasswordChangedAt.IsZero() {
		v.PasswordAge = u.PasswordChangedAt.Format(time.RFC3339)
	}
	return v
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, p *principal) {
	all, err := s.db.ListUsers()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := []userView{}
	for _, u := range all {
		if hasRole(p.user, rbac.Superadmin) || sharesOrg(s.userOrgs(p.user), s.userOrgs(&u)) {
			out = append(out, s.newUserView(&u))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	writeJSON(w, http.StatusOK, out)
}

// addUserRequest is the body of POST /v1/users.
type addUserRequest struct {
	Username string   `json:"username"`
	Role     string   `json:"role"`
	Email    string   `json:"email,omitempty"`
	Org      string   `json:"org,omitempty"`
	Groups   []string `json:"device_groups,omitempty"`
}

// handleUserAdd creates a user with a temporary password, returned once.
// The account is active if the creator could grant its role, and pending
// (no sign-in until `tech users approve`) if not.
func (s *Server) handleUserAdd(w http.ResponseWriter, r *http.Request, p *principal) {
	var req addUserRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	u, err := s.newUser(p, req)
	if err != nil {
		s.record(auditEvent(p.user.ID, "user.add", req.Username, "failure", p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	temp, err := s.setTemporaryPassword(r, u)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if err := s.db.CreateUser(u); errors.Is(err, store.ErrExists) {
		s.writeErr(w, errf(http.StatusConflict, "usernames are compared ignoring case and width; choose another", "a user named %q already exists", u.Username))
		return
	} else if err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "user.add", u.ID, "success", p.source, "username", u.Username, "role", req.Role, "state", u.State))
	writeJSON(w, http.StatusOK, map[string]string{"id": u.ID, "username": u.Username, "state": u.State, "temporary_password": temp})
}

// newUser validates req and builds the user record.
func (s *Server) newUser(p *principal, req addUserRequest) (*store.User, error) {
	name, err := username.Canonical(req.Username)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "use letters, digits, '.', '-', '_' and '@' from one script", "invalid username %q: %v", req.Username, err)
	}
	role, err := s.role(req.Role)
	if err != nil {
		return nil, err
	}
	if err := checkEmail(req.Email); err != nil {
		return nil, err
	}
	if err := checkGroups(req.Groups); err != nil {
		return nil, err
	}
	org, err := s.pickOrg(p, req.Org)
	if err != nil {
		return nil, err
	}
	state := store.UserMustChangePassword
	if !rbac.CanGrant(p.perms, role) {
		state = store.UserPending
	}
	t := now()
	return &store.User{ID: store.NewID("u_"), Username: name, DisplayName: req.Username, Email: req.Email,
		Roles: []string{role.Name}, Orgs: []string{org}, DeviceGroups: req.Groups, State: state,
		CreatedAt: t, CreatedBy: p.user.ID}, nil
}

func checkEmail(addr string) error {
	if addr == "" {
		return nil
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || len(addr) > 254 {
		return errf(http.StatusBadRequest, "give a plain address such as name@example.org", "invalid email address %q", addr)
	}
	return nil
}

func checkGroups(groups []string) error {
	for _, g := range groups {
		if !deviceName.MatchString(g) {
			return errf(http.StatusBadRequest, "use letters, digits, '.', '-' and '_' (at most 63)", "invalid group name %q", g)
		}
	}
	return nil
}

// setTemporaryPassword gives u a new random password that must be changed
// at the next sign-in, and returns it.
func (s *Server) setTemporaryPassword(r *http.Request, u *store.User) (string, error) {
	temp := temporaryPassword()
	hash, err := s.hasher.Hash(r.Context(), []byte(temp))
	if err != nil {
		return "", fmt.Errorf("hash temporary password: %w", err)
	}
	u.PasswordHash, u.PasswordChangedAt = hash, now()
	return temp, nil
}

// temporaryPassword returns 100 random bits as "xxxxx-xxxxx-xxxxx-xxxxx".
func temporaryPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789" // no l, o, 0, 1
	b := make([]byte, 20)
	rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[c%32])
	}
	return sb.String()
}

// target loads the user named in the path and checks that p may act on it.
func (s *Server) target(r *http.Request, p *principal, action string) (*store.User, error) {
	name, err := username.Canonical(r.PathValue("name"))
	if err != nil {
		return nil, errf(http.StatusNotFound, "see `tech users list`", "no user %q", r.PathValue("name"))
	}
	u, err := s.db.UserByName(name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(http.StatusNotFound, "see `tech users list`", "no user %q", name)
	} else if err != nil {
		return nil, err
	}
	return u, s.canManage(p, u, action)
}

// userFunc checks one administrative action on u (outside any store
// transaction: it may read the body and the store) and returns apply, which
// makes the change inside the transaction and must not touch the store. A
// non-empty revoke signs the user out everywhere afterwards, with revoke as
// the reason.
type userFunc func(r *http.Request, p *principal, u *store.User) (apply func(*store.User) error, revoke string, err error)

// userAction runs one administrative action on the user named in the
// path: checks, the change, audit, answer.
func (s *Server) userAction(action string, fn userFunc) func(http.ResponseWriter, *http.Request, *principal) {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		u, err := s.target(r, p, action)
		var apply func(*store.User) error
		var revoke string
		if err == nil {
			apply, revoke, err = fn(r, p, u)
		}
		if err == nil {
			err = s.db.UpdateUser(u.ID, apply)
		}
		if err != nil {
			s.record(auditEvent(p.user.ID, "user."+action, r.PathValue("name"), "failure", p.source, "reason", err.Error()))
			s.writeErr(w, err)
			return
		}
		s.record(auditEvent(p.user.ID, "user."+action, u.ID, "success", p.source, "username", u.Username))
		if revoke != "" {
			s.revokeUser(u.ID, revoke, p)
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "username": u.Username})
	}
}

func (s *Server) handleUserUnlock() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("unlock", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		return func(u *store.User) error {
			if u.State == store.UserLocked {
				u.State = store.UserActive
			}
			u.FailedLogins, u.LockedAt = 0, time.Time{}
			return nil
		}, "", nil
	})
}

func (s *Server) handleUserDisable() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("disable", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		return func(u *store.User) error { u.State = store.UserDisabled; return nil }, "account disabled", nil
	})
}

func (s *Server) handleUserEnable() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("enable", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		return func(u *store.User) error {
			if u.State != store.UserDisabled {
				return errf(http.StatusConflict, "", "%s is not disabled (state %s)", u.Username, u.State)
			}
			u.State, u.FailedLogins = store.UserActive, 0
			return nil
		}, "", nil
	})
}

// handleUserApprove activates a pending account; the approver must be able
// to grant every role it holds.
func (s *Server) handleUserApprove() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("approve", func(r *http.Request, p *principal, t *store.User) (func(*store.User) error, string, error) {
		if !rbac.CanGrant(p.perms, s.rolesOf(t)...) {
			return nil, "", errf(http.StatusForbidden, "ask an administrator who holds those permissions", "permission denied: %s's roles grant more than you hold", t.Username)
		}
		return func(u *store.User) error {
			if u.State != store.UserPending {
				return errf(http.StatusConflict, "", "%s is not pending approval (state %s)", u.Username, u.State)
			}
			u.State = store.UserMustChangePassword
			return nil
		}, "", nil
	})
}

// grantRequest is the body of POST /v1/users/{name}/roles.
type grantRequest struct {
	Role string `json:"role"`
}

func (s *Server) handleUserGrant() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("grant", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		var req grantRequest
		if err := readJSON(r, &req); err != nil {
			return nil, "", err
		}
		role, err := s.role(req.Role)
		if err != nil {
			return nil, "", err
		}
		if !rbac.CanGrant(p.perms, role) {
			return nil, "", errf(http.StatusForbidden, "a role may only be granted by someone holding all its permissions", "permission denied: role %q grants more than you hold", role.Name)
		}
		return func(u *store.User) error {
			if !hasRole(u, role.Name) {
				u.Roles = append(u.Roles, role.Name)
			}
			return nil
		}, "", nil
	})
}

// handleUserRevoke takes a role away and signs the user out at once.
func (s *Server) handleUserRevoke() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("revoke", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		name := r.PathValue("role")
		return func(u *store.User) error {
			if !hasRole(u, name) {
				return errf(http.StatusNotFound, "see `tech users list`", "%s does not hold role %q", u.Username, name)
			}
			u.Roles = slices.DeleteFunc(u.Roles, func(r string) bool { return r == name })
			return nil
		}, "role " + name + " was removed", nil
	})
}

// groupsRequest is the body of POST /v1/users/{name}/groups.
type groupsRequest struct {
	Groups []string `json:"device_groups"`
}

func (s *Server) handleUserGroups() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("groups", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		var req groupsRequest
		if err := readJSON(r, &req); err != nil {
			return nil, "", err
		}
		if err := checkGroups(req.Groups); err != nil {
			return nil, "", err
		}
		return func(u *store.User) error { u.DeviceGroups = req.Groups; return nil }, "", nil
	})
}

func (s *Server) handleUserResetPassword(w http.ResponseWriter, r *http.Request, p *principal) {
	u, err := s.target(r, p, "reset the password of")
	var temp string
	if err == nil {
		temp, err = s.setTemporaryPassword(r, u)
	}
	if err == nil {
		err = s.db.UpdateUser(u.ID, func(x *store.User) error {
			x.PasswordHash, x.PasswordChangedAt, x.FailedLogins, x.LockedAt = u.PasswordHash, u.PasswordChangedAt, 0, time.Time{}
			if x.State == store.UserActive || x.State == store.UserLocked {
				x.State = store.UserMustChangePassword
			}
			return nil
		})
	}
	if err != nil {
		s.record(auditEvent(p.user.ID, "user.reset_password", r.PathValue("name"), "failure", p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.revokeUser(u.ID, "password reset by an administrator", p)
	s.record(auditEvent(p.user.ID, "user.reset_password", u.ID, "success", p.source, "username", u.Username))
	writeJSON(w, http.StatusOK, map[string]string{"username": u.Username, "temporary_password": temp})
}

// revokeUser deletes every login token of the user and ends their live
// sessions at once.
func (s *Server) revokeUser(id, reason string, p *principal) {
	n, err := s.db.DeleteUserLoginTokens(id)
	if err != nil {
		s.log.Error("revoke login tokens", "user", id, "err", err)
	}
	ended := 0
	for _, l := range s.broker.list() {
		if l.info.TechID == id {
			go l.end(reason)
			ended++
		}
	}
	s.record(auditEvent(p.user.ID, "user.revoke_tokens", id, "success", p.source, "reason", reason,
		"tokens", fmt.Sprint(n), "sessions", fmt.Sprint(ended)))
}
