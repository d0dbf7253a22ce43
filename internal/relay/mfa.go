package relay

import (
	"net/http"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/store"
)

// handleMFAEnroll starts enrolment: a new seed, kept sealed as pending until
// confirmed with a first code. It answers the seed and its otpauth URL once.
func (s *Server) handleMFAEnroll(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.ReauthRequest
	if err := readBig(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	url, secret, err := s.startEnrolment(r, p, []byte(req.Password))
	if err != nil {
		s.record(auditEvent(p.user.ID, "mfa.enroll", p.user.ID, "failure", p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "mfa.enroll", p.user.ID, "started", p.source))
	writeJSON(w, http.StatusOK, api.MFAEnrollResponse{Secret: secret, URL: url})
}

// startEnrolment refuses an emergency principal, which has no account to
// enrol, and starts enrolment for p's user.
func (s *Server) startEnrolment(r *http.Request, p *principal, pw []byte) (url, secret string, err error) {
	if err := notEmergency(p); err != nil {
		return "", "", err
	}
	return s.accounts.StartEnrolment(r.Context(), p.user, p.source, pw)
}

// handleMFAConfirm activates the pending seed with a first code and answers
// ten one-time recovery codes, stored only as hashes.
func (s *Server) handleMFAConfirm(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.MFAConfirmRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	codes, err := s.accounts.ConfirmEnrolment(p.user, req.Code)
	if err != nil {
		s.record(auditEvent(p.user.ID, "mfa.confirm", p.user.ID, "failure", p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "mfa.confirm", p.user.ID, "success", p.source))
	writeJSON(w, http.StatusOK, api.MFAConfirmResponse{RecoveryCodes: codes})
}

// handleMFADisable turns two-factor sign-in off, unless a policy requires it.
func (s *Server) handleMFADisable(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.ReauthRequest
	if err := readBig(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	err := notEmergency(p)
	if err == nil {
		err = s.accounts.VerifyCurrent(r.Context(), p.user, p.source, []byte(req.Password))
	}
	if err == nil {
		err = s.accounts.RefuseIfRequired(p.user)
	}
	if err == nil {
		err = s.db.UpdateUser(p.user.ID, func(u *store.User) error {
			u.TOTPSecret, u.TOTPPending, u.TOTPLastStep, u.RecoveryCodes = nil, nil, 0, nil
			return nil
		})
	}
	if err != nil {
		s.record(auditEvent(p.user.ID, "mfa.disable", p.user.ID, "failure", p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "mfa.disable", p.user.ID, "success", p.source))
	writeJSON(w, http.StatusOK, api.Status{Status: "two-factor sign-in disabled"})
}
