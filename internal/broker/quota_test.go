package broker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
		l, err := OpenFrameLog(tc.path)
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
