package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/tether-support/tether/internal/store"
)

// Meta keys under which LoadOrCreateKeys keeps the log's keys.
const (
	// MACKeyKey holds the 32-byte HMAC key.
	MACKeyKey = "audit_mac_key"
	// SigningKeyKey holds the ed25519 seed (32 bytes) of the head-signing key.
	SigningKeyKey = "audit_signing_key"
)

// LoadOrCreateKeys returns the audit MAC key and signing key kept in db's
// meta bucket, creating and storing random ones on first use. Keys kept in
// the same file as the log protect against edits by someone without the
// file (e.g. through a backup or export), not against someone who can read
// it; callers wanting more should keep the keys elsewhere and call New.
func LoadOrCreateKeys(db Store) ([]byte, ed25519.PrivateKey, error) {
	macKey, err := loadOrCreate(db, MACKeyKey)
	if err != nil {
		return nil, nil, err
	}
	seed, err := loadOrCreate(db, SigningKeyKey)
	if err != nil {
		return nil, nil, err
	}
	return macKey, ed25519.NewKeyFromSeed(seed), nil
}

// loadOrCreate returns the 32-byte secret stored under key, storing a
// random one if there is none.
func loadOrCreate(db Store, key string) ([]byte, error) {
	val, err := db.GetMeta(key)
	if err == nil {
		if len(val) != 32 {
			return nil, fmt.Errorf("audit: %s is %d bytes, want 32", key, len(val))
		}
		return val, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("audit: load %s: %w", key, err)
	}
	val = make([]byte, 32)
	rand.Read(val)
	if err := db.PutMeta(key, val); err != nil {
		return nil, fmt.Errorf("audit: store %s: %w", key, err)
	}
	return val, nil
}
