package relay

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/backup"
	"github.com/tether-support/tether/internal/store"
)

// RestoreResult says what Restore put back.
type RestoreResult struct {
	// Manifest is the archive's.
	Manifest *backup.Manifest
	// AuditEntries is how many audit entries verified.
	AuditEntries int
}

// Restore puts the archive from into the data directory dir, which must
// be missing or empty. It extracts into a new directory on dir's file
// system (inside an empty dir, beside a missing one), checks the
// database (bbolt's consistency check, Tether's buckets) and the audit
// chain, records relay.restore in the audit log (actor "relay host"), and
// only then moves it into place. A bad archive is a clear
// error and leaves nothing behind.
func Restore(dir, from string) (*RestoreResult, error) {
	exists, err := checkRestoreTarget(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(from)
	if err != nil {
		return nil, fmt.Errorf("open the backup: %w", err)
	}
	defer f.Close()
	// Extract on the target's file system, so that putting it in place is
	// a rename: into the empty DIR itself (it may be a mount point or a
	// service's state directory), else beside the missing one.
	parent := dir
	if !exists {
		parent = filepath.Dir(filepath.Clean(dir))
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(parent, ".tether-restore-*")
	if err != nil {
		return nil, fmt.Errorf("make a directory to restore into: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once moved into place
	m, err := backup.Extract(f, tmp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	n, err := checkRestored(tmp, m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	if err := putInPlace(tmp, dir, exists); err != nil {
		return nil, fmt.Errorf("put the restored files in place: %w", err)
	}
	syncDir(filepath.Dir(filepath.Clean(dir)))
	return &RestoreResult{Manifest: m, AuditEntries: n}, nil
}

// putInPlace makes the checked directory tmp the data directory dir:
// a rename when dir is missing; when dir exists (empty, with tmp inside
// it), each entry of tmp moves up, and dir becomes 0700. If a move fails
// the entries moved so far are removed, leaving dir empty.
func putInPlace(tmp, dir string, exists bool) error {
	if !exists {
		return os.Rename(tmp, dir)
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	var moved []string
	for _, e := range ents {
		dst := filepath.Join(dir, e.Name())
		if err := os.Rename(filepath.Join(tmp, e.Name()), dst); err != nil {
			for _, m := range moved {
				os.RemoveAll(m)
			}
			return err
		}
		moved = append(moved, dst)
	}
	syncDir(dir)
	return os.Chmod(dir, 0o700)
}

// checkRestoreTarget refuses a dir that exists and is not an empty
// directory, and reports whether it exists.
func checkRestoreTarget(dir string) (exists bool, err error) {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s: %w", dir, err)
	case len(ents) > 0:
		return true, fmt.Errorf("%s is not empty; restore only into a new or empty directory (move the old one aside first)", dir)
	}
	return true, nil
}

// checkRestored checks the extracted directory and records the restore in
// its audit log; it returns how many audit entries verified.
func checkRestored(dir string, m *backup.Manifest) (int, error) {
	if err := store.CheckFile(dbPath(dir)); err != nil {
		return 0, err
	}
	n, err := VerifyAudit(dir)
	if err != nil {
		return 0, fmt.Errorf("the restored audit log does not verify: %w", err)
	}
	db, err := openStore(dir)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	ev := audit.NewEvent(hostActor, "relay.restore", "", "success", hostActor,
		"backup_created", m.Created.UTC().Format(time.RFC3339), "online", fmt.Sprint(m.Online), "files", fmt.Sprint(len(m.Files)))
	if err := auditHostAction(dir, db, "restore", ev); err != nil {
		return 0, err
	}
	return n + 1, nil
}
