package relay

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/tether-support/tether/internal/store"
)

// TestHeadKeyOutsideTheDatabase checks that init keeps the audit head key
// in its own 0600 file and none of it in relay.db.
func TestHeadKeyOutsideTheDatabase(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(context.Background(), InitOptions{Dir: dir, Admin: "root", Password: []byte("a long test passphrase")}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(headKeyPath(dir))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("head key file: %v %v", fi, err)
	}
	seed, _ := os.ReadFile(headKeyPath(dir))
	raw, err := os.ReadFile(dbPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, seed) {
		t.Error("relay.db holds the head key's seed")
	}
	if n, err := VerifyAudit(dir); err != nil || n == 0 {
		t.Errorf("VerifyAudit: %d, %v", n, err)
	}
}

// TestHeadKeyMigration puts the seed back into the database as an older
// relay kept it: the first open moves it to the file, blanks it in the
// database, and the heads signed before still verify.
func TestHeadKeyMigration(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(context.Background(), InitOptions{Dir: dir, Admin: "root", Password: []byte("a long test passphrase")}); err != nil {
		t.Fatal(err)
	}
	seed, _ := os.ReadFile(headKeyPath(dir))
	os.Remove(headKeyPath(dir))
	db, err := store.Open(dbPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutMeta(metaAuditSign, seed); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if _, err := VerifyAudit(dir); err != nil {
		t.Fatalf("VerifyAudit after migration: %v", err)
	}
	got, err := os.ReadFile(headKeyPath(dir))
	if err != nil || !bytes.Equal(got, seed) {
		t.Fatalf("migrated head key: %x, %v; want the database's seed", got, err)
	}
	db, err = store.Open(dbPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	left, _ := db.GetMeta(metaAuditSign)
	db.Close()
	if len(left) != 0 {
		t.Errorf("the database still holds %d bytes of the head key", len(left))
	}
	if _, err := VerifyAudit(dir); err != nil {
		t.Fatalf("VerifyAudit on the migrated directory: %v", err)
	}
	os.Remove(headKeyPath(dir))
	if _, err := VerifyAudit(dir); err == nil {
		t.Error("VerifyAudit without any head key succeeded")
	}
}
