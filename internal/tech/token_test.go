package tech

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newTokenClient returns a signed-in Client in a fresh home.
func newTokenClient(t *testing.T) *Client {
	t.Helper()
	home := t.TempDir()
	return &Client{Home: home, st: &state{Relay: "https://127.0.0.1:1", Pin: "SHA256:00"}}
}

// TestTokenFileModes: a token file anyone but its owner can read or write,
// or a symbolic link, is refused with one clear line; 0600 and 0400 are read.
func TestTokenFileModes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(t *testing.T, c *Client)
		want  string // "" means accepted
	}{
		{"0600", func(t *testing.T, c *Client) { os.WriteFile(c.tokenPath(), []byte("tt_secret\n"), 0o600) }, ""},
		{"0400", func(t *testing.T, c *Client) { os.WriteFile(c.tokenPath(), []byte("tt_secret\n"), 0o400) }, ""},
		{"0644", func(t *testing.T, c *Client) { writeMode(t, c.tokenPath(), 0o644) }, "accessible to others (mode 0644)"},
		{"0640", func(t *testing.T, c *Client) { writeMode(t, c.tokenPath(), 0o640) }, "accessible to others (mode 0640)"},
		{"0604", func(t *testing.T, c *Client) { writeMode(t, c.tokenPath(), 0o604) }, "accessible to others (mode 0604)"},
		{"0620", func(t *testing.T, c *Client) { writeMode(t, c.tokenPath(), 0o620) }, "accessible to others (mode 0620)"},
		{"symlink to a 0600 file", func(t *testing.T, c *Client) {
			target := filepath.Join(t.TempDir(), "elsewhere")
			os.WriteFile(target, []byte("tt_secret\n"), 0o600)
			if err := os.Symlink(target, c.tokenPath()); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link"},
		{"directory", func(t *testing.T, c *Client) { os.Mkdir(c.tokenPath(), 0o700) }, "not a regular file"},
		{"missing", func(*testing.T, *Client) {}, "not signed in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTokenClient(t)
			tc.setup(t, c)
			tok, err := c.token()
			switch {
			case tc.want == "" && (err != nil || tok != "tt_secret"):
				t.Errorf("got %q, %v; want the token", tok, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %q, %v; want an error saying %q", tok, err, tc.want)
			case tc.want != "" && strings.Contains(err.Error(), "tt_secret"):
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

// writeMode writes a token file with exactly mode m (whatever the umask).
func writeMode(t *testing.T, path string, m os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("tt_secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, m); err != nil {
		t.Fatal(err)
	}
}

// TestSaveTokenReplaces: saving a token leaves a regular 0600 file,
// whatever was there, and never writes through a symbolic link.
func TestSaveTokenReplaces(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(t *testing.T, c *Client) (target string)
	}{
		{"none", func(*testing.T, *Client) string { return "" }},
		{"0644", func(t *testing.T, c *Client) string { writeMode(t, c.tokenPath(), 0o644); return "" }},
		{"0640", func(t *testing.T, c *Client) string { writeMode(t, c.tokenPath(), 0o640); return "" }},
		{"0400", func(t *testing.T, c *Client) string { writeMode(t, c.tokenPath(), 0o400); return "" }},
		{"symlink", func(t *testing.T, c *Client) string {
			target := filepath.Join(t.TempDir(), "victim")
			os.WriteFile(target, []byte("untouched\n"), 0o644)
			if err := os.Symlink(target, c.tokenPath()); err != nil {
				t.Fatal(err)
			}
			return target
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTokenClient(t)
			target := tc.setup(t, c)
			if err := c.saveToken("tt_new"); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Lstat(c.tokenPath())
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
				t.Fatalf("token file after save: %v, %v; want a regular 0600 file", fi.Mode(), err)
			}
			if tok, err := c.token(); err != nil || tok != "tt_new" {
				t.Errorf("token after save: %q, %v", tok, err)
			}
			if target != "" {
				if b, _ := os.ReadFile(target); string(b) != "untouched\n" {
					t.Errorf("the symlink's target was written: %q", b)
				}
			}
			if ents, _ := os.ReadDir(c.Home); len(ents) != 1 {
				t.Errorf("home holds %d entries after save, want only the token (no temporary files left)", len(ents))
			}
		})
	}
}
