package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/passpolicy"
	"github.com/tether-support/tether/internal/store"
)

// fullUser returns a user with every field set.
func fullUser(name string) *store.User {
	return &store.User{
		Username: name, DisplayName: "Dr " + name, Email: name + "@example.org",
		Roles: []string{"technician", "auditor"}, Orgs: []string{"north"},
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", State: store.UserActive,
		PasswordChangedAt: t0, CreatedAt: t0, CreatedBy: "u_admin",
		DeviceGroups: []string{"ward-3"}, TOTPSecret: []byte{1, 2, 3}, TOTPPending: []byte{4},
		TOTPLastStep: 42, RecoveryCodes: [][32]byte{{1}, {2}},
		PasswordHistory: []store.PasswordHistoryEntry{{Hash: "old", RetiredAt: t0}},
		LastLoginAt:     t0, DeletedAt: t0, DeletedBy: "u_admin",
	}
}

func testUsers(t *testing.T, s suite) {
	db := s.new(t)
	u := fullUser("alice")
	must(t, "create alice", db.CreateUser(u))
	if len(u.ID) < 3 || u.ID[:2] != "u_" {
		t.Fatalf("CreateUser assigned ID %q, want u_…", u.ID)
	}
	for _, get := range []func() (*store.User, error){
		func() (*store.User, error) { return db.UserByID(u.ID) },
		func() (*store.User, error) { return db.UserByName("alice") },
	} {
		got, err := get()
		must(t, "read alice", err)
		if !reflect.DeepEqual(got, u) {
			t.Errorf("read back\n%+v\nwant\n%+v", got, u)
		}
	}
	bad := []struct {
		name string
		u    *store.User
		want error
	}{
		{"same username", &store.User{Username: "alice", State: store.UserActive}, store.ErrExists},
		{"same ID", &store.User{ID: u.ID, Username: "alice2", State: store.UserActive}, store.ErrExists},
	}
	for _, b := range bad {
		wantErr(t, "create with "+b.name, db.CreateUser(b.u), b.want)
	}
	if err := db.CreateUser(&store.User{State: store.UserActive}); err == nil {
		t.Error("create with empty username: got nil error")
	}
	_, err := db.UserByName("alice2")
	wantErr(t, "user refused as duplicate ID was not stored", err, store.ErrNotFound)
	_, err = db.UserByID("u_missing")
	wantErr(t, "UserByID(missing)", err, store.ErrNotFound)
	_, err = db.UserByName("nobody")
	wantErr(t, "UserByName(missing)", err, store.ErrNotFound)
	for _, n := range []string{"carol", "bob"} {
		must(t, "create "+n, db.CreateUser(&store.User{Username: n, State: store.UserActive}))
	}
	users, err := db.ListUsers()
	must(t, "list users", err)
	if len(users) != 3 {
		t.Fatalf("ListUsers: %d users, want 3", len(users))
	}
	for i := 1; i < len(users); i++ {
		if users[i-1].ID >= users[i].ID {
			t.Errorf("ListUsers not ordered by ID: %q before %q", users[i-1].ID, users[i].ID)
		}
	}
	if n, err := db.CountUsers(); err != nil || n != 3 {
		t.Errorf("CountUsers: %d, %v; want 3", n, err)
	}
	testUserUpdate(t, db, u.ID)
}

// testUserUpdate checks that UpdateUser writes what fn changed, nothing
// when fn fails, and refuses a new ID.
func testUserUpdate(t *testing.T, db store.Store, id ids.UserID) {
	must(t, "update", db.UpdateUser(id, func(u *store.User) error {
		u.DisplayName, u.Roles = "Alice", []string{"admin"}
		return nil
	}))
	wantErr(t, "update with failing fn", db.UpdateUser(id, func(u *store.User) error {
		u.DisplayName = "lost"
		return errBoom
	}), errBoom)
	if err := db.UpdateUser(id, func(u *store.User) error { u.ID = "u_other"; return nil }); err == nil {
		t.Error("update changing the ID: got nil error")
	}
	wantErr(t, "update missing", db.UpdateUser("u_missing", func(*store.User) error { return nil }), store.ErrNotFound)
	got, err := db.UserByID(id)
	must(t, "read after update", err)
	if got.DisplayName != "Alice" || !reflect.DeepEqual(got.Roles, []string{"admin"}) {
		t.Errorf("after updates: %q %v, want \"Alice\" [admin]", got.DisplayName, got.Roles)
	}
	_, err = db.UserByID("u_other")
	wantErr(t, "refused ID change left no copy", err, store.ErrNotFound)
}

func testUserStates(t *testing.T, s suite) {
	db := s.new(t)
	u := &store.User{Username: "dave", State: store.UserPending}
	must(t, "create", db.CreateUser(u))
	for _, state := range []string{store.UserActive, store.UserMustChangePassword, store.UserLocked,
		store.UserDisabled, store.UserPending, store.UserActive} {
		must(t, "set "+state, db.UpdateUser(u.ID, func(u *store.User) error { u.State = state; return nil }))
		got, err := db.UserByName("dave")
		must(t, "read", err)
		if got.State != state {
			t.Errorf("state %q read back as %q", state, got.State)
		}
	}
}

func testPasswordHistory(t *testing.T, s suite) {
	db := s.new(t)
	u := &store.User{Username: "erin", State: store.UserActive, PasswordHash: "h0"}
	must(t, "create", db.CreateUser(u))
	for i := 1; i <= 5; i++ {
		must(t, "change password", db.UpdateUser(u.ID, func(u *store.User) error {
			e := store.PasswordHistoryEntry{Hash: u.PasswordHash, RetiredAt: t0.Add(time.Duration(i) * time.Hour)}
			u.PasswordHistory = append([]store.PasswordHistoryEntry{e}, u.PasswordHistory...)
			u.PasswordHash = fmt.Sprintf("h%d", i)
			return nil
		}))
	}
	got, err := db.UserByID(u.ID)
	must(t, "read", err)
	if got.PasswordHash != "h5" || len(got.PasswordHistory) != 5 {
		t.Fatalf("hash %q with %d retired, want h5 with 5", got.PasswordHash, len(got.PasswordHistory))
	}
	for i, e := range got.PasswordHistory {
		if want := fmt.Sprintf("h%d", 4-i); e.Hash != want || !e.RetiredAt.Equal(t0.Add(time.Duration(5-i)*time.Hour)) {
			t.Errorf("history[%d] = %q at %v, want %q newest first", i, e.Hash, e.RetiredAt, want)
		}
	}
}

func testUserRename(t *testing.T, s suite) {
	db := s.new(t)
	a := &store.User{Username: "frank", State: store.UserActive}
	b := &store.User{Username: "grace", State: store.UserActive}
	must(t, "create frank", db.CreateUser(a))
	must(t, "create grace", db.CreateUser(b))
	cases := []struct {
		name, to string
		want     error
	}{
		{"to a taken name", "grace", store.ErrExists},
		{"to a free name", "frank2", nil},
	}
	for _, c := range cases {
		wantErr(t, "rename "+c.name, db.UpdateUser(a.ID, func(u *store.User) error { u.Username = c.to; return nil }), c.want)
	}
	if err := db.UpdateUser(a.ID, func(u *store.User) error { u.Username = ""; return nil }); err == nil {
		t.Error("rename to empty: got nil error")
	}
	if got, err := db.UserByName("grace"); err != nil || got.ID != b.ID {
		t.Errorf("grace after refused rename: %v, %v", got, err)
	}
	if got, err := db.UserByName("frank2"); err != nil || got.ID != a.ID {
		t.Errorf("frank2 after rename: %v, %v", got, err)
	}
	_, err := db.UserByName("frank")
	wantErr(t, "old name after rename", err, store.ErrNotFound)
	must(t, "reuse the freed name", db.CreateUser(&store.User{Username: "frank", State: store.UserActive}))
}

// testLockout checks the lockout fields and the exact count of failed
// sign-ins under concurrent updaters (a lost update would unlock early).
func testLockout(t *testing.T, s suite) {
	db := s.new(t)
	u := &store.User{Username: "heidi", State: store.UserActive}
	must(t, "create", db.CreateUser(u))
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := db.UpdateUser(u.ID, func(u *store.User) error { u.FailedLogins++; return nil }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	must(t, "lock", db.UpdateUser(u.ID, func(u *store.User) error {
		u.State, u.LockedAt = store.UserLocked, t0
		return nil
	}))
	got, err := db.UserByID(u.ID)
	must(t, "read", err)
	if got.FailedLogins != workers*each || got.State != store.UserLocked || !got.LockedAt.Equal(t0) {
		t.Errorf("after %d failures: %d failures, state %q locked at %v", workers*each, got.FailedLogins, got.State, got.LockedAt)
	}
}

func testUnknownLogins(t *testing.T, s suite) {
	db := s.new(t)
	if n, err := db.UnknownLoginFailures("ghost"); err != nil || n != 0 {
		t.Errorf("unseen name: %d, %v; want 0", n, err)
	}
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := db.AddUnknownLoginFailure("ghost"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, err := db.AddUnknownLoginFailure("other"); err != nil || n != 1 {
		t.Errorf("first failure of another name: %d, %v; want 1", n, err)
	}
	if n, err := db.UnknownLoginFailures("ghost"); err != nil || n != workers*each {
		t.Errorf("ghost: %d, %v; want %d", n, err, workers*each)
	}
}

func testOrgs(t *testing.T, s suite) {
	db := s.new(t)
	pol := passpolicy.Policy{MinLength: 14, MaxLength: 128, HistoryCount: 5}
	for _, n := range []string{"south", "north"} {
		must(t, "create "+n, db.CreateOrg(&store.Org{Name: n, Policy: pol, CreatedAt: t0, CreatedBy: "u_a"}))
	}
	wantErr(t, "duplicate org", db.CreateOrg(&store.Org{Name: "north"}), store.ErrExists)
	if err := db.CreateOrg(&store.Org{}); err == nil {
		t.Error("org with empty name: got nil error")
	}
	_, err := db.OrgByName("east")
	wantErr(t, "missing org", err, store.ErrNotFound)
	must(t, "update", db.UpdateOrg("north", func(o *store.Org) error { o.Policy.MinLength = 16; return nil }))
	wantErr(t, "update failing", db.UpdateOrg("north", func(o *store.Org) error { o.Policy.MinLength = 99; return errBoom }), errBoom)
	if err := db.UpdateOrg("north", func(o *store.Org) error { o.Name = "west"; return nil }); err == nil {
		t.Error("renaming an org: got nil error")
	}
	wantErr(t, "update missing", db.UpdateOrg("east", func(*store.Org) error { return nil }), store.ErrNotFound)
	o, err := db.OrgByName("north")
	must(t, "read", err)
	if o.Policy.MinLength != 16 || o.Policy.HistoryCount != 5 || !o.CreatedAt.Equal(t0) || o.CreatedBy != "u_a" {
		t.Errorf("org read back as %+v", o)
	}
	orgs, err := db.ListOrgs()
	must(t, "list", err)
	if len(orgs) != 2 || orgs[0].Name != "north" || orgs[1].Name != "south" {
		t.Errorf("ListOrgs = %v, want north, south", orgs)
	}
}

func testRoles(t *testing.T, s suite) {
	db := s.new(t)
	r := &store.Role{Name: "nurse", Allow: []string{"session.attended"}, Deny: []string{"files.*"}, Description: "d", CreatedAt: t0}
	must(t, "put", db.PutRole(r))
	must(t, "put other", db.PutRole(&store.Role{Name: "lab"}))
	r.Allow = []string{"session.*"}
	must(t, "replace", db.PutRole(r))
	got, err := db.RoleByName("nurse")
	must(t, "read", err)
	if !reflect.DeepEqual(got, r) {
		t.Errorf("role read back %+v, want %+v", got, r)
	}
	roles, err := db.ListRoles()
	must(t, "list", err)
	if len(roles) != 2 || roles[0].Name != "lab" || roles[1].Name != "nurse" {
		t.Errorf("ListRoles = %v, want lab, nurse", roles)
	}
	must(t, "delete", db.DeleteRole("lab"))
	wantErr(t, "delete again", db.DeleteRole("lab"), store.ErrNotFound)
	_, err = db.RoleByName("lab")
	wantErr(t, "read deleted", err, store.ErrNotFound)
}
