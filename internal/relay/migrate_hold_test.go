package relay

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// TestHoldMigrationOfAnExistingDatabase: custom roles whose wildcards
// would grant the new recording.hold lose exactly that when the relay
// upgrades; a role that names it keeps it; the migration runs once.
func TestHoldMigrationOfAnExistingDatabase(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(context.Background(), InitOptions{Dir: dir, Admin: "root", Password: []byte("a long test passphrase")}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dbPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []store.Role{
		{Name: "chief", Allow: []string{"*"}, Deny: []string{"emergency.use"}},
		{Name: "rec", Allow: []string{"recording.*"}},
		{Name: "keeper", Allow: []string{"recording.list", "recording.hold"}},
	} {
		if err := db.PutRole(&r); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := New(Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, want := range map[string]bool{"chief": false, "rec": false, "keeper": true} {
		r, err := s.accounts.Role(name)
		if err != nil {
			t.Fatal(err)
		}
		eff := rbac.Effective([]rbac.Role{r})
		if eff.Has(rbac.RecordingHold) != want || !eff.Has(rbac.RecordingList) {
			t.Errorf("%s after the migration: %v", name, eff.List())
		}
		if name == "rec" && !eff.Has(rbac.RecordingReview) {
			t.Errorf("rec lost recording.review: %v", eff.List())
		}
	}
	if _, err := s.db.GetMeta(metaHoldMigrated); err != nil {
		t.Errorf("migration not marked done: %v", err)
	}
}
