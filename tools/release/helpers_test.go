package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the repository's top directory (this module is tools/release).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "Makefile")); err != nil {
		t.Fatalf("no Makefile at the repository root %s: %v", root, err)
	}
	return root
}

// needLong skips a test that builds the programs under -short.
func needLong(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the programs with make: skipped under -short (make test runs it)")
	}
}

// need fails the test, or skips it outside CI, when a program is missing.
func need(t *testing.T, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("TETHER_CI") != "" {
				t.Fatalf("%s is needed (.ci/run installs it): %v", p, err)
			}
			t.Skipf("%s is not installed", p)
		}
	}
}

// mustRun runs a command and returns its stdout, failing the test with
// its output when it fails.
func mustRun(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, so.String(), se.String())
	}
	return so.String()
}

// copyTree copies the repository's tracked and untracked-but-not-ignored
// files (what a fresh checkout of this work tree holds) to dst.
func copyTree(t *testing.T, root, dst string) {
	t.Helper()
	list := mustRun(t, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	for _, name := range strings.Split(strings.TrimRight(list, "\x00"), "\x00") {
		src := filepath.Join(root, name)
		fi, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet in the index
		} else if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}
