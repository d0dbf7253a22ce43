package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReproducibleBuild copies the tree into two directories of different
// names and depths, runs `make build` in each, and requires the three
// programs to be byte-identical. The second build shares the Go build
// cache unless TETHER_REPRO_COLD=1 gives it an empty one (much slower:
// then every package, the standard library's too, is compiled again).
func TestReproducibleBuild(t *testing.T) {
	needLong(t)
	need(t, "make", "git")
	root := repoRoot(t)
	tmp := t.TempDir()
	dirs := []string{filepath.Join(tmp, "a"), filepath.Join(tmp, "second", "checkout", "of-tether")}
	stamp := []string{"VERSION=1.2.3-repro", "COMMIT=0123456789abcdef0123456789abcdef01234567", "SOURCE_DATE_EPOCH=1700000000"}
	for _, dir := range dirs { // both copies first: the same sources even if the tree is being edited
		copyTree(t, root, dir)
	}
	for i, dir := range dirs {
		var env []string
		if i == 1 && os.Getenv("TETHER_REPRO_COLD") == "1" {
			env = []string{"GOCACHE=" + filepath.Join(tmp, "gocache")}
		}
		mustRun(t, dir, env, "make", append([]string{"--no-print-directory", "build", "BIN=out"}, stamp...)...)
	}
	for _, p := range programs {
		a, err := os.ReadFile(filepath.Join(dirs[0], "out", p))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dirs[1], "out", p))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the two checkouts (%d and %d bytes)", p, len(a), len(b))
		}
		if bytes.Contains(a, []byte(dirs[0])) {
			t.Errorf("%s contains its checkout path %s", p, dirs[0])
		}
	}
	got := mustRun(t, "", nil, filepath.Join(dirs[1], "out", "relay"), "--version")
	if want := "relay 1.2.3-repro (commit 0123456789abcdef0123456789abcdef01234567)\n"; got != want {
		t.Errorf("relay --version printed %q, want %q", got, want)
	}
}
