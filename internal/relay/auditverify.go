package relay

import (
	"crypto/ed25519"
	"fmt"

	"tether/internal/audit"
	"tether/internal/store"
)

// VerifyAudit checks the audit chain in dir offline and returns how many
// entries it verified. The error names the first bad entry.
func VerifyAudit(dir string) (int, error) {
	if !Initialized(dir) {
		return 0, fmt.Errorf("%s holds no relay database", dir)
	}
	db, err := openStore(dir)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	mac, err := db.GetMeta(metaAuditMAC)
	if err != nil {
		return 0, fmt.Errorf("load audit MAC key: %w", err)
	}
	seed, err := db.GetMeta(metaAuditSign)
	if err != nil || len(seed) != ed25519.SeedSize {
		return 0, fmt.Errorf("load audit signing key: %v", err)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	if err := audit.Verify(db, mac, pub); err != nil {
		return 0, err
	}
	n := 0
	err = db.AuditRecords(0, func(*store.AuditRecord) error { n++; return nil })
	return n, err
}
