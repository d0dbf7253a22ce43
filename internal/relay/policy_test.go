package relay

import (
	"testing"
	"time"

	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/protocol"
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

func TestCheckLimit(t *testing.T) {
	tests := []struct {
		limit, pattern string
		allowed        bool
	}{
		{"", "GET " + protocol.PathDevices, true},
		{identity.LimitPassword, "POST " + protocol.PathPasswd, true},
		{identity.LimitPassword, "POST " + protocol.PathLogout, true},
		{identity.LimitPassword, "GET " + protocol.PathDevices, false},
		{identity.LimitPassword, "POST " + protocol.PathMFAEnroll, false},
		{identity.LimitMFA, "POST " + protocol.PathMFAEnroll, true},
		{identity.LimitMFA, "POST " + protocol.PathMFAConfirm, true},
		{identity.LimitMFA, "GET " + protocol.PathTechSession, false},
	}
	for _, tc := range tests {
		err := checkLimit(&principal{limit: tc.limit}, tc.pattern)
		if (err == nil) != tc.allowed {
			t.Errorf("limit %q, %s: got %v, want allowed=%v", tc.limit, tc.pattern, err, tc.allowed)
		}
	}
}
