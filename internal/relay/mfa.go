package relay

import (
	"net/http"

	"tether/internal/api"
	"tether/internal/store"
	"tether/internal/totp"
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

func (s *Server) startEnrolment(r *http.Request, p *principal, pw []byte) (url, secret string, err error) {
	if err := notEmergency(p); err != nil {
		return "", "", err
	}
	if err := s.verifyCurrent(r.Context(), p, pw); err != nil {
		return "", "", err
	}
	key, err := s.accounts.SecretKey()
	if err != nil {
		return "", "", err
	}
	url, secret, err = totp.NewSecret(p.user.Username)
	if err != nil {
		return "", "", err
	}
	sealed, err := totp.Seal(key, p.user.ID, secret)
	if err != nil {
		return "", "", err
	}
	err = s.db.UpdateUser(p.user.ID, func(u *store.User) error { u.TOTPPending = sealed; return nil })
	return url, secret, err
}

// handleMFAConfirm activates the pending seed with a first code and answers
// ten one-time recovery codes, stored only as hashes.
func (s *Server) handleMFAConfirm(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.MFAConfirmRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	codes, err := s.confirmEnrolment(p, req.Code)
	if err != nil {
		s.record(auditEvent(p.user.ID, "mfa.confirm", p.user.ID, "failure", p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "mfa.confirm", p.user.ID, "success", p.source))
	writeJSON(w, http.StatusOK, api.MFAConfirmResponse{RecoveryCodes: codes})
}

func (s *Server) confirmEnrolment(p *principal, code string) ([]string, error) {
	if len(p.user.TOTPPending) == 0 {
		return nil, errf(http.StatusConflict, "run `tech mfa enroll` first", "no two-factor enrolment in progress")
	}
	key, err := s.accounts.SecretKey()
	if err != nil {
		return nil, err
	}
	secret, err := totp.Open(key, p.user.ID, p.user.TOTPPending)
	if err != nil {
		return nil, err
	}
	step, err := totp.Validate(secret, code, now(), 0)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "type the 6-digit code your authenticator app shows now", "two-factor code not accepted: %v", err)
	}
	codes, hashes, err := totp.RecoveryCodes()
	if err != nil {
		return nil, err
	}
	return codes, s.db.UpdateUser(p.user.ID, func(u *store.User) error {
		u.TOTPSecret, u.TOTPPending, u.TOTPLastStep, u.RecoveryCodes = u.TOTPPending, nil, step, hashes
		return nil
	})
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
		err = s.verifyCurrent(r.Context(), p, []byte(req.Password))
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
