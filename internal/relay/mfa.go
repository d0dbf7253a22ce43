package relay

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"tether/internal/api"
	"tether/internal/store"
	"tether/internal/totp"
)

// secretKey returns the relay's key for TOTP seeds at rest.
func (s *Server) secretKey() ([]byte, error) {
	k, err := s.db.GetMeta(metaSecretKey)
	if err != nil {
		return nil, fmt.Errorf("load secret key: %w", err)
	}
	return k, nil
}

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
	key, err := s.secretKey()
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
	key, err := s.secretKey()
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
		err = s.refuseIfRequired(p.user)
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

func (s *Server) refuseIfRequired(u *store.User) error {
	pol, err := s.userPolicy(u)
	if err != nil {
		return err
	}
	if pol.RequireMFA {
		return errf(http.StatusForbidden, "re-enrol with `tech mfa enroll` to replace your authenticator instead", "your organisation requires two-factor sign-in")
	}
	return nil
}

// Answers for a second factor at sign-in.
var (
	errNeedCode = errf(http.StatusUnauthorized, "pass --totp CODE from your authenticator app, or one of your recovery codes", "two-factor code required")
	errBadCode  = errf(http.StatusUnauthorized, "type the code your authenticator app shows now", "invalid two-factor code")
	errReplayed = errf(http.StatusUnauthorized, "wait for the next code (codes work once)", "two-factor code already used")
)

// checkSecondFactor verifies a TOTP or recovery code for u at sign-in.
// Each TOTP step and each recovery code is accepted once; failures count
// toward lockout.
func (s *Server) checkSecondFactor(u *store.User, code, src string) error {
	if len(u.TOTPSecret) == 0 {
		return nil
	}
	if code == "" {
		return errNeedCode
	}
	var err error
	if norm := strings.NewReplacer("-", "", " ", "").Replace(code); len(norm) > totp.Digits {
		err = s.useRecoveryCode(u, code)
	} else {
		err = s.useTOTP(u, code)
	}
	if err == nil {
		return nil
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return s.loginFailure(u, src, err)
	}
	return err
}

// useTOTP accepts a code of a step later than the last one used.
func (s *Server) useTOTP(u *store.User, code string) error {
	key, err := s.secretKey()
	if err != nil {
		return err
	}
	secret, err := totp.Open(key, u.ID, u.TOTPSecret)
	if err != nil {
		return err
	}
	step, err := totp.Validate(secret, code, now(), u.TOTPLastStep)
	switch {
	case errors.Is(err, totp.ErrReplayed):
		return errReplayed
	case err != nil:
		return errBadCode
	}
	return s.db.UpdateUser(u.ID, func(u *store.User) error {
		if step <= u.TOTPLastStep { // a concurrent sign-in used it first
			return errReplayed
		}
		u.TOTPLastStep = step
		return nil
	})
}

// useRecoveryCode accepts an unused recovery code and burns it.
func (s *Server) useRecoveryCode(u *store.User, code string) error {
	i, ok := totp.CheckRecovery(code, u.RecoveryCodes)
	if !ok {
		return errf(http.StatusUnauthorized, "each recovery code works once; use another, or your authenticator app", "invalid or used recovery code")
	}
	left := 0
	err := s.db.UpdateUser(u.ID, func(u *store.User) error {
		if i >= len(u.RecoveryCodes) || u.RecoveryCodes[i] == ([32]byte{}) {
			return errf(http.StatusUnauthorized, "use another recovery code", "invalid or used recovery code")
		}
		u.RecoveryCodes[i] = [32]byte{}
		for _, h := range u.RecoveryCodes {
			if h != ([32]byte{}) {
				left++
			}
		}
		return nil
	})
	if err == nil {
		s.record(auditEvent(u.ID, "mfa.recovery_code", u.ID, "used", "", "left", fmt.Sprint(left)))
	}
	return err
}
