// Package clitest checks, against the real built program, what every
// Tether command-line program promises about its command tree.
package clitest

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
)

// versionPkg is the package whose variables the linker sets.
const versionPkg = "github.com/tether-support/tether/internal/version"

// Build builds the main package in the current directory (a cmd/NAME
// test's working directory) as NAME with the given version and commit
// stamped in, and returns the binary's path.
func Build(t *testing.T, name, version, commit string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build %s: %v", name, err)
	}
	out := filepath.Join(t.TempDir(), name)
	ldflags := "-X " + versionPkg + ".Version=" + version + " -X " + versionPkg + ".Commit=" + commit
	cmd := exec.Command(gobin, "build", "-ldflags", ldflags, "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, b)
	}
	return out
}

// CheckTree builds the program name and runs it for every parent command
// of the tree newRoot returns (after cli.Prepare, as the program does):
// a bogus subcommand must fail with status 1 and exactly the one-line
// error and hint; the parent alone must print its help and exit 0;
// `help bogus` must fail the same way; and `--version` must print the
// stamped version and commit.
func CheckTree(t *testing.T, name string, newRoot func() *cobra.Command) {
	t.Helper()
	binary := Build(t, name, "9.8.7-test", "0123456789abcdef")
	if got := runOK(t, binary, "--version"); got != name+" 9.8.7-test (commit 0123456789abcdef)\n" {
		t.Errorf("%s --version printed %q", name, got)
	}
	if stdout, stderr, code := run(t, binary, "help", "bogus"); code != 1 || stdout != "" ||
		stderr != name+`: error: unknown help topic "bogus" for "`+name+"\"\n"+name+": hint: run '"+name+" --help'\n" {
		t.Errorf("%s help bogus: status %d, stdout %q, stderr %q", name, code, stdout, stderr)
	}
	root := newRoot()
	cli.Prepare(name, root)
	parents := cli.Parents(root)
	if len(parents) < 2 {
		t.Fatalf("%s: found %d parent commands; the walk is broken", name, len(parents))
	}
	for _, p := range parents {
		path := p.CommandPath()
		args := strings.Fields(path)[1:]
		t.Run(strings.ReplaceAll(path, " ", "_"), func(t *testing.T) {
			stdout, stderr, code := run(t, binary, append(args, "bogus")...)
			want := name + `: error: unknown command "bogus" for "` + path + "\"\n" +
				name + ": hint: run '" + path + " --help'\n"
			if code != 1 || stdout != "" || stderr != want {
				t.Errorf("%s bogus: status %d, stdout %q, stderr %q; want status 1, no stdout, stderr %q", path, code, stdout, stderr, want)
			}
			if help := runOK(t, binary, args...); !strings.Contains(help, "Available Commands:") {
				t.Errorf("%s alone printed %q, want its help", path, help)
			}
		})
	}
}

// run runs binary with args and returns its output and exit status.
func run(t *testing.T, binary string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var so, se bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return so.String(), se.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", binary, err)
	}
	return so.String(), se.String(), 0
}

// runOK runs binary with args, requires status 0 and returns its stdout.
func runOK(t *testing.T, binary string, args ...string) string {
	t.Helper()
	stdout, stderr, code := run(t, binary, args...)
	if code != 0 {
		t.Fatalf("%s %s: status %d, stderr %q", filepath.Base(binary), strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// CheckExamples walks the tree newRoot returns (after cli.Prepare, as the
// program does, so cobra's own help and completion commands are included)
// and fails naming every command, hidden ones aside, whose --help has no
// Example.
func CheckExamples(t *testing.T, name string, newRoot func() *cobra.Command) {
	t.Helper()
	root := newRoot()
	cli.Prepare(name, root)
	var missing []string
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		n++
		if strings.TrimSpace(c.Example) == "" {
			missing = append(missing, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 3 {
		t.Fatalf("%s: walked %d commands; the walk is broken", name, n)
	}
	if len(missing) > 0 {
		t.Errorf("%s: %d of %d commands have no Example in --help:\n  %s", name, len(missing), n, strings.Join(missing, "\n  "))
	}
}
