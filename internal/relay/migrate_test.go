package relay

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// oldPermissions lists what a role granted before recording.recipients
// existed: its effective set without the new permission.
func oldPermissions(r rbac.Role) []rbac.Permission {
	return slices.DeleteFunc(rbac.Effective([]rbac.Role{r}).List(), func(p rbac.Permission) bool { return p == rbac.RecordingRecipients })
}

func TestMigrateRole(t *testing.T) {
	tests := []struct {
		name       string
		role       rbac.Role
		changed    bool
		recipients bool
	}{
		{"everything", rbac.Role{Name: "all", Allow: []string{"*"}}, false, true},
		{"everything but review", rbac.Role{Name: "noreview", Allow: []string{"*"}, Deny: []string{"recording.review"}}, true, false},
		{"policy and review explicit", rbac.Role{Name: "pr", Allow: []string{"policy.manage", "recording.review"}}, true, true},
		{"policy without review", rbac.Role{Name: "pol", Allow: []string{"policy.manage", "user.manage"}}, false, false},
		{"recording wildcard without policy", rbac.Role{Name: "rev", Allow: []string{"recording.*", "audit.read"}}, true, false},
		{"recording wildcard with policy", rbac.Role{Name: "rp", Allow: []string{"recording.*", "policy.manage"}}, false, true},
		{"session only", rbac.Role{Name: "sess", Allow: []string{"session.*"}}, false, false},
		{"everything denied review by wildcard", rbac.Role{Name: "nr", Allow: []string{"*"}, Deny: []string{"recording.*"}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allow, changed := migrateRole(tt.role)
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v (allow %v)", changed, tt.changed, allow)
			}
			after := rbac.Role{Name: tt.role.Name, Allow: allow, Deny: tt.role.Deny}
			if err := rbac.ValidateRole(after); err != nil {
				t.Errorf("migrated role invalid: %v", err)
			}
			if got := rbac.Effective([]rbac.Role{after}).Has(rbac.RecordingRecipients); got != tt.recipients {
				t.Errorf("recording.recipients after migration = %v, want %v (allow %v)", got, tt.recipients, allow)
			}
			if got, want := oldPermissions(after), oldPermissions(tt.role); !slices.Equal(got, want) {
				t.Errorf("other permissions changed: got %v, want %v", got, want)
			}
		})
	}
}

// TestMigrationOfAnExistingDatabase stores custom roles as an older relay
// would have, reopens the data directory and checks they were rewritten
// once, and audited.
func TestMigrationOfAnExistingDatabase(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(context.Background(), InitOptions{Dir: dir, Admin: "root", Password: []byte("a long test passphrase")}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dbPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []store.Role{
		{Name: "orgadmin", Allow: []string{"*"}, Deny: []string{"recording.review", "emergency.use"}},
		{Name: "chief", Allow: []string{"policy.manage", "recording.review"}},
		{Name: "reviewer", Allow: []string{"recording.*"}},
	} {
		if err := db.PutRole(&r); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	// An older relay never wrote the marker.
	b, err := bolt.Open(dbPath(dir), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Delete([]byte(metaRecipientsMigrated)) }); err != nil {
		t.Fatal(err)
	}
	b.Close()

	open := func() *Server {
		s, err := New(Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	want := map[string]bool{"orgadmin": false, "chief": true, "reviewer": false}
	for name, has := range want {
		r, err := s.accounts.Role(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := rbac.Effective([]rbac.Role{r}).Has(rbac.RecordingRecipients); got != has {
			t.Errorf("%s: recording.recipients = %v, want %v (allow %v)", name, got, has, r.Allow)
		}
	}
	orgadmin, _ := s.accounts.Role("orgadmin")
	if !rbac.Effective([]rbac.Role{orgadmin}).Has(rbac.PolicyManage) {
		t.Errorf("orgadmin lost policy.manage: %v", orgadmin.Allow)
	}
	// A role created after the migration keeps its wildcard meaning.
	if err := s.db.PutRole(&store.Role{Name: "later", Allow: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open()
	defer s.Close()
	later, _ := s.accounts.Role("later")
	if !slices.Equal(later.Allow, []string{"*"}) {
		t.Errorf("the migration ran twice: later = %v", later.Allow)
	}
}
