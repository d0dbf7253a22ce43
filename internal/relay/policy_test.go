package relay

import (
	"testing"
	"time"

	"tether/internal/passpolicy"
	"tether/internal/protocol"
	"tether/internal/store"
)

func TestParseDur(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"15m", 15 * time.Minute, true},
		{"0", 0, true},
		{"2s", 2 * time.Second, true},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"+3d", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range tests {
		got, err := parseDur(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseDur(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

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
		{"temporary", store.User{State: store.UserMustChangePassword, PasswordChangedAt: t0}, def, limitPassword},
		{"expired", store.User{State: store.UserActive, PasswordChangedAt: t0.Add(-31 * 24 * time.Hour)}, aged, limitPassword},
		{"not yet expired", store.User{State: store.UserActive, PasswordChangedAt: t0.Add(-29 * 24 * time.Hour)}, aged, ""},
		{"mfa required", store.User{State: store.UserActive, PasswordChangedAt: t0}, mfa, limitMFA},
		{"mfa enrolled", store.User{State: store.UserActive, PasswordChangedAt: t0, TOTPSecret: []byte{1}}, mfa, ""},
		{"password first", store.User{State: store.UserMustChangePassword, PasswordChangedAt: t0}, mfa, limitPassword},
	}
	for _, tc := range tests {
		if got := limitOf(&tc.u, tc.pol, t0); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCheckLimit(t *testing.T) {
	tests := []struct {
		limit, pattern string
		allowed        bool
	}{
		{"", "GET " + protocol.PathDevices, true},
		{limitPassword, "POST " + protocol.PathPasswd, true},
		{limitPassword, "POST " + protocol.PathLogout, true},
		{limitPassword, "GET " + protocol.PathDevices, false},
		{limitPassword, "POST " + protocol.PathMFAEnroll, false},
		{limitMFA, "POST " + protocol.PathMFAEnroll, true},
		{limitMFA, "POST " + protocol.PathMFAConfirm, true},
		{limitMFA, "GET " + protocol.PathTechSession, false},
	}
	for _, tc := range tests {
		err := checkLimit(&principal{limit: tc.limit}, tc.pattern)
		if (err == nil) != tc.allowed {
			t.Errorf("limit %q, %s: got %v, want allowed=%v", tc.limit, tc.pattern, err, tc.allowed)
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
