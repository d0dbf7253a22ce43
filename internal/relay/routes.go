package relay

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/apierr"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/token"
)

// route is one entry of the relay's route table. Every endpoint is listed
// here with the permission it needs, so the authorization matrix test can be
// generated from this table.
type route struct {
	pattern string
	// perm is the permission required; permPublic needs no login and
	// permAuthenticated any valid login.
	perm    rbac.Permission
	handler http.Handler
}

// Pseudo-permissions for routes that need no particular permission.
const (
	permPublic        rbac.Permission = "public"
	permAuthenticated rbac.Permission = "authenticated"
	// permClusterPeer: another relay of the cluster, presenting the
	// cluster certificate (PROTOCOL.md 3.4); checked by the handler.
	permClusterPeer rbac.Permission = "cluster-peer"
)

// routes returns the route table.
func (s *Server) routes() []route {
	return []route{
		{"GET " + protocol.PathHealth, permPublic, http.HandlerFunc(s.handleHealth)},
		{"GET " + protocol.PathReady, permPublic, http.HandlerFunc(s.handleReady)},
		{"POST " + protocol.PathLogin, permPublic, http.HandlerFunc(s.handleLogin)},
		{"POST " + protocol.PathAgentEnroll, permPublic, http.HandlerFunc(s.handleEnroll)},
		{"GET " + protocol.PathAgentControl, permPublic, http.HandlerFunc(s.handleAgentControl)},
		{"GET " + protocol.PathAgentSession, permPublic, http.HandlerFunc(s.handleAgentSession)},
		{"GET " + protocol.PathAgentJoin, permPublic, http.HandlerFunc(s.handleAgentJoin)},
		{"POST " + protocol.PathLogout, permAuthenticated, s.authed(permAuthenticated, s.handleLogout)},
		{"GET " + protocol.PathWhoami, permAuthenticated, s.authed(permAuthenticated, s.handleWhoami)},
		{"POST " + protocol.PathEnrollToken, rbac.DeviceEnroll, s.authed(rbac.DeviceEnroll, s.handleEnrollToken)},
		{"GET " + protocol.PathDevices, permAuthenticated, s.authed(permAuthenticated, s.handleDevices)},
		{"GET " + protocol.PathTechSession, rbac.SessionStart, s.authed(rbac.SessionStart, s.handleTechSession)},
		{"GET " + protocol.PathSessions, permAuthenticated, s.authed(permAuthenticated, s.handleSessions)},
		{"GET " + protocol.PathSessions + "/{id}", permAuthenticated, s.authed(permAuthenticated, s.handleSessionShow)},
		{"POST " + protocol.PathSessions + "/{id}/kill", rbac.SessionTerminate, s.authed(rbac.SessionTerminate, s.handleSessionKill)},
		{"GET " + protocol.PathReportSessions, rbac.AuditRead, s.authed(rbac.AuditRead, s.handleSessionReports)},
		{"GET " + protocol.PathRecipients, rbac.RecordingList, s.authed(rbac.RecordingList, s.handleRecipientsList)},
		{"POST " + protocol.PathRecipients, rbac.RecordingRecipients, s.authed(rbac.RecordingRecipients, s.handleRecipientsAdd)},
		{"DELETE " + protocol.PathRecipients + "/{id}", rbac.RecordingRecipients, s.authed(rbac.RecordingRecipients, s.handleRecipientsRemove)},
		{"GET " + protocol.PathRecordings, rbac.RecordingList, s.authed(rbac.RecordingList, s.handleRecordingsList)},
		{"GET " + protocol.PathRecordings + "/{id}", rbac.RecordingReview, s.authed(rbac.RecordingReview, s.handleRecordingGet)},
		{"POST " + api.PathRecordingHold, rbac.RecordingHold, s.authed(rbac.RecordingHold, s.handleRecordingHold)},
		{"POST " + api.PathRecordingFree, rbac.RecordingHold, s.authed(rbac.RecordingHold, s.handleRecordingRelease)},
		{"GET " + protocol.PathAuditExport, rbac.AuditExport, s.authed(rbac.AuditExport, s.handleAuditExport)},
		{"GET " + protocol.PathAuditSearch, rbac.AuditRead, s.authed(rbac.AuditRead, s.handleAuditSearch)},
		{"POST " + protocol.PathAuditCheckpoints, rbac.AuditExport, s.authed(rbac.AuditExport, s.handleAuditCheckpoint)},
		{"POST " + protocol.PathDevices + "/groups/{group}", rbac.DeviceManage, s.authed(rbac.DeviceManage, s.handleGroupPolicy)},
		{"POST " + api.PathDeviceRevoke, rbac.DeviceManage, s.authed(rbac.DeviceManage, s.handleDeviceRevoke())},
		{"DELETE " + api.PathDevice, rbac.DeviceManage, s.authed(rbac.DeviceManage, s.handleDeviceRemove())},
		{"POST " + api.PathDeviceRename, rbac.DeviceManage, s.authed(rbac.DeviceManage, s.handleDeviceRename())},
		{"POST " + api.PathDeviceMove, rbac.DeviceManage, s.authed(rbac.DeviceManage, s.handleDeviceMove())},
		{"POST " + protocol.PathPasswd, permAuthenticated, s.authed(permAuthenticated, s.handlePasswd)},
		{"POST " + protocol.PathMFAEnroll, permAuthenticated, s.authed(permAuthenticated, s.handleMFAEnroll)},
		{"POST " + protocol.PathMFAConfirm, permAuthenticated, s.authed(permAuthenticated, s.handleMFAConfirm)},
		{"POST " + protocol.PathMFADisable, permAuthenticated, s.authed(permAuthenticated, s.handleMFADisable)},
		{"GET " + protocol.PathPolicy, permAuthenticated, s.authed(permAuthenticated, s.handlePolicyShow)},
		{"POST " + protocol.PathPolicy, rbac.PolicyManage, s.authed(rbac.PolicyManage, s.handlePolicySet)},
		{"GET " + protocol.PathOrgs, permAuthenticated, s.authed(permAuthenticated, s.handleOrgs)},
		{"POST " + protocol.PathOrgs, rbac.PolicyManage, s.authed(rbac.PolicyManage, s.handleOrgCreate)},
		{"GET " + protocol.PathRoles, rbac.RoleManage, s.authed(rbac.RoleManage, s.handleRoles)},
		{"POST " + protocol.PathRoles, rbac.RoleManage, s.authed(rbac.RoleManage, s.handleRolePut)},
		{"DELETE " + protocol.PathRoles + "/{name}", rbac.RoleManage, s.authed(rbac.RoleManage, s.handleRoleDelete)},
		{"GET " + protocol.PathUsers, rbac.UserManage, s.authed(rbac.UserManage, s.handleUsers)},
		{"POST " + protocol.PathUsers, rbac.UserManage, s.authed(rbac.UserManage, s.handleUserAdd)},
		{"POST " + protocol.PathUsers + "/{name}/unlock", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserUnlock())},
		{"POST " + protocol.PathUsers + "/{name}/reset-password", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserResetPassword())},
		{"POST " + protocol.PathUsers + "/{name}/disable", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserDisable())},
		{"POST " + protocol.PathUsers + "/{name}/enable", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserEnable())},
		{"POST " + protocol.PathUsers + "/{name}/approve", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserApprove())},
		{"POST " + protocol.PathUsers + "/{name}/roles", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserGrant())},
		{"DELETE " + protocol.PathUsers + "/{name}/roles/{role}", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserRevoke())},
		{"POST " + protocol.PathUsers + "/{name}/groups", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserGroups())},
		{"POST " + protocol.PathUsers + "/{name}/orgs", rbac.UserManage, s.authed(rbac.UserManage, s.handleMemberAdd())},
		{"DELETE " + protocol.PathUsers + "/{name}/orgs/{org}", rbac.UserManage, s.authed(rbac.UserManage, s.handleMemberRemove())},
		{"POST " + protocol.PathUsers + "/{name}/email", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserEmail())},
		{"POST " + protocol.PathUsers + "/{name}/mfa/reset", rbac.UserManage, s.authed(rbac.UserManage, s.handleUserResetMFA())},
		{"DELETE " + api.PathUser, rbac.UserManage, s.authed(rbac.UserManage, s.handleUserDelete())},
		{"GET " + protocol.PathTrustRoot, permPublic, http.HandlerFunc(s.handleTrustRoot)},
		{"PUT " + protocol.PathTrustRoot, rbac.TrustManage, s.authed(rbac.TrustManage, s.handleTrustPublish)},
		{"PUT " + protocol.PathTrustTechKey, permAuthenticated, s.authed(permAuthenticated, s.handleTechKeySet)},
		{"GET " + protocol.PathTrustCert, permAuthenticated, s.authed(permAuthenticated, s.handleOwnCert)},
		{"GET " + protocol.PathTrustCerts + "/{name}", rbac.UserManage, s.authed(rbac.UserManage, s.handleCertifyFacts)},
		{"PUT " + protocol.PathTrustCerts + "/{name}", rbac.UserManage, s.authed(rbac.UserManage, s.handleCertStore)},
		{"GET " + protocol.PathTrustPolicy, permPublic, http.HandlerFunc(s.handleTrustPolicy)},
		{"PUT " + protocol.PathTrustPolicy, rbac.TrustManage, s.authed(rbac.TrustManage, s.handlePolicyPublish)},
		{"GET " + protocol.PathTrustRevocations, permPublic, http.HandlerFunc(s.handleTrustRevocations)},
		{"PUT " + protocol.PathTrustRevocations, rbac.TrustManage, s.authed(rbac.TrustManage, s.handleRevocationPublish)},
		{"GET " + protocol.PathTrustDraft, rbac.TrustManage, s.authed(rbac.TrustManage, s.handlePolicyDraft)},
		{"POST " + protocol.PathClusterOffer, permClusterPeer, http.HandlerFunc(s.handleClusterOffer)},
		{"GET " + protocol.PathClusterAgentSession, permClusterPeer, http.HandlerFunc(s.handleClusterAgentSession)},
		{"POST " + api.PathClusterEnd, permClusterPeer, http.HandlerFunc(s.handleClusterEnd)},
		{"POST " + api.PathClusterClose, permClusterPeer, http.HandlerFunc(s.handleClusterClose)},
		{"POST " + api.PathClusterReplace, permClusterPeer, http.HandlerFunc(s.handleClusterReplace)},
	}
}

// handleHealth answers that the relay is up; it needs no login.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Status{Status: "ok"})
}

// handleReady answers whether the relay can serve requests: its store
// answers a read transaction. It needs no login and says nothing of why
// the store is unavailable (that goes to the relay's log).
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if _, err := s.db.GetMeta(metaOrg); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("readiness check: store unavailable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, api.Error{Error: "not ready: the relay's store is unavailable",
			Hint: "see the relay's log"})
		return
	}
	writeJSON(w, http.StatusOK, api.Status{Status: "ready"})
}

// principal is an authenticated technician or administrator.
type principal struct {
	user   *store.User
	tok    *store.LoginToken
	perms  rbac.Set
	source string
	// limit, if set, says why only a password change (or MFA enrolment) is
	// allowed; see checkLimit.
	limit string
}

// apiError is an error with an HTTP status and an optional hint.
type apiError = apierr.Error

func errf(status int, hint, format string, args ...any) *apiError {
	return apierr.New(status, hint, format, args...)
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeErr writes err as {"error","hint"}; unexpected errors are logged and
// reported as a generic internal error.
func (s *Server) writeErr(w http.ResponseWriter, err error) {
	var ae *apiError
	if errors.Is(err, store.ErrUnavailable) {
		s.log.Error("request failed: the database is unreachable", "err", err)
		ae = errUnavailable()
	} else if !errors.As(err, &ae) {
		s.log.Error("request failed", "err", err)
		ae = &apiError{Status: http.StatusInternalServerError, Msg: "internal error on the relay; see its log"}
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.RetryAfter))
	}
	writeJSON(w, ae.Status, api.Error{Error: ae.Msg, Hint: ae.Hint})
}

// errUnavailable is the refusal of a request, sign-in or new session while
// the database is unreachable; it says nothing more of the database.
func errUnavailable() *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Msg: store.ErrUnavailable.Error(),
		Hint: "try again shortly; the relay reconnects by itself", RetryAfter: 5}
}

// readJSON decodes a bounded JSON body into v.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errf(http.StatusRequestEntityTooLarge, "send a smaller request", "request body too long: at most %d bytes", mbe.Limit)
		}
		return errf(http.StatusBadRequest, "", "malformed request body: %v", err)
	}
	return nil
}

// sourceAddr returns the client's IP address.
func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authed wraps h so it runs only for a valid login token whose user holds
// perm. Expired tokens are deleted and answered with a clear message.
func (s *Server) authed(perm rbac.Permission, h func(http.ResponseWriter, *http.Request, *principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.unauthenticated(r, err)
		} else {
			s.connAuthenticated(r.Context())
			err = checkLimit(p, r.Pattern)
		}
		if err != nil {
			s.writeErr(w, err)
			return
		}
		if perm != permAuthenticated && !p.perms.Has(perm) {
			s.record(auditEvent(p.user.ID, "access.denied", r.URL.Path, "denied", p.source, "permission", string(perm)))
			s.writeErr(w, errf(http.StatusForbidden, "ask an administrator for a role that grants it", "permission denied: %s is required", perm))
			return
		}
		if err := bufferBody(r, bodyLimit(r.Pattern)); err != nil {
			w.Header().Set("Connection", "close")
			s.writeErr(w, err)
			return
		}
		bodyRead(w)
		s.announceNextPin(w)
		h(w, r, p)
	})
}

// unauthenticated counts a request refused for a missing or bad token as
// an unauthenticated failure of its source (see failureLog).
func (s *Server) unauthenticated(r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		s.record(auditEvent("", "access.unauthenticated", r.Method+" "+r.URL.Path, "failure", sourceAddr(r), "reason", ae.Msg))
	}
}

// authenticate checks the bearer token on r.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	raw, ok := strings.CutPrefix(r.Header.Get(protocol.HeaderAuthorization), protocol.BearerPrefix)
	if !ok || raw == "" {
		return nil, errf(http.StatusUnauthorized, "sign in with `tech login`", "not signed in")
	}
	h := token.Hash(raw)
	tok, err := s.db.LoginToken(h)
	if errors.Is(err, store.ErrNotFound) {
		return s.emergencyPrincipal(r, h)
	}
	if err != nil {
		return nil, err
	}
	t := now()
	u, err := s.db.UserByID(tok.UserID)
	// A lockout refuses new sign-ins only: a token issued before it keeps
	// working, so strangers' failed guesses cannot sign an administrator out
	// (an administrator revokes sign-ins explicitly by disabling).
	if err != nil || u.State == store.UserDisabled || u.State == store.UserDeleted {
		s.db.DeleteLoginToken(h)
		return nil, errf(http.StatusUnauthorized, "ask an administrator", "your account is disabled")
	}
	pol, err := s.accounts.UserPolicy(u)
	if err != nil {
		return nil, err
	}
	if tok.Expired(t) || identity.IdleExpired(tok, pol, t) {
		s.db.DeleteLoginToken(h)
		return nil, errf(http.StatusUnauthorized, "sign in again with `tech login`", "session locked: your sign-in expired (automatic logoff)")
	}
	if err := s.db.TouchLoginToken(h, t); err != nil {
		return nil, err
	}
	return &principal{user: u, tok: tok, perms: s.accounts.Permissions(u), source: sourceAddr(r), limit: identity.LimitOf(u, pol, t)}, nil
}
