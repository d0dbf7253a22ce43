package identity

import (
	"testing"
	"time"

	"github.com/tether-support/tether/internal/passpolicy"
	"github.com/tether-support/tether/internal/store"
)

func TestLimitOf(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	def := passpolicy.Default()
	aged := def
	aged.MaxAge = 30 * 24 * time.Hour
	mfa := def
	mfa.RequireMFA = true
	tests := []struct {
		name string
		u    store.User
		pol  passpolicy.Policy
		want string
	}{
		{"active", store.User{State: store.UserActive, PasswordChangedAt: t0}, def, ""},
		{"temporary", store.User{State: store.UserMustChangePassword, PasswordChangedAt: t0}, def, LimitPassword},
		{"expired", store.User{State: store.UserActive, PasswordChangedAt: t0.Add(-31 * 24 * time.Hour)}, aged, LimitPassword},
		{"not yet expired", store.User{State: store.UserActive, PasswordChangedAt: t0.Add(-29 * 24 * time.Hour)}, aged, ""},
		{"mfa required", store.User{State: store.UserActive, PasswordChangedAt: t0}, mfa, LimitMFA},
		{"mfa enrolled", store.User{State: store.UserActive, PasswordChangedAt: t0, TOTPSecret: []byte{1}}, mfa, ""},
		{"password first", store.User{State: store.UserMustChangePassword, PasswordChangedAt: t0}, mfa, LimitPassword},
	}
	for _, tc := range tests {
		if got := LimitOf(&tc.u, tc.pol, t0); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestTrimHistory(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var h []store.PasswordHistoryEntry
	for i := range 100 {
		h = append(h, store.PasswordHistoryEntry{Hash: "x", RetiredAt: t0.Add(-time.Duration(i) * 24 * time.Hour * 10)})
	}
	// Entries 0..23 by count, then those within 365 days (i*10 days <= 365: i <= 36).
	if got := len(trimHistory(h, t0)); got != 37 {
		t.Errorf("got %d entries, want 37", got)
	}
	recent := make([]store.PasswordHistoryEntry, 100)
	for i := range recent {
		recent[i] = store.PasswordHistoryEntry{Hash: "x", RetiredAt: t0}
	}
	if got := len(trimHistory(recent, t0)); got != maxHistory {
		t.Errorf("got %d entries, want the cap %d", got, maxHistory)
	}
}
