package relay

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgstore"
)

// MigrateResult says what MigrateToPostgres copied.
type MigrateResult struct {
	// Counts is the number of records copied per bbolt bucket.
	Counts map[string]int
	// AuditEntries is how many audit entries verified in the copy.
	AuditEntries int
	// Target is the database URL without its password.
	Target string
}

// MigrateToPostgres moves the state of the bbolt installation in dir into
// the empty PostgreSQL database at url: it copies every bucket in one
// transaction, verifies the copied audit chain with the directory's keys,
// then records the database in dir/store-url and renames relay.db to
// relay.db.migrated (kept as a fallback; nothing reads it any more). The
// relay must be stopped. The TLS key and certificate, the audit-head key
// and the other files stay in dir.
func MigrateToPostgres(dir, url string) (*MigrateResult, error) {
	if !Initialized(dir) {
		return nil, fmt.Errorf("%s holds no relay database", dir)
	}
	if rec, err := readStoreRecord(dir); err != nil || rec != "" {
		return nil, errors.Join(err, fmt.Errorf("%s is already on the database %s", dir, rec))
	}
	src, err := store.Open(dbPath(dir))
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%s is in use: stop the relay before migrating", dbPath(dir))
	}
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := pgstore.Open(pgstore.Config{URL: url})
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	counts, err := dst.ImportBolt(src)
	if err != nil {
		return nil, err
	}
	mac, signer, err := auditKeys(dir, dst)
	if err != nil {
		return nil, err
	}
	if err := audit.Verify(dst, mac, signer.Public().(ed25519.PublicKey)); err != nil {
		return nil, fmt.Errorf("the copied audit chain does not verify (the database keeps the copy; %s is unchanged): %w", dir, err)
	}
	if err := writeStoreRecord(dir, url); err != nil {
		return nil, err
	}
	src.Close()
	if err := os.Rename(dbPath(dir), dbPath(dir)+".migrated"); err != nil {
		return nil, fmt.Errorf("keep the old database aside: %w", err)
	}
	return &MigrateResult{Counts: counts, AuditEntries: counts["audit"], Target: RedactStoreURL(url)}, nil
}
