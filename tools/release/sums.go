package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// sumsFile is the checksum file's name, and the namespace its signature is
// made in (ssh-keygen -Y sign -n file).
const (
	sumsFile      = "SHA256SUMS"
	signNamespace = "file"
)

// checksums writes DIST/SHA256SUMS for the named files of DIST (in the
// format `sha256sum -c` reads) and signs it when DIST_SIGNING_KEY names an
// SSH private key.
func (o *options) checksums(names []string) error {
	text, err := sums(o.dist, names)
	if err != nil {
		return err
	}
	path := filepath.Join(o.dist, sumsFile)
	if err := os.WriteFile(path, text, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.log, "wrote %s\n", sumsFile)
	key := os.Getenv("DIST_SIGNING_KEY")
	if key == "" {
		fmt.Fprintf(o.log, "DIST_SIGNING_KEY is not set: %s is not signed\n", sumsFile)
		return nil
	}
	if err := sign(path, key); err != nil {
		return err
	}
	fmt.Fprintf(o.log, "wrote %s.sig\n", sumsFile)
	return nil
}

// sums returns "HEX  NAME" lines for the files of dir, sorted by name.
func sums(dir string, names []string) ([]byte, error) {
	names = append([]string(nil), names...)
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("checksum %s: %w", name, err)
		}
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), name)
	}
	return []byte(b.String()), nil
}

// sign writes PATH.sig, an SSH signature of path in the "file" namespace,
// with the private key file key (unencrypted, or its passphrase in a
// running ssh-agent: nothing is asked on a terminal).
func sign(path, key string) error {
	os.Remove(path + ".sig") // ssh-keygen will not overwrite it
	cmd := exec.Command("ssh-keygen", "-q", "-Y", "sign", "-f", key, "-n", signNamespace, path)
	cmd.Stdin = nil
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sign %s with DIST_SIGNING_KEY: %w: %s", filepath.Base(path), err, strings.TrimSpace(string(out)))
	}
	return nil
}
