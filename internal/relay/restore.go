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
// be missing or empty. It extracts into a new directory beside dir,
// checks the database (bbolt's consistency check, Tether's buckets) and
// the audit chain, records relay.restore in the audit log (actor "relay
// host"), and only then renames it to dir. A bad archive is a clear error
// and leaves nothing behind.
func Restore(dir, from string) (*RestoreResult, error) {
	if err := checkRestoreTarget(dir); err != nil {
		return nil, err
	}
	f, err := os.Open(from)
	if err != nil {
		return nil, fmt.Errorf("open the backup: %w", err)
	}
	defer f.Close()
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".tether-restore-*")
	if err != nil {
		return nil, fmt.Errorf("make a directory to restore into: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	m, err := backup.Extract(f, tmp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	n, err := checkRestored(tmp, m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	// An empty dir makes way (rmdir fails on anything else); os.Rename
	// does not replace a directory.
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("put the restored directory in place: %w", err)
	}
	syncDir(parent)
	return &RestoreResult{Manifest: m, AuditEntries: n}, nil
}

// checkRestoreTarget refuses a dir that exists and is not an empty
// directory.
func checkRestoreTarget(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", dir, err)
	case len(ents) > 0:
		return fmt.Errorf("%s is not empty; restore only into a new or empty directory (move the old one aside first)", dir)
	}
	return nil
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
	log, err := openAuditLog(dir, db)
	if err != nil {
		return 0, err
	}
	_, err = log.Append(audit.NewEvent(hostActor, "relay.restore", "", "success", hostActor,
		"backup_created", m.Created.UTC().Format(time.RFC3339), "online", fmt.Sprint(m.Online), "files", fmt.Sprint(len(m.Files))))
	if err != nil {
		return 0, fmt.Errorf("audit the restore: %w", err)
	}
	if err := log.SignHead(); err != nil {
		return 0, fmt.Errorf("sign the audit head: %w", err)
	}
	return n + 1, nil
}
