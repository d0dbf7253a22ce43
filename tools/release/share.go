package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// completion is where one shell's completion script of program goes, both
// in the archives (completions/SHELL/FILE) and in the packages (DIR/FILE).
type completion struct {
	shell, debDir string
	file          func(program string) string
}

var completions = []completion{
	{"bash", "/usr/share/bash-completion/completions", func(p string) string { return p }},
	{"zsh", "/usr/share/zsh/vendor-completions", func(p string) string { return "_" + p }},
	{"fish", "/usr/share/fish/vendor_completions.d", func(p string) string { return p + ".fish" }},
	{"powershell", "", func(p string) string { return p + ".ps1" }},
}

// makeShare runs this machine's programs to write their man pages
// (SHARE/man1) and shell completions (SHARE/completions/SHELL).
func (o *options) makeShare() error {
	if err := os.RemoveAll(o.share); err != nil {
		return err
	}
	for _, p := range programs {
		bin := filepath.Join(o.bin, p)
		if _, err := exec.Command(bin, "gen-manpages", filepath.Join(o.share, "man1")).Output(); err != nil {
			return fmt.Errorf("%s gen-manpages: %w", bin, exitDetail(err))
		}
		for _, c := range completions {
			out, err := exec.Command(bin, "completion", c.shell).Output()
			if err != nil {
				return fmt.Errorf("%s completion %s: %w", bin, c.shell, exitDetail(err))
			}
			dir := filepath.Join(o.share, "completions", c.shell)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, c.file(p)), out, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// manPages returns the man pages of program (NAME.1 and NAME-*.1), sorted.
func (o *options) manPages(program string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(o.share, "man1", "*.1"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range all {
		base := filepath.Base(p)
		if base == program+".1" || strings.HasPrefix(base, program+"-") {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no man pages for %s in %s", program, o.share)
	}
	return out, nil
}

// exitDetail adds a failed command's stderr to its error.
func exitDetail(err error) error {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
	}
	return err
}
