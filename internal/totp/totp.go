// Package totp implements the time-based one-time password second factor
// (RFC 6238: SHA-1, 6 digits, 30-second steps, as authenticator apps
// expect) with replay protection, one-time recovery codes, a terminal QR
// code for enrolment, and sealing of TOTP secrets at rest.
//
// The package is pure: callers store the last accepted step, the recovery
// code hashes and the sealed secret.
package totp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	ptotp "github.com/pquerna/otp/totp"
)

// Issuer is the issuer shown in authenticator apps.
const Issuer = "Tether"

// Parameters of the codes.
const (
	// Period is the length of a time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// Skew is how many steps either side of now are accepted.
	Skew = 1
)

// Errors returned by this package.
var (
	// ErrInvalidCode means the code does not match any accepted step.
	ErrInvalidCode = errors.New("totp: invalid code")
	// ErrMalformedCode means the code is not six digits.
	ErrMalformedCode = errors.New("totp: code must be 6 digits")
	// ErrReplayed means the code matches a step at or before the last
	// accepted one: it was already used, or an older code was.
	ErrReplayed = errors.New("totp: code already used")
	// ErrInvalidSecret means the secret is not valid base32.
	ErrInvalidSecret = errors.New("totp: invalid secret")
	// ErrNoAccount means NewSecret was given an empty account name.
	ErrNoAccount = errors.New("totp: empty account name")
)

// NewSecret creates a random 160-bit TOTP key for issuer Tether and the
// given account name. It returns the otpauth:// URL to show as a QR code and
// the base32 secret (unpadded) to store, sealed, with Seal.
func NewSecret(account string) (url, secret string, err error) {
	if account == "" {
		return "", "", ErrNoAccount
	}
	key, err := ptotp.Generate(ptotp.GenerateOpts{
		Issuer:      Issuer,
		AccountName: account,
		Period:      uint(Period / time.Second),
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", fmt.Errorf("totp: generate key: %w", err)
	}
	return key.URL(), key.Secret(), nil
}

// Step returns the time step holding t.
func Step(t time.Time) int64 {
	return t.Unix() / int64(Period/time.Second)
}

// Validate checks a 6-digit code (spaces ignored) against secret at time
// now, accepting the steps from Skew before to Skew after now's. lastStep is
// the last step accepted for this user (-1 if none); a code for a step at or
// before it is refused with ErrReplayed, so each code works once and an
// older code never works after a newer one. On success it returns the step
// accepted, which the caller must store as the new lastStep before
// answering.
func Validate(secret, code string, now time.Time, lastStep int64) (step int64, err error) {
	code = strings.ReplaceAll(code, " ", "")
	if !sixDigits(code) {
		return 0, ErrMalformedCode
	}
	matched, replayed, err := match(secret, code, Step(now))
	switch {
	case err != nil:
		return 0, err
	case matched >= 0 && matched > lastStep:
		return matched, nil
	case replayed:
		return 0, ErrReplayed
	}
	return 0, ErrInvalidCode
}

// match compares code with every step in now±Skew, without stopping early.
// It returns the latest matching step (-1 if none) and whether any step
// matched at all.
func match(secret, code string, now int64) (latest int64, ok bool, err error) {
	latest = -1
	for s := now - Skew; s <= now+Skew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotp.ValidateOpts{
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return -1, false, fmt.Errorf("%w: %w", ErrInvalidSecret, err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			latest, ok = s, true
		}
	}
	return latest, ok, nil
}

// sixDigits reports whether s is exactly Digits ASCII digits.
func sixDigits(s string) bool {
	if len(s) != Digits {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
