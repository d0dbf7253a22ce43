package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTechTokenFileMode: tech refuses a token file others can read, or a
// symbolic link, with one clear line, and `tech login` replaces it with a
// 0600 regular file (never writing through the link).
func TestTechTokenFileMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokPath := filepath.Join(e.tech, "token")
	login := func() {
		t.Helper()
		if r := e.techRun(e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
			t.Fatalf("login: %s", r.stderr)
		}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T) string // returns a symlink target, if any
		want  string
	}{
		{"0644", func(t *testing.T) string { os.Chmod(tokPath, 0o644); return "" }, "accessible to others (mode 0644)"},
		{"0640", func(t *testing.T) string { os.Chmod(tokPath, 0o640); return "" }, "accessible to others (mode 0640)"},
		{"symlink", func(t *testing.T) string {
			target := filepath.Join(t.TempDir(), "token-elsewhere")
			if err := os.Rename(tokPath, target); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, tokPath); err != nil {
				t.Fatal(err)
			}
			return target
		}, "is a symbolic link"},
	}
	for _, tc := range cases { // sequential: they share the config directory
		target := tc.setup(t)
		var before string
		if target != "" {
			before = mustRead(t, target)
		}
		r := e.techRun("", "devices", "list")
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || len(lines(r.stderr)) != 1 {
			t.Errorf("%s: devices list exited %d with %q; want one line saying %q", tc.name, r.code, r.stderr, tc.want)
		}
		login()
		fi, err := os.Lstat(tokPath)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: after login the token file is %v (%v); want a regular 0600 file", tc.name, fi.Mode(), err)
		}
		if target != "" && mustRead(t, target) != before {
			t.Errorf("%s: login wrote through the symbolic link", tc.name)
		}
		if r := e.techRun("", "devices", "list"); r.code != 0 {
			t.Errorf("%s: devices list after login: %s", tc.name, r.stderr)
		}
	}
}
