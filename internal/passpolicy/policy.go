// Package passpolicy holds an organisation's password and session policy,
// validates it, merges the policies of several organisations into the most
// restrictive one, and checks new passwords against it and an embedded
// blocklist of common and breached passwords.
//
// The defaults follow NIST SP 800-63B: length over composition rules, no
// forced rotation, a blocklist, and no truncation.
package passpolicy

import (
	"errors"
	"fmt"
	"time"
)

//go:generate go run gen_blocklist.go

// day is 24 hours; policy ranges are given in days.
const day = 24 * time.Hour

// Bounds of each policy setting. Validate enforces them.
const (
	MinMinLength        = 8
	MaxMinLength        = 64
	MinMaxLength        = 64
	MaxMaxLength        = 256 // 256 runes of at most 4 bytes fit password.MaxLength.
	MaxRequireClasses   = 4
	MinMaxAge           = 30 * day
	MaxMaxAge           = 180 * day
	MaxHistoryCount     = 24
	MaxHistoryAge       = 365 * day
	MinLockoutThreshold = 1
	MaxLockoutThreshold = 20
	MinIdleTimeout      = time.Second
	MaxIdleTimeout      = 24 * time.Hour
	MinTokenLifetime    = time.Second
	MaxTokenLifetime    = 30 * day
	MinRetentionDays    = 30
	MaxRetentionDays    = 3650
	MinScreenMaxFPS     = 5
	MaxScreenMaxFPS     = 60
	// DefaultScreenMaxFPS is ScreenMaxFPS by default, and what a zero
	// ScreenMaxFPS (a policy stored before the setting existed) means.
	DefaultScreenMaxFPS = 30
)

// Policy is one organisation's password and session policy. The zero Policy
// is not valid; start from Default. A Policy is a plain value.
type Policy struct {
	// MinLength is the shortest password, in runes: 8..64, default 12.
	MinLength int
	// MaxLength is the longest password, in runes: 64..256, default 128.
	// Longer passwords are rejected, never truncated.
	MaxLength int
	// RequireClasses is how many of lower, upper, digit and symbol a password
	// needs: 0 (off, the NIST 800-63B default) to 4.
	RequireClasses int
	// MaxAge forces a change after this long: 0 (off, default) or 30..180 days.
	MaxAge time.Duration
	// HistoryCount forbids reusing the last N passwords: 0..24, default 0.
	HistoryCount int
	// HistoryAge forbids reusing a password retired within this long:
	// 0..365 days, default 0.
	HistoryAge time.Duration
	// LockoutThreshold is how many failed logins lock an account: 1..20,
	// default 5.
	LockoutThreshold int
	// IdleTimeout expires a token unused this long: 1s..24h, default 15m.
	IdleTimeout time.Duration
	// MaxTokenLifetime expires a token this long after login however active it
	// is: IdleTimeout..30 days, default 12h.
	MaxTokenLifetime time.Duration
	// RequireMFA requires a second factor at login. Default false.
	RequireMFA bool
	// RecordInput records typed input in session recordings. Default false:
	// typed input may hold passwords and PHI.
	RecordInput bool
	// RetentionDays is how long recordings and session records are kept
	// after their session ended: 30..3650, default 365. The relay's daily
	// retention job deletes older ones (except recordings on legal hold),
	// using the longest RetentionDays of any organisation.
	RetentionDays int
	// ScreenMaxFPS caps the frames per second of remote desktop sessions:
	// 5..60, default 30; 0 means the default (see ScreenFPS).
	ScreenMaxFPS int
	// DenyDirectPath forbids the direct peer-to-peer path between
	// technician and device (every byte goes through the relay). Default
	// false: allowed.
	DenyDirectPath bool
}

// ScreenFPS is the desktop frame-rate cap p sets: ScreenMaxFPS, or
// DefaultScreenMaxFPS when it is 0.
func (p Policy) ScreenFPS() int {
	if p.ScreenMaxFPS == 0 {
		return DefaultScreenMaxFPS
	}
	return p.ScreenMaxFPS
}

// ValidScreenFPS reports whether n is an allowed ScreenMaxFPS to set.
func ValidScreenFPS(n int) bool { return inRange(n, MinScreenMaxFPS, MaxScreenMaxFPS) }

// Default returns the default policy.
func Default() Policy {
	return Policy{
		MinLength:        12,
		MaxLength:        128,
		LockoutThreshold: 5,
		IdleTimeout:      15 * time.Minute,
		MaxTokenLifetime: 12 * time.Hour,
		RetentionDays:    365,
		ScreenMaxFPS:     DefaultScreenMaxFPS,
	}
}

// ErrInvalid is wrapped by every error from Validate.
var ErrInvalid = errors.New("passpolicy: invalid policy")

// FieldError reports a policy field outside its allowed range.
type FieldError struct {
	// Field is the Policy field name, such as "MaxAge".
	Field string
	// Value is the offending value, formatted.
	Value string
	// Allowed describes the allowed values, such as "0 or 30..180 days".
	Allowed string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("passpolicy: %s = %s, allowed %s", e.Field, e.Value, e.Allowed)
}

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Validate reports the first setting outside its range as a *FieldError.
func (p Policy) Validate() error {
	checks := []struct {
		ok             bool
		field, allowed string
		value          any
	}{
		{inRange(p.MinLength, MinMinLength, MaxMinLength), "MinLength", "8..64", p.MinLength},
		{inRange(p.MaxLength, MinMaxLength, MaxMaxLength), "MaxLength", "64..256", p.MaxLength},
		{p.MinLength <= p.MaxLength, "MinLength", "at most MaxLength", p.MinLength},
		{inRange(p.RequireClasses, 0, MaxRequireClasses), "RequireClasses", "0..4", p.RequireClasses},
		{p.MaxAge == 0 || inRange(p.MaxAge, MinMaxAge, MaxMaxAge), "MaxAge", "0 or 30..180 days", p.MaxAge},
		{inRange(p.HistoryCount, 0, MaxHistoryCount), "HistoryCount", "0..24", p.HistoryCount},
		{inRange(p.HistoryAge, 0, MaxHistoryAge), "HistoryAge", "0..365 days", p.HistoryAge},
		{inRange(p.LockoutThreshold, MinLockoutThreshold, MaxLockoutThreshold), "LockoutThreshold", "1..20", p.LockoutThreshold},
		{inRange(p.IdleTimeout, MinIdleTimeout, MaxIdleTimeout), "IdleTimeout", "1s..24h", p.IdleTimeout},
		{inRange(p.MaxTokenLifetime, MinTokenLifetime, MaxTokenLifetime), "MaxTokenLifetime", "1s..720h", p.MaxTokenLifetime},
		{p.IdleTimeout <= p.MaxTokenLifetime, "MaxTokenLifetime", "at least IdleTimeout", p.MaxTokenLifetime},
		{inRange(p.RetentionDays, MinRetentionDays, MaxRetentionDays), "RetentionDays", "30..3650", p.RetentionDays},
		{p.ScreenMaxFPS == 0 || ValidScreenFPS(p.ScreenMaxFPS), "ScreenMaxFPS", "5..60", p.ScreenMaxFPS},
	}
	for _, c := range checks {
		if !c.ok {
			return &FieldError{Field: c.field, Value: formatValue(c.value), Allowed: c.allowed}
		}
	}
	return nil
}

// formatValue formats a setting, showing whole days as days.
func formatValue(v any) string {
	if d, ok := v.(time.Duration); ok && d != 0 && d%day == 0 {
		return fmt.Sprintf("%d days", d/day)
	}
	return fmt.Sprint(v)
}

// inRange reports whether lo <= v <= hi.
func inRange[T int | time.Duration](v, lo, hi T) bool {
	return lo <= v && v <= hi
}

// Merge returns the most restrictive policy across ps, setting by setting:
// longest MinLength, largest MaxLength (a higher cap never weakens a policy),
// highest RequireClasses, shortest non-zero MaxAge, largest HistoryCount and
// HistoryAge, lowest LockoutThreshold, shortest IdleTimeout and
// MaxTokenLifetime, RequireMFA, RecordInput and DenyDirectPath if any policy sets them,
// longest RetentionDays and lowest ScreenFPS. Zero values of LockoutThreshold, IdleTimeout and
// MaxTokenLifetime are treated as unset, not as strictest. Merge of no
// policies is Default(). Merging valid policies gives a valid policy.
func Merge(ps ...Policy) Policy {
	if len(ps) == 0 {
		return Default()
	}
	m := ps[0]
	for _, p := range ps[1:] {
		m.MinLength = max(m.MinLength, p.MinLength)
		m.MaxLength = max(m.MaxLength, p.MaxLength)
		m.RequireClasses = max(m.RequireClasses, p.RequireClasses)
		m.MaxAge = minNonZero(m.MaxAge, p.MaxAge)
		m.HistoryCount = max(m.HistoryCount, p.HistoryCount)
		m.HistoryAge = max(m.HistoryAge, p.HistoryAge)
		m.LockoutThreshold = minNonZero(m.LockoutThreshold, p.LockoutThreshold)
		m.IdleTimeout = minNonZero(m.IdleTimeout, p.IdleTimeout)
		m.MaxTokenLifetime = minNonZero(m.MaxTokenLifetime, p.MaxTokenLifetime)
		m.RequireMFA = m.RequireMFA || p.RequireMFA
		m.RecordInput = m.RecordInput || p.RecordInput
		m.RetentionDays = max(m.RetentionDays, p.RetentionDays)
		m.ScreenMaxFPS = min(m.ScreenFPS(), p.ScreenFPS())
		m.DenyDirectPath = m.DenyDirectPath || p.DenyDirectPath
	}
	return m
}

// minNonZero returns the smaller of a and b, ignoring a zero.
func minNonZero[T int | time.Duration](a, b T) T {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// HistoryApplies reports whether a previous password still blocks reuse.
// index counts previous passwords from the newest (0) and changedAt is when
// that password was replaced. It applies if index < HistoryCount or if it was
// replaced less than HistoryAge before now.
func (p Policy) HistoryApplies(changedAt, now time.Time, index int) bool {
	if index < 0 {
		return false
	}
	byCount := index < p.HistoryCount
	byAge := p.HistoryAge > 0 && now.Sub(changedAt) < p.HistoryAge
	return byCount || byAge
}
