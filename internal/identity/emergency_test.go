package identity

import (
	"errors"
	"os"
	"testing"
	"time"
)

// issueGrant writes a grant for a new token into dir, as relay
// emergency-access does, and returns the token's hash.
func issueGrant(t *testing.T, dir string, ttl time.Duration) [32]byte {
	t.Helper()
	n := time.Now().UTC()
	h := [32]byte{byte(ttl), byte(n.UnixNano())}
	if err := WriteGrant(dir, h, EmergencyGrant{Reason: "INC-7", CreatedAt: n, ExpiresAt: n.Add(ttl)}); err != nil {
		t.Fatal(err)
	}
	return h
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEmergencyGrantKeyMode: the grant key is made once, mode 0600.
func TestEmergencyGrantKeyMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	issueGrant(t, dir, time.Minute)
	k1 := readFile(t, GrantKeyPath(dir))
	issueGrant(t, dir, 2*time.Minute)
	fi, err := os.Stat(GrantKeyPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || len(k1) != 32 || readFile(t, GrantKeyPath(dir)) != k1 {
		t.Errorf("grant key: mode %v, %d bytes, stable %v; want 0600, 32, true", fi.Mode().Perm(), len(k1), readFile(t, GrantKeyPath(dir)) == k1)
	}
}

// TestCheckGrant: a grant is honoured until it expires, then refused and
// removed; an unknown token has no grant.
func TestCheckGrant(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := issueGrant(t, dir, time.Minute)
	n := time.Now().UTC()
	for _, tc := range []struct {
		name string
		h    [32]byte
		at   time.Time
		want error
		gone bool
	}{
		{"valid", h, n, nil, false},
		{"unknown token", [32]byte{9}, n, ErrNoGrant, true},
		{"expired", h, n.Add(time.Hour), ErrGrantExpired, true},
		{"gone after expiry", h, n, ErrNoGrant, true},
	} {
		g, err := CheckGrant(dir, tc.h, tc.at)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		if tc.want != ErrNoGrant && g.Reason != "INC-7" {
			t.Errorf("%s: reason %q, want INC-7", tc.name, g.Reason)
		}
		if _, err := os.Stat(EmergencyPath(dir, tc.h)); os.IsNotExist(err) != tc.gone {
			t.Errorf("%s: file gone %v, want %v", tc.name, os.IsNotExist(err), tc.gone)
		}
	}
}

// TestIssueGrant: issuing checks the reason and lifetime with the
// messages the relay host's command prints, and trims the reason.
func TestIssueGrant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, reason string
		ttl          time.Duration
		wantErr      string
	}{
		{"ok", "  INC-1  ", time.Minute, ""},
		{"no reason", "   ", time.Minute, "say why with --reason TEXT (at most 500 bytes); it is audited with every use"},
		{"zero ttl", "INC-1", 0, "--ttl 0s is outside 1s..1h0m0s"},
		{"too long", "INC-1", 2 * time.Hour, "--ttl 2h0m0s is outside 1s..1h0m0s"},
	} {
		raw, g, err := IssueGrant(t.TempDir(), tc.reason, tc.ttl)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%s: got %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || raw == "" || g.Reason != "INC-1" || !g.ExpiresAt.Equal(g.CreatedAt.Add(tc.ttl)) {
			t.Errorf("%s: got %q %+v %v", tc.name, raw, g, err)
		}
	}
}
