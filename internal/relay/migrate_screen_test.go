package relay

import (
	"context"
	"io"
	"log/slog"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// writtenOut is "*" as an earlier migration wrote it out: every permission
// an older relay knew, but neither screen permission nor recipients.
var writtenOut = []string{"session.start", "session.attended", "session.unattended", "session.files",
	"session.clipboard", "session.view_all", "session.terminate", "device.enroll", "device.manage", "user.manage"}

func TestMigrateScreenRole(t *testing.T) {
	tests := []struct {
		name          string
		role          rbac.Role
		changed       bool
		view, control bool
	}{
		{"session wildcard", rbac.Role{Name: "rs", Allow: []string{"session.*"}}, false, true, true},
		{"everything", rbac.Role{Name: "ra", Allow: []string{"*"}}, false, true, true},
		{"written out by an earlier migration", rbac.Role{Name: "rw", Allow: writtenOut}, true, true, true},
		{"hand-picked technician", rbac.Role{Name: "rh", Allow: []string{"session.start", "session.unattended", "session.files"}}, false, false, false},
		{"session wildcard minus terminate", rbac.Role{Name: "rt", Allow: []string{"session.*"}, Deny: []string{"session.terminate"}}, false, true, true},
		{"no sessions", rbac.Role{Name: "rn", Allow: []string{"audit.read"}}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allow, changed := migrateScreenRole(tt.role)
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v (allow %v)", changed, tt.changed, allow)
			}
			after := rbac.Role{Name: tt.role.Name, Allow: allow, Deny: tt.role.Deny}
			if err := rbac.ValidateRole(after); err != nil {
				t.Fatalf("migrated role invalid: %v", err)
			}
			eff := rbac.Effective([]rbac.Role{after})
			if eff.Has(rbac.SessionScreenView) != tt.view || eff.Has(rbac.SessionScreenControl) != tt.control {
				t.Errorf("after migration view %v control %v, want %v %v (allow %v)", eff.Has(rbac.SessionScreenView),
					eff.Has(rbac.SessionScreenControl), tt.view, tt.control, allow)
			}
		})
	}
}

// TestScreenMigrationOfAnExistingDatabase reopens a data directory an
// older relay wrote: the written-out role gains both screen permissions,
// once, and the rewrite is audited.
func TestScreenMigrationOfAnExistingDatabase(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(context.Background(), InitOptions{Dir: dir, Admin: "root", Password: []byte("a long test passphrase")}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dbPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []store.Role{{Name: "orgadmin", Allow: writtenOut}, {Name: "helpdesk", Allow: []string{"session.start", "session.attended"}}} {
		if err := db.PutRole(&r); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	b, err := bolt.Open(dbPath(dir), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Delete([]byte(metaScreenMigrated)) }); err != nil {
		t.Fatal(err)
	}
	b.Close()
	s, err := New(Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, want := range map[string]bool{"orgadmin": true, "helpdesk": false} {
		r, err := s.accounts.Role(name)
		if err != nil {
			t.Fatal(err)
		}
		eff := rbac.Effective([]rbac.Role{r})
		if eff.Has(rbac.SessionScreenView) != want || eff.Has(rbac.SessionScreenControl) != want {
			t.Errorf("%s: screen permissions %v/%v, want %v (allow %v)", name, eff.Has(rbac.SessionScreenView),
				eff.Has(rbac.SessionScreenControl), want, r.Allow)
		}
	}
}
