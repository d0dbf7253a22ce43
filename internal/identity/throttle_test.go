package identity

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store"
)

func TestBackoff(t *testing.T) {
	s := &Accounts{cfg: Config{Throttle: DefaultThrottle()}}
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, 0}, {2, time.Minute}, {3, 2 * time.Minute}, {4, 4 * time.Minute},
		{6, 16 * time.Minute}, {7, 30 * time.Minute}, {50, 30 * time.Minute}, {1 << 30, 30 * time.Minute},
	}
	for _, tc := range tests {
		if got := s.backoff(tc.failures); got != tc.want {
			t.Errorf("backoff after %d failures = %v, want %v", tc.failures, got, tc.want)
		}
	}
}

func TestSourceKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.7", "127.0.0.7"},
		{"::ffff:10.1.2.3", "10.1.2.3"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"not-an-ip", "not-an-ip"},
	}
	for _, tc := range tests {
		if got := SourceKey(tc.in); got != tc.want {
			t.Errorf("SourceKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestThrottleFill(t *testing.T) {
	var th Throttle
	if err := th.Fill(); err != nil || th != DefaultThrottle() {
		t.Fatalf("zero Throttle filled to %+v (%v), want the defaults", th, err)
	}
	bad := []Throttle{{SourceFailures: -1}, {JoinWindow: time.Millisecond}, {AccountFree: -3}, {GlobalWindow: -time.Second}}
	for _, b := range bad {
		if err := b.Fill(); err == nil {
			t.Errorf("%+v accepted", b)
		}
	}
}

// TestGlobalCapWording: the relay-wide cap's refusal names the relay when
// it is alone on its store and the cluster when the store is shared.
func TestGlobalCapWording(t *testing.T) {
	tests := []struct {
		shared bool
		want   string
	}{
		{false, "too many failed sign-ins on this relay"},
		{true, "too many failed sign-ins across the relays of this cluster"},
	}
	for _, tc := range tests {
		db, err := store.Open(filepath.Join(t.TempDir(), "tether.db"))
		if err != nil {
			t.Fatal(err)
		}
		th := DefaultThrottle()
		th.GlobalFailures = 1
		if err := db.PutMeta(MetaSecretKey, make([]byte, 32)); err != nil {
			t.Fatal(err)
		}
		s := New(Config{Throttle: th, Shared: tc.shared}, db, nil, "", nil, slog.New(slog.DiscardHandler))
		at := now()
		if err := s.admitUnknownSource("alice", at); err != nil {
			t.Fatalf("shared %v: refused under the cap: %v", tc.shared, err)
		}
		if _, err := db.ThrottleHit(globalFailKey, at, th.GlobalWindow, false); err != nil {
			t.Fatal(err)
		}
		err = s.admitUnknownSource("alice", at)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("shared %v: %v, want %q", tc.shared, err, tc.want)
		}
		db.Close()
	}
}
