package relay

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

// headKeyFile is the file in the data directory holding the seed of the
// key that signs the audit chain's head, outside the database so that
// whoever copies or rewrites relay.db alone cannot sign heads.
const headKeyFile = "audit-head.key"

func headKeyPath(dir string) string { return filepath.Join(dir, headKeyFile) }

// writeHeadKey creates dir's head key file (0600) holding seed; it
// refuses to replace an existing one.
func writeHeadKey(dir string, seed []byte) error {
	f, err := os.OpenFile(headKeyPath(dir), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create audit head key: %w", err)
	}
	_, werr := f.Write(seed)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write audit head key: %w", err)
	}
	return nil
}

// headKey returns the audit head-signing key of the data directory dir.
// A relay made before the key lived in a file keeps its seed in the store:
// the first call moves it to the file (the same key, so heads signed
// before stay verifiable) and blanks it in the store.
func headKey(dir string, db store.Store) (ed25519.PrivateKey, error) {
	seed, err := os.ReadFile(headKeyPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		if seed, err = migrateHeadKey(dir, db); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("read audit head key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit head key %s is %d bytes, want %d", headKeyPath(dir), len(seed), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// migrateHeadKey moves the head key's seed from the store to its file.
func migrateHeadKey(dir string, db store.Store) ([]byte, error) {
	seed, err := db.GetMeta(metaAuditSign)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("load audit signing key: no %s in %s and none in the database (%v)", headKeyFile, dir, err)
	}
	if err := writeHeadKey(dir, seed); err != nil {
		return nil, err
	}
	if err := db.PutMeta(metaAuditSign, []byte{}); err != nil {
		return nil, fmt.Errorf("remove the audit signing key from the database: %w", err)
	}
	return seed, nil
}

// auditKeys returns the audit chain's MAC key (kept in the store) and its
// head-signing key (kept in dir, see headKey).
func auditKeys(dir string, db store.Store) ([]byte, ed25519.PrivateKey, error) {
	mac, err := db.GetMeta(metaAuditMAC)
	if err != nil {
		return nil, nil, fmt.Errorf("load audit MAC key: %w", err)
	}
	signer, err := headKey(dir, db)
	if err != nil {
		return nil, nil, err
	}
	return mac, signer, nil
}

// openAuditLog returns the audit log of db with dir's keys and the clock now.
func openAuditLog(dir string, db store.Store) (*audit.Log, error) {
	mac, signer, err := auditKeys(dir, db)
	if err != nil {
		return nil, err
	}
	return audit.New(db, mac, signer, now), nil
}

// auditHostAction records ev, an action taken on the relay host with the
// relay stopped (what names it in errors), and signs the new head.
func auditHostAction(dir string, db store.Store, what string, ev audit.Event) error {
	log, err := openAuditLog(dir, db)
	if err != nil {
		return err
	}
	if _, err := log.Append(ev); err != nil {
		return fmt.Errorf("audit the %s: %w", what, err)
	}
	if err := log.SignHead(); err != nil {
		return fmt.Errorf("sign the audit head: %w", err)
	}
	return nil
}
