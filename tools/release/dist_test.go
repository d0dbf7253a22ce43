package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// TestDist runs `make dist` with a fresh signing key and checks the
// release as a user would: the signature verifies with the documented
// command, every checksum matches, each archive holds what
// docs/operations.md says (Windows without the agent), and the linux
// program of this machine's architecture runs.
func TestDist(t *testing.T) {
	needLong(t)
	need(t, "make", "git", "ssh-keygen", "sha256sum", "dpkg-deb")
	root := repoRoot(t)
	dist, keys := t.TempDir(), t.TempDir()
	key := filepath.Join(keys, "tether-release")
	mustRun(t, "", nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release@tether-support", "-f", key)
	mustRun(t, root, []string{"DIST_SIGNING_KEY=" + key}, "make", "--no-print-directory", "dist",
		"BIN="+filepath.Join(dist, "bin"), "DIST="+dist, "VERSION=v1.2.3", "COMMIT=0123456789abcdef", "SOURCE_DATE_EPOCH=1700000000")

	want := []string{
		"SHA256SUMS", "SHA256SUMS.sig",
		"tether-agent_1.2.3_amd64.deb", "tether-agent_1.2.3_arm64.deb",
		"tether-relay_1.2.3_amd64.deb", "tether-relay_1.2.3_arm64.deb",
		"tether_v1.2.3_darwin_arm64.tar.gz", "tether_v1.2.3_linux_amd64.tar.gz",
		"tether_v1.2.3_linux_arm64.tar.gz", "tether_v1.2.3_windows_amd64.zip",
	}
	var got []string
	entries, _ := os.ReadDir(dist)
	for _, e := range entries {
		if !e.IsDir() {
			got = append(got, e.Name())
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("dist holds %v, want %v", got, want)
	}

	// The documented verification.
	pub := strings.Fields(mustRead(t, key+".pub"))
	signers := filepath.Join(keys, "allowed_signers")
	os.WriteFile(signers, []byte("release@tether-support "+pub[0]+" "+pub[1]+"\n"), 0o644)
	verify := exec.Command("ssh-keygen", "-Y", "verify", "-f", signers, "-I", "release@tether-support", "-n", "file", "-s", "SHA256SUMS.sig")
	verify.Dir = dist
	verify.Stdin, _ = os.Open(filepath.Join(dist, "SHA256SUMS"))
	if out, err := verify.CombinedOutput(); err != nil || !strings.Contains(string(out), `Good "file" signature for release@tether-support`) {
		t.Errorf("ssh-keygen -Y verify: %v\n%s", err, out)
	}
	mustRun(t, dist, nil, "sha256sum", "-c", "SHA256SUMS")
	if n := strings.Count(mustRead(t, filepath.Join(dist, "SHA256SUMS")), "\n"); n != 8 {
		t.Errorf("SHA256SUMS has %d lines, want 8", n)
	}

	for _, tt := range []struct {
		archive string
		has     []string
		hasNot  []string
	}{
		{"tether_v1.2.3_linux_amd64.tar.gz",
			[]string{"relay", "tech", "agent", "README.md", "docs/operations.md", "docs/cli.md", "THIRD_PARTY_NOTICES",
				"man/man1/relay-serve.1", "man/man1/agent-run.1", "completions/bash/tech", "completions/zsh/_agent",
				"completions/fish/relay.fish", "packaging/systemd/tether-relay.service", "packaging/systemd/tether-agent.service"}, nil},
		{"tether_v1.2.3_darwin_arm64.tar.gz", []string{"relay", "tech", "agent", "man/man1/agent.1"}, []string{"packaging/systemd/tether-relay.service"}},
		{"tether_v1.2.3_windows_amd64.zip", []string{"relay.exe", "tech.exe", "completions/powershell/tech.ps1", "man/man1/tech.1"},
			[]string{"agent.exe", "man/man1/agent.1", "completions/powershell/agent.ps1"}},
	} {
		prefix := strings.TrimSuffix(strings.TrimSuffix(tt.archive, ".tar.gz"), ".zip") + "/"
		files := archiveFiles(t, filepath.Join(dist, tt.archive))
		for _, f := range tt.has {
			if _, ok := files[prefix+f]; !ok {
				t.Errorf("%s lacks %s", tt.archive, f)
			}
		}
		for _, f := range tt.hasNot {
			if _, ok := files[prefix+f]; ok {
				t.Errorf("%s holds %s", tt.archive, f)
			}
		}
		if n := files[prefix+"THIRD_PARTY_NOTICES"]; !strings.Contains(n, "github.com/spf13/cobra") || !strings.Contains(n, "Go standard library") {
			t.Errorf("%s: THIRD_PARTY_NOTICES lacks cobra or the Go standard library", tt.archive)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if got := mustRun(t, "", nil, "dpkg-deb", "-f", filepath.Join(dist, "tether-relay_1.2.3_"+arch+".deb"), "Architecture"); got != arch+"\n" {
			t.Errorf("tether-relay for %s says Architecture %q", arch, got)
		}
	}
	if runtime.GOOS == "linux" {
		x := t.TempDir()
		mustRun(t, x, nil, "tar", "-xzf", filepath.Join(dist, "tether_v1.2.3_linux_"+runtime.GOARCH+".tar.gz"))
		got := mustRun(t, "", nil, filepath.Join(x, "tether_v1.2.3_linux_"+runtime.GOARCH, "tech"), "--version")
		if got != "tech v1.2.3 (commit 0123456789abcdef)\n" {
			t.Errorf("tech --version from the archive: %q", got)
		}
	}
}

// archiveFiles returns the regular files of a .tar.gz or .zip: name to
// content.
func archiveFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	files := map[string]string{}
	if strings.HasSuffix(path, ".zip") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			files[f.Name] = string(b)
		}
		return files
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[hdr.Name] = string(b)
		names = append(names, hdr.Name)
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("%s: entries are not in name order", filepath.Base(path))
	}
	return files
}
