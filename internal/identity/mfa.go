package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/totp"
)

// RefuseIfRequired refuses to turn off u's second factor when one of its
// organisations requires two-factor sign-in.
func (s *Accounts) RefuseIfRequired(u *store.User) error {
	pol, err := s.UserPolicy(u)
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

// CheckSecondFactor verifies a TOTP or recovery code for u at sign-in.
// Each TOTP step and each recovery code is accepted once; failures count
// toward lockout.
func (s *Accounts) CheckSecondFactor(u *store.User, code, src string) error {
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
func (s *Accounts) useTOTP(u *store.User, code string) error {
	key, err := s.secretKey()
	if err != nil {
		return err
	}
	secret, err := totp.Open(key, u.ID.String(), u.TOTPSecret)
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
func (s *Accounts) useRecoveryCode(u *store.User, code string) error {
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
		s.record(audit.NewEvent(u.ID, "mfa.recovery_code", u.ID, "used", "", "left", fmt.Sprint(left)))
	}
	return err
}

// StartEnrolment checks u's password and keeps a new TOTP seed, sealed,
// as u's pending second factor; it returns the seed and its otpauth URL.
func (s *Accounts) StartEnrolment(ctx context.Context, u *store.User, src string, pw []byte) (url, secret string, err error) {
	if err := s.VerifyCurrent(ctx, u, src, pw); err != nil {
		return "", "", err
	}
	key, err := s.secretKey()
	if err != nil {
		return "", "", err
	}
	url, secret, err = totp.NewSecret(u.Username)
	if err != nil {
		return "", "", err
	}
	sealed, err := totp.Seal(key, u.ID.String(), secret)
	if err != nil {
		return "", "", err
	}
	err = s.db.UpdateUser(u.ID, func(u *store.User) error { u.TOTPPending = sealed; return nil })
	return url, secret, err
}

// ConfirmEnrolment activates u's pending seed with a first code and
// returns ten one-time recovery codes, stored only as hashes.
func (s *Accounts) ConfirmEnrolment(u *store.User, code string) ([]string, error) {
	if len(u.TOTPPending) == 0 {
		return nil, errf(http.StatusConflict, "run `tech mfa enroll` first", "no two-factor enrolment in progress")
	}
	key, err := s.secretKey()
	if err != nil {
		return nil, err
	}
	secret, err := totp.Open(key, u.ID.String(), u.TOTPPending)
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
	return codes, s.db.UpdateUser(u.ID, func(u *store.User) error {
		u.TOTPSecret, u.TOTPPending, u.TOTPLastStep, u.RecoveryCodes = u.TOTPPending, nil, step, hashes
		return nil
	})
}
