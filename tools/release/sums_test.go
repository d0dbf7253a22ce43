package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignedChecksums writes SHA256SUMS for two files, checks it with
// sha256sum -c, signs it with a fresh SSH key through DIST_SIGNING_KEY and
// verifies the signature as docs/operations.md tells users to; a changed
// SHA256SUMS must fail that verification.
func TestSignedChecksums(t *testing.T) {
	need(t, "ssh-keygen", "sha256sum")
	dist := t.TempDir()
	for name, data := range map[string]string{"tether_1_linux_amd64.tar.gz": "archive", "tether-relay_1_amd64.deb": "package"} {
		if err := os.WriteFile(filepath.Join(dist, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keys := t.TempDir()
	key := filepath.Join(keys, "release")
	mustRun(t, "", nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release@tether", "-f", key)
	t.Setenv("DIST_SIGNING_KEY", key)
	var log bytes.Buffer
	o := &options{dist: dist, log: &log}
	if err := o.checksums([]string{"tether_1_linux_amd64.tar.gz", "tether-relay_1_amd64.deb"}); err != nil {
		t.Fatal(err)
	}
	sums := mustRead(t, filepath.Join(dist, "SHA256SUMS"))
	if lines := strings.Split(strings.TrimSpace(sums), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[0], "  tether-relay_1_amd64.deb") {
		t.Errorf("SHA256SUMS:\n%s", sums)
	}
	mustRun(t, dist, nil, "sha256sum", "-c", "SHA256SUMS")

	pub := strings.Fields(mustRead(t, key+".pub"))
	signers := filepath.Join(keys, "allowed_signers")
	if err := os.WriteFile(signers, []byte("release@tether "+pub[0]+" "+pub[1]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(sums string) error {
		cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", signers, "-I", "release@tether", "-n", "file",
			"-s", filepath.Join(dist, "SHA256SUMS.sig"))
		cmd.Stdin = strings.NewReader(sums)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		return cmd.Run()
	}
	if err := verify(sums); err != nil {
		t.Errorf("the signature does not verify: %v", err)
	}
	if err := verify(strings.Replace(sums, "tether-relay", "tether-relax", 1)); err == nil {
		t.Error("a changed SHA256SUMS verified")
	}
}

func TestChecksumsUnsignedWithoutKey(t *testing.T) {
	dist := t.TempDir()
	os.WriteFile(filepath.Join(dist, "a.zip"), []byte("x"), 0o644)
	t.Setenv("DIST_SIGNING_KEY", "")
	var log bytes.Buffer
	if err := (&options{dist: dist, log: &log}).checksums([]string{"a.zip"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dist, "SHA256SUMS.sig")); err == nil {
		t.Error("a signature without a key")
	}
	if !strings.Contains(log.String(), "not signed") {
		t.Errorf("no message about the missing signature: %q", log.String())
	}
}
