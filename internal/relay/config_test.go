package relay

import (
	"strings"
	"testing"
	"time"
)

// TestQuotaDefaults states the default limits as numbers.
func TestQuotaDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                 string
		max                  time.Duration
		wantSession, wantDev int64
	}{
		{"12 h sessions", 12 * time.Hour, 707788800, 1415577600},
		{"2 h sessions", 2 * time.Hour, 117964800, 1415577600},
	}
	for _, tc := range cases {
		c := Config{DataDir: "x", MaxSession: tc.max}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.SessionRecordingQuota != tc.wantSession || c.DeviceRecordingQuota != tc.wantDev ||
			c.ControlMaxSize != 16384 || c.ControlRate != 20 || c.ControlBurst != 200 {
			t.Errorf("%s: got %+v", tc.name, c)
		}
	}
}

// TestQuotaConfigRefused: limits that would break sessions or mean nothing
// are refused with one clear error.
func TestQuotaConfigRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"negative session quota", Config{SessionRecordingQuota: -1}, "positive"},
		{"negative device quota", Config{DeviceRecordingQuota: -5}, "positive"},
		{"control size too small", Config{ControlMaxSize: 100}, "outside 4096..16384"},
		{"control size above the protocol", Config{ControlMaxSize: 1 << 20}, "outside 4096..16384"},
		{"rate below 1", Config{ControlRate: 0.5}, "at least 1 per second"},
		{"negative burst", Config{ControlBurst: -1}, "at least 1"},
	} {
		tc.c.DataDir = "x"
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}
