package backup

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// Extract reads the archive from r into the directory root, which must
// exist and be empty, and returns its manifest. Directories are made 0700
// and files with their archived mode (at most 0644), each synced. Entries
// cannot leave root (os.Root, and Read's name checks). On error root holds
// whatever was written before it; the caller removes it.
func Extract(r io.Reader, root string) (*Manifest, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	if len(ents) > 0 {
		return nil, fmt.Errorf("backup: %s is not empty", root)
	}
	rt, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	return Read(r, dirSink{rt})
}

// dirSink writes entries under a directory.
type dirSink struct{ root *os.Root }

// Dir makes the directory (and any missing parent) 0700.
func (d dirSink) Dir(name string) error {
	return d.root.MkdirAll(name, 0o700)
}

// File writes a new file, never replacing one.
func (d dirSink) File(name string, mode fs.FileMode, r io.Reader) error {
	if dir := path.Dir(name); dir != "." {
		if err := d.root.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	if mode == 0 {
		mode = 0o600
	}
	f, err := d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, werr := io.Copy(f, r)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return d.root.Chmod(name, mode)
}
