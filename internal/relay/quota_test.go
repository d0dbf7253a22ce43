package relay

import (
	"os"
	"path/filepath"
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

// TestBucket: a burst passes, then one message per 1/rate.
func TestBucket(t *testing.T) {
	t.Parallel()
	b := newBucket(10, 3)
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if !b.take(t0) {
			t.Fatalf("message %d of the burst refused", i)
		}
	}
	if b.take(t0) {
		t.Fatal("a fourth message at once passed a burst of 3")
	}
	if w := b.wait(); w <= 0 || w > 100*time.Millisecond {
		t.Errorf("wait %v, want (0, 100ms]", w)
	}
	if !b.take(t0.Add(100 * time.Millisecond)) {
		t.Error("a message 1/rate later refused")
	}
	if b.take(t0.Add(150 * time.Millisecond)) {
		t.Error("a message half a period later passed")
	}
	if !b.take(t0.Add(time.Hour)) || !b.take(t0.Add(time.Hour)) || !b.take(t0.Add(time.Hour)) || b.take(t0.Add(time.Hour)) {
		t.Error("after a long pause the burst is not exactly 3")
	}
}

// TestUsage: live bytes add up per device and are released.
func TestUsage(t *testing.T) {
	t.Parallel()
	u := newUsage()
	u.add("d1", 10)
	if got := u.add("d1", 5); got != 15 {
		t.Errorf("d1: %d, want 15", got)
	}
	if got := u.add("d2", 7); got != 7 {
		t.Errorf("d2: %d, want 7", got)
	}
	u.release("d1", 15)
	if got := u.add("d1", 0); got != 0 {
		t.Errorf("d1 after release: %d, want 0", got)
	}
	if a, b := deviceKey("d_x", nil), deviceKey("", []byte("k")); a != "d_x" || !strings.HasPrefix(b, "attended:") || b == deviceKey("", []byte("j")) {
		t.Errorf("deviceKey: %q %q", a, b)
	}
}

// TestFrameLogFile: the frame log is 0600 whatever was there, and a
// symbolic link is refused.
func TestFrameLogFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose")
	os.WriteFile(loose, nil, 0o644)
	os.Chmod(loose, 0o644)
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(victim, link)
	for _, tc := range []struct {
		name, path string
		ok         bool
	}{
		{"new", filepath.Join(dir, "new"), true},
		{"existing 0644", loose, true},
		{"symbolic link", link, false},
		{"directory", dir, false},
	} {
		l, err := openFrameLog(tc.path)
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if err != nil {
			continue
		}
		l.write([]byte{1, 2})
		l.Close()
		if fi, _ := os.Stat(tc.path); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", tc.name, fi.Mode().Perm())
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the link's target was written: %q", b)
	}
}
