package relay

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tether-support/tether/internal/tlsconf"
)

// ExportCluster writes the cluster bundle of the data directory dir to
// out (mode 0600, written beside it and renamed into place; an existing
// out is refused). dir must keep its state in PostgreSQL: a bbolt data
// directory has nothing to share. A rotation caught in its switch is
// refused (export again once the relay has switched).
func ExportCluster(dir, out string) (*Bundle, error) {
	if err := isDataDir(dir); err != nil {
		return nil, err
	}
	if !usesDatabase(dir) {
		return nil, fmt.Errorf("%s keeps its state in a bbolt file (relay.db), which no other relay can share: move it to PostgreSQL with `relay migrate` first", dir)
	}
	if err := checkBackupOut(BackupOptions{Dir: dir, Out: out}); err != nil {
		return nil, err
	}
	b, err := collectBundle(dir)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".tether-cluster-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create the bundle file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	bw := bufio.NewWriter(tmp)
	if err := errors.Join(tmp.Chmod(0o600), writeBundle(bw, b), bw.Flush(), tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, fmt.Errorf("put the bundle in place: %w", err)
	}
	syncDir(filepath.Dir(out))
	return b, nil
}

// collectBundle reads the files of a bundle from dir and checks them as
// ReadBundle would.
func collectBundle(dir string) (*Bundle, error) {
	rot, err := tlsconf.ReadRotation(tlsDir(dir))
	if err != nil {
		return nil, err
	}
	if rot != nil && rot.Switching {
		return nil, fmt.Errorf("%s is switching to its next certificate; start the relay (or wait 10 s) and export again", dir)
	}
	files := map[string][]byte{}
	need := append([]string{BundleKind.First, headKeyFile}, bundleTLSFiles...)
	if rot != nil {
		need = append(need, bundleNextFiles...)
	}
	for _, name := range need {
		if files[name], err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	b := &Bundle{Files: files, Created: now()}
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return b, nil
}

// writeBundleFiles writes the files of b under dir: directories 0700,
// files 0600, each written beside its name and renamed into place.
func writeBundleFiles(dir string, b *Bundle, names []string) error {
	for _, name := range names {
		body, ok := b.Files[name]
		if !ok {
			continue
		}
		if err := writeFileAtomic(filepath.Join(dir, filepath.FromSlash(name)), body); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic replaces p with body (mode 0600), making its directory
// (0700) if needed.
func writeFileAtomic(p string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(body)
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// readBundleFile opens and reads the bundle from.
func readBundleFile(from string) (*Bundle, error) {
	f, err := os.Open(from)
	if err != nil {
		return nil, fmt.Errorf("open the bundle: %w", err)
	}
	defer f.Close()
	b, err := ReadBundle(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return b, nil
}
