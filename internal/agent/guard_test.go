package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
)

func TestSensitivePath(t *testing.T) {
	tests := []struct {
		rel       string
		sensitive bool
	}{
		{".bashrc", true},
		{".profile", true},
		{".bash_profile", true},
		{".zshrc", true},
		{".pam_environment", true},
		{".ssh/authorized_keys", true},
		{".ssh", true},
		{".config/autostart/x.desktop", true},
		{".config/systemd/user/x.service", true},
		{".local/share/applications/x.desktop", true},
		{".local/bin/ls", true},
		{"docs/.hidden/x", true},
		{"docs/.git/hooks/pre-commit", true},
		{"bin/ls", true},
		{"bin", true},
		{"Library/LaunchAgents/com.evil.plist", true},
		{"library/launchagents/com.evil.plist", true},
		{"AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/x.bat", true},
		{"Documents/WindowsPowerShell/profile.ps1", true},
		{".", false},
		{"notes.txt", false},
		{"docs/report.pdf", false},
		{"binaries/x", false},
		{"Library/Caches/x", false},
		{"docs/a.b/c", false},
		{"x.bashrc", false},
	}
	for _, tc := range tests {
		if got := sensitivePath(tc.rel) != ""; got != tc.sensitive {
			t.Errorf("sensitivePath(%q) = %v, want %v", tc.rel, got, tc.sensitive)
		}
	}
}

// testRoot makes a home folder with links planted in it.
func testRoot(t *testing.T) *os.Root {
	t.Helper()
	home := t.TempDir()
	for _, d := range []string{".ssh", "docs", ".config/autostart"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"keys":          ".ssh",
		"docs/up":       "..",
		"docs/sshlink":  "../.ssh",
		"deep":          "docs/sshlink",
		"autorun":       ".config/autostart",
		"rc":            ".bashrc",
		"loop":          "loop",
		"out":           "/etc",
		"docs/escape":   "../../x",
		"docs/plain":    "../docs",
		"docs/selfdots": "./../docs/./",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(home, name)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := os.OpenRoot(home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestResolve(t *testing.T) {
	r := testRoot(t)
	tests := []struct {
		rel, want string
		err       bool
	}{
		{"notes.txt", "notes.txt", false},
		{"docs/new/file", "docs/new/file", false},
		{"keys/authorized_keys", ".ssh/authorized_keys", false},
		{"docs/sshlink/authorized_keys", ".ssh/authorized_keys", false},
		{"deep/authorized_keys", ".ssh/authorized_keys", false},
		{"docs/up/.bashrc", ".bashrc", false},
		{"autorun/x.desktop", ".config/autostart/x.desktop", false},
		{"rc", ".bashrc", false},
		{"docs/plain/x", "docs/x", false},
		{"docs/selfdots/x", "docs/x", false},
		{"loop/x", "", true},
		{"out/passwd", "", true},
		{"docs/escape", "", true},
	}
	for _, tc := range tests {
		got, err := resolve(r, tc.rel)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("resolve(%q) = %q, %v; want %q, error %v", tc.rel, got, err, tc.want, tc.err)
		}
	}
}

// TestCheckWrite checks the refusal with files:to-device alone and the
// permission once the shell is granted too, for direct and linked paths.
func TestCheckWrite(t *testing.T) {
	r := testRoot(t)
	paths := []struct {
		rel       string
		sensitive bool
	}{
		{".bashrc", true},
		{"keys/authorized_keys", true},
		{"deep/authorized_keys", true},
		{"autorun/x.desktop", true},
		{"rc", true},
		{"docs/up/.profile", true},
		{"docs/report.txt", false},
		{"docs/plain/report.txt", false},
		{"out/passwd", false}, // os.Root refuses it
		{"loop", false},       // replaced, not followed
	}
	for _, caps := range [][]string{{protocol.CapFilesTo}, {protocol.CapFiles}, {protocol.CapFilesTo, protocol.CapShell}} {
		fl := &files{s: grantedSession(caps), root: r}
		shell := protocol.Covers(caps, protocol.CapShell)
		for _, p := range paths {
			err := fl.checkWrite(p.rel)
			if want := p.sensitive && !shell; (err != nil) != want {
				t.Errorf("granted %v: checkWrite(%q) = %v, want refused %v", caps, p.rel, err, want)
			}
			if err != nil && (!errors.Is(err, errNeedsShell) || !strings.Contains(err.Error(), "refused to write "+p.rel)) {
				t.Errorf("checkWrite(%q) error %q does not say why", p.rel, err)
			}
		}
	}
}

// FuzzResolve feeds arbitrary relative paths through devicePath and
// resolve: neither may panic, resolve stays inside the root, and a path
// that is sensitive as asked stays refused whatever links lie on it.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"notes.txt", "keys/authorized_keys", "docs/up/.bashrc", "loop/x", "docs/escape", "a/./b", "deep//x"} {
		f.Add(s)
	}
	home := f.TempDir()
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.MkdirAll(filepath.Join(home, "docs"), 0o700)
	os.Symlink("../.ssh", filepath.Join(home, "docs", "k"))
	os.Symlink("..", filepath.Join(home, "docs", "up"))
	r, err := os.OpenRoot(home)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, err := devicePath(home, p)
		if err != nil {
			return
		}
		got, err := resolve(r, rel)
		if err != nil {
			return
		}
		if strings.HasPrefix(got, "/") || got == ".." || strings.HasPrefix(got, "../") || strings.Contains(got, "/../") {
			t.Fatalf("resolve(%q) = %q leaves the root", rel, got)
		}
		fl := &files{s: grantedSession([]string{protocol.CapFilesTo}), root: r}
		if (sensitivePath(rel) != "" || sensitivePath(got) != "") && fl.checkWrite(rel) == nil {
			t.Fatalf("checkWrite(%q) allowed a sensitive path (resolves to %q)", rel, got)
		}
	})
}
