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
	"sync"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/username"
)

// newUserView is u as GET /v1/users shows it.
func (s *Server) newUserView(u *store.User) api.User {
	v := api.User{ID: u.ID, Username: u.Username, Email: u.Email, Roles: orEmpty(u.Roles), Orgs: s.accounts.UserOrgs(u),
		DeviceGroups: u.DeviceGroups, State: u.State, MFA: len(u.TOTPSecret) > 0, FailedLogins: u.FailedLogins, CreatedAt: u.CreatedAt}
	if !u.PasswordChangedAt.IsZero() {
		v.PasswordChangedAt = u.PasswordChangedAt.Format(time.RFC3339)
	}
	v.LastLoginAt, v.DeletedAt = u.LastLoginAt, u.DeletedAt
	return v
}

// handleUsers lists the users p may see: those sharing an organisation
// with p (every user for a superadmin), narrowed for a caller limited to
// device groups to their own account and accounts limited to some of their
// groups (3.2). Deleted accounts are listed only with ?all=1.
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, p *principal) {
	all, err := s.db.ListUsers()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := s.usersView(p, all, r.URL.Query().Get("all") == "1")
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	writeJSON(w, http.StatusOK, out)
}

// handleUserAdd creates a user with a temporary password, returned once.
// The account is active if the creator could grant its role, and pending
// (no sign-in until `tech users approve`, no password known to anyone) if
// not.
func (s *Server) handleUserAdd(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.AddUserRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	u, err := s.newUser(p, req)
	var temp string
	if err == nil {
		temp, err = s.setTemporaryPassword(r, u)
	}
	if err == nil {
		err = s.createUnique(u)
	}
	if err != nil {
		s.record(auditEvent(p.user.ID, "user.add", truncate(req.Username, username.MaxRunes*4), outcomeOf(err), p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "user.add", u.ID, "success", p.source, "username", u.Username, "role", req.Role, "state", u.State))
	if u.State == store.UserPending {
		// Nobody knows the random password set above: the approver gets
		// the temporary one, so the creator cannot sign in as the account.
		temp = ""
	}
	writeJSON(w, http.StatusOK, api.UserAdded{ID: u.ID, Username: u.Username, State: u.State, TemporaryPassword: temp})
}

// skeletons returns the confusable skeletons of u's canonical name and of
// the name as typed (shown to end users), which may differ in case: "Ivan"
// as typed looks like "lvan" although its canonical form is "ivan".
func skeletons(u *store.User) []string {
	out := []string{username.Skeleton(u.Username)}
	if u.DisplayName != "" {
		out = append(out, username.Skeleton(u.DisplayName))
	}
	return out
}

// userNamesMu serialises the confusable-name check with the insert.
var userNamesMu sync.Mutex

// createUnique stores u unless its name is taken or confusable with an
// existing user's name (username.Skeleton). The check and the insert hold
// userNamesMu so that two concurrent additions cannot both pass.
func (s *Server) createUnique(u *store.User) error {
	userNamesMu.Lock()
	defer userNamesMu.Unlock()
	all, err := s.db.ListUsers()
	if err != nil {
		return err
	}
	if err := emailTaken(all, u, u.Email); err != nil {
		return err
	}
	mine := skeletons(u)
	for _, x := range all {
		if x.Username == u.Username && x.State == store.UserDeleted {
			return errf(http.StatusConflict, "choose another name: a deleted account keeps its name so that the audit log stays unambiguous",
				"a deleted user was named %q", u.Username)
		}
		if x.Username == u.Username {
			continue // refused below as taken
		}
		for _, sk := range skeletons(&x) {
			if slices.Contains(mine, sk) {
				return errf(http.StatusConflict, "choose a name that does not look like another user's",
					"username %q is confusable with an existing user's name", u.Username)
			}
		}
	}
	if err := s.db.CreateUser(u); errors.Is(err, store.ErrExists) {
		return errf(http.StatusConflict, "usernames are compared ignoring case and width; choose another", "a user named %q already exists", u.Username)
	} else if err != nil {
		return err
	}
	return nil
}

// newUser validates req and builds the user record.
func (s *Server) newUser(p *principal, req api.AddUserRequest) (*store.User, error) {
	name, err := username.Canonical(req.Username)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "use letters, digits, '.', '-', '_' and '@' from one script", "invalid username %q: %v", req.Username, err)
	}
	role, err := s.accounts.Role(req.Role)
	if err != nil {
		return nil, err
	}
	if err := checkEmail(req.Email); err != nil {
		return nil, err
	}
	if err := checkGroups(req.Groups); err != nil {
		return nil, err
	}
	if err := groupsWithin(p, req.Groups); err != nil {
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
	return &store.User{ID: ids.NewUserID(), Username: name, DisplayName: req.Username, Email: req.Email,
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

// groupsWithin refuses to give an account the device groups groups (none:
// every group) unless p may reach all of them: an administrator limited to
// device groups can only create or set accounts limited to some of theirs.
func groupsWithin(p *principal, groups []string) error {
	mine := p.user.DeviceGroups
	if len(mine) == 0 {
		return nil
	}
	if len(groups) == 0 {
		return errf(http.StatusForbidden, "pass --group with some of your device groups",
			"permission denied: you are limited to device groups %s and cannot give an account every group", strings.Join(mine, ", "))
	}
	for _, g := range groups {
		if !slices.Contains(mine, g) {
			return errf(http.StatusForbidden, "pass --group with some of your device groups",
				"permission denied: device group %q is outside your device groups", g)
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
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.State == store.UserDeleted) {
		return nil, errf(http.StatusNotFound, "see `tech users list`", "no user %q", name)
	} else if err != nil {
		return nil, err
	}
	return u, s.accounts.CanManage(p.user, p.perms, u, action)
}

// userFunc checks one administrative action on u (outside any store
// transaction: it may read the body and the store) and returns apply, which
// makes the change inside the transaction and must not touch the store. A
// non-empty revoke signs the user out everywhere afterwards, with revoke as
// the reason.
type userFunc func(r *http.Request, p *principal, u *store.User) (apply func(*store.User) error, revoke string, err error)

// userChange is what a userOpFunc decided: apply runs inside the store
// transaction, a non-empty revoke signs the user out everywhere afterwards,
// and tempPassword, if set, is answered (once) to the caller.
type userChange struct {
	apply        func(*store.User) error
	revoke       string
	tempPassword string
}

// userOpFunc is the general form of userFunc.
type userOpFunc func(r *http.Request, p *principal, u *store.User) (userChange, error)

// outcomeOf is the audit outcome of a failed administrative request:
// "denied" for a refusal on permissions (403), "failure" otherwise.
func outcomeOf(err error) string {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		return "denied"
	}
	return "failure"
}

// userAction runs one administrative action on the user named in the
// path: checks, the change, audit, answer.
func (s *Server) userAction(action string, fn userFunc) func(http.ResponseWriter, *http.Request, *principal) {
	return s.userOp(action, action, func(r *http.Request, p *principal, u *store.User) (userChange, error) {
		apply, revoke, err := fn(r, p, u)
		return userChange{apply: apply, revoke: revoke}, err
	})
}

// userOp runs one administrative action on the user named in the path. It
// is audited as "user."+auditAction; verb names it in refusals ("reset the
// password of"). Every refusal is audited with its reason.
func (s *Server) userOp(auditAction, verb string, fn userOpFunc) func(http.ResponseWriter, *http.Request, *principal) {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		u, err := s.target(r, p, verb)
		var c userChange
		if err == nil {
			c, err = fn(r, p, u)
		}
		if err == nil {
			err = s.db.UpdateUser(u.ID, c.apply)
		}
		if err != nil {
			s.record(auditEvent(p.user.ID, "user."+auditAction, truncate(r.PathValue("name"), username.MaxRunes*4), outcomeOf(err), p.source, "reason", err.Error()))
			s.writeErr(w, err)
			return
		}
		s.record(auditEvent(p.user.ID, "user."+auditAction, u.ID, "success", p.source, "username", u.Username))
		if c.revoke != "" {
			s.revokeUser(u.ID, c.revoke, p)
		}
		if c.tempPassword != "" {
			writeJSON(w, http.StatusOK, api.UserPasswordResult{Status: "ok", Username: u.Username, TemporaryPassword: c.tempPassword})
			return
		}
		writeJSON(w, http.StatusOK, api.UserActionResult{Status: "ok", Username: u.Username})
	}
}

func (s *Server) handleUserUnlock() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("unlock", func(r *http.Request, p *principal, target *store.User) (func(*store.User) error, string, error) {
		// An unlock also clears the name's sign-in back-off (identity's throttle),
		// so the user is not held up from a new address afterwards.
		if err := s.db.ForgetThrottle(s.accounts.AcctFailKey(target.Username)); err != nil {
			return nil, "", fmt.Errorf("clear the sign-in back-off: %w", err)
		}
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
	return lockedOp(&superadminsMu, s.userAction("disable", func(r *http.Request, p *principal, t *store.User) (func(*store.User) error, string, error) {
		if err := s.notLastSuperadmin(t, "disable"); err != nil {
			return nil, "", err
		}
		return func(u *store.User) error { u.State = store.UserDisabled; return nil }, "account disabled", nil
	}))
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
// to grant every role it holds (see identity.Accounts.CanManage: for an account above the
// admin role, such as an auditor an organisation administrator created,
// that is the service superadmin). A pending account was created without a
// usable password, so that its creator cannot sign in as it: approval sets
// a temporary password and answers it to the approver alone.
func (s *Server) handleUserApprove() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userOp("approve", "approve", func(r *http.Request, p *principal, t *store.User) (userChange, error) {
		if !rbac.CanGrant(p.perms, s.accounts.RolesOf(t)...) {
			return userChange{}, errf(http.StatusForbidden, "ask an administrator who holds those permissions", "permission denied: %s's roles grant more than you hold", t.Username)
		}
		if t.State != store.UserPending {
			return userChange{}, errf(http.StatusConflict, "", "%s is not pending approval (state %s)", t.Username, t.State)
		}
		temp, err := s.setTemporaryPassword(r, t)
		if err != nil {
			return userChange{}, err
		}
		return userChange{apply: func(u *store.User) error {
			if u.State != store.UserPending {
				return errf(http.StatusConflict, "", "%s is not pending approval (state %s)", u.Username, u.State)
			}
			u.State, u.PasswordHash, u.PasswordChangedAt = store.UserMustChangePassword, t.PasswordHash, t.PasswordChangedAt
			return nil
		}, tempPassword: temp}, nil
	})
}

func (s *Server) handleUserGrant() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("grant", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		var req api.GrantRequest
		if err := readJSON(r, &req); err != nil {
			return nil, "", err
		}
		role, err := s.accounts.Role(req.Role)
		if err != nil {
			return nil, "", err
		}
		if !rbac.CanGrant(p.perms, role) {
			return nil, "", errf(http.StatusForbidden, "a role may only be granted by someone holding all its permissions", "permission denied: role %q grants more than you hold", role.Name)
		}
		return func(u *store.User) error {
			if !identity.HasRole(u, role.Name) {
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
			if !identity.HasRole(u, name) {
				return errf(http.StatusNotFound, "see `tech users list`", "%s does not hold role %q", u.Username, name)
			}
			u.Roles = slices.DeleteFunc(u.Roles, func(r string) bool { return r == name })
			return nil
		}, "role " + name + " was removed", nil
	})
}

func (s *Server) handleUserGroups() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userAction("groups", func(r *http.Request, p *principal, _ *store.User) (func(*store.User) error, string, error) {
		var req api.GroupsRequest
		if err := readJSON(r, &req); err != nil {
			return nil, "", err
		}
		if err := checkGroups(req.Groups); err != nil {
			return nil, "", err
		}
		if err := groupsWithin(p, req.Groups); err != nil {
			return nil, "", err
		}
		return func(u *store.User) error { u.DeviceGroups = req.Groups; return nil }, "", nil
	})
}

// handleUserResetPassword gives the user a new temporary password. The
// replaced password goes into the history, so the user cannot set it back.
func (s *Server) handleUserResetPassword() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userOp("reset_password", "reset the password of", func(r *http.Request, p *principal, t *store.User) (userChange, error) {
		switch t.State {
		case store.UserPending:
			return userChange{}, errf(http.StatusConflict, "approve it with `tech users approve`, which sets a temporary password", "%s is pending approval", t.Username)
		case store.UserDisabled:
			// Enabling would otherwise make the temporary password a
			// lasting one.
			return userChange{}, errf(http.StatusConflict, "enable it first with `tech users enable`", "%s is disabled", t.Username)
		}
		temp, err := s.setTemporaryPassword(r, t)
		if err != nil {
			return userChange{}, err
		}
		return userChange{apply: func(u *store.User) error {
			identity.Retire(u, t.PasswordHash, t.PasswordChangedAt)
			u.FailedLogins, u.LockedAt = 0, time.Time{}
			if u.State != store.UserActive && u.State != store.UserLocked && u.State != store.UserMustChangePassword {
				return errf(http.StatusConflict, "", "%s changed state (%s); try again", u.Username, u.State)
			}
			u.State = store.UserMustChangePassword
			return nil
		}, revoke: "password reset by an administrator", tempPassword: temp}, nil
	})
}

// handleUserEmail sets (or, with "", clears) a user's email address,
// which no other account may have. It holds userNamesMu, as user creation
// does, so two accounts cannot be given the same address at once.
func (s *Server) handleUserEmail() func(http.ResponseWriter, *http.Request, *principal) {
	return lockedOp(&userNamesMu, s.userAction("email", func(r *http.Request, p *principal, t *store.User) (func(*store.User) error, string, error) {
		var req api.EmailRequest
		if err := readJSON(r, &req); err != nil {
			return nil, "", err
		}
		if err := checkEmail(req.Email); err != nil {
			return nil, "", err
		}
		all, err := s.db.ListUsers()
		if err != nil {
			return nil, "", err
		}
		if err := emailTaken(all, t, req.Email); err != nil {
			return nil, "", err
		}
		return func(u *store.User) error { u.Email = req.Email; return nil }, "", nil
	}))
}

// handleUserResetMFA turns a user's two-factor sign-in off (a lost
// authenticator) and signs them out; if a policy requires two-factor
// sign-in they must enrol again at the next sign-in.
func (s *Server) handleUserResetMFA() func(http.ResponseWriter, *http.Request, *principal) {
	return s.userOp("reset_mfa", "reset the two-factor sign-in of", func(r *http.Request, p *principal, _ *store.User) (userChange, error) {
		return userChange{apply: func(u *store.User) error {
			u.TOTPSecret, u.TOTPPending, u.TOTPLastStep, u.RecoveryCodes = nil, nil, 0, nil
			return nil
		}, revoke: "two-factor sign-in reset by an administrator"}, nil
	})
}

// revokeUser deletes every login token of the user and ends their live
// sessions at once.
func (s *Server) revokeUser(id ids.UserID, reason string, p *principal) {
	n, err := s.db.DeleteUserLoginTokens(id)
	if err != nil {
		s.log.Error("revoke login tokens", "user", id, "err", err)
	}
	ended := 0
	for _, l := range s.broker.List() {
		if l.Info.TechID == id {
			go l.End(reason)
			ended++
		}
	}
	ended += s.endElsewhere(func(r *store.Session) bool { return r.TechID == id }, reason)
	s.record(auditEvent(p.user.ID, "user.revoke_tokens", id, "success", p.source, "reason", reason,
		"tokens", fmt.Sprint(n), "sessions", fmt.Sprint(ended)))
}

// userVisible reports whether p may see u in the user list: an account
// sharing an organisation with p (any for a superadmin) and, if p is
// limited to device groups, only p's own account or one limited to some
// of p's groups: the accounts groupsWithin lets p create and manage.
func (s *Server) userVisible(p *principal, u *store.User) bool {
	if !identity.HasRole(p.user, rbac.Superadmin) && !identity.SharesOrg(s.accounts.UserOrgs(p.user), s.accounts.UserOrgs(u)) {
		return false
	}
	if !scoped(p) || u.ID == p.user.ID {
		return true
	}
	return len(u.DeviceGroups) > 0 && groupsWithin(p, u.DeviceGroups) == nil
}
