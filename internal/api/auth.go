package api

import (
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// LoginRequest is the body of POST /v1/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// TOTP is a current two-factor code or a one-time recovery code.
	TOTP string `json:"totp,omitempty"`
}

// LoginResponse is the answer to a successful POST /v1/login.
type LoginResponse struct {
	// Token is the bearer token for later calls (Authorization: Bearer).
	Token     string     `json:"token"`
	UserID    ids.UserID `json:"user_id"`
	Username  string     `json:"username"`
	ExpiresAt time.Time  `json:"expires_at"`
	// IdleTimeout is the sign-in's idle limit as a Go duration ("15m0s").
	IdleTimeout string `json:"idle_timeout"`
	// MustChangePassword: only POST /v1/passwd (and logout, whoami) are
	// allowed until the password is changed.
	MustChangePassword bool `json:"must_change_password,omitempty"`
	// MFAEnrollRequired: an organisation requires two-factor sign-in and
	// the user must enrol before anything else.
	MFAEnrollRequired bool `json:"mfa_enroll_required,omitempty"`
}

// Whoami is the answer to GET /v1/whoami.
type Whoami struct {
	// Org is the relay's own organisation.
	Org         string     `json:"org"`
	Permissions []string   `json:"permissions"`
	Roles       []string   `json:"roles"`
	UserID      ids.UserID `json:"user_id"`
	Username    string     `json:"username"`
}

// PasswdRequest is the body of POST /v1/passwd.
type PasswdRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// ReauthRequest is the body of POST /v1/mfa/enroll and /v1/mfa/disable:
// changing the second factor needs the password again.
type ReauthRequest struct {
	Password string `json:"password"`
}

// MFAEnrollResponse is the answer to POST /v1/mfa/enroll: the new seed,
// shown once, and its otpauth:// URL.
type MFAEnrollResponse struct {
	Secret string `json:"secret"`
	URL    string `json:"url"`
}

// MFAConfirmRequest is the body of POST /v1/mfa/confirm.
type MFAConfirmRequest struct {
	Code string `json:"code"`
}

// MFAConfirmResponse is the answer to POST /v1/mfa/confirm: ten one-time
// recovery codes, shown once.
type MFAConfirmResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}
