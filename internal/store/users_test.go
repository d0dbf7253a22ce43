package store_test

import (
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store"
)

func TestUsers(t *testing.T) {
	db := open(t)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	alice := &store.User{Username: "alice", DisplayName: "Alice", Roles: []string{"admin"}, State: store.UserActive, CreatedAt: now}
	if err := db.CreateUser(alice); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^u_[a-z2-7]{26}$`).MatchString(alice.ID.String()) {
		t.Errorf("CreateUser: got ID %q, want u_ + 26 base32", alice.ID)
	}
	if err := db.CreateUser(&store.User{Username: "alice"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateUser(duplicate name): got %v, want ErrExists", err)
	}
	if err := db.CreateUser(&store.User{ID: alice.ID, Username: "other"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateUser(duplicate ID): got %v, want ErrExists", err)
	}
	if err := db.CreateUser(&store.User{Username: "bob", State: store.UserActive}); err != nil {
		t.Fatal(err)
	}

	byID, err := db.UserByID(alice.ID)
	if err != nil || byID.Username != "alice" || !byID.CreatedAt.Equal(now) || !slices.Equal(byID.Roles, []string{"admin"}) {
		t.Errorf("UserByID: got %+v, %v; want alice", byID, err)
	}
	if _, err := db.UserByID("u_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID(missing): got %v, want ErrNotFound", err)
	}
	if _, err := db.UserByName("carol"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByName(missing): got %v, want ErrNotFound", err)
	}
	if n, err := db.CountUsers(); err != nil || n != 2 {
		t.Errorf("CountUsers: got %d, %v; want 2, nil", n, err)
	}
	users, err := db.ListUsers()
	if err != nil || len(users) != 2 {
		t.Errorf("ListUsers: got %d users, %v; want 2, nil", len(users), err)
	}
}

func TestUpdateUser(t *testing.T) {
	db := open(t)
	alice := &store.User{Username: "alice", State: store.UserActive}
	bob := &store.User{Username: "bob", State: store.UserActive}
	for _, u := range []*store.User{alice, bob} {
		if err := db.CreateUser(u); err != nil {
			t.Fatal(err)
		}
	}
	err := db.UpdateUser(alice.ID, func(u *store.User) error {
		u.FailedLogins++
		u.State = store.UserLocked
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := db.UserByName("alice"); u.FailedLogins != 1 || u.State != store.UserLocked {
		t.Errorf("after update: got %d failures, state %q; want 1, locked", u.FailedLogins, u.State)
	}

	boom := errors.New("boom")
	if err := db.UpdateUser(alice.ID, func(u *store.User) error { u.State = "x"; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateUser(fn fails): got %v, want boom", err)
	}
	if u, _ := db.UserByID(alice.ID); u.State != store.UserLocked {
		t.Errorf("after failed update: got state %q, want locked (unchanged)", u.State)
	}

	tests := []struct {
		name    string
		fn      func(*store.User) error
		wantErr error
	}{
		{"rename to taken", func(u *store.User) error { u.Username = "bob"; return nil }, store.ErrExists},
		{"change ID", func(u *store.User) error { u.ID = "u_x"; return nil }, nil},
		{"empty name", func(u *store.User) error { u.Username = ""; return nil }, nil},
	}
	for _, tt := range tests {
		err := db.UpdateUser(alice.ID, tt.fn)
		if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
			t.Errorf("%s: got %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
	if err := db.UpdateUser("u_missing", func(*store.User) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser(missing): got %v, want ErrNotFound", err)
	}

	if err := db.UpdateUser(alice.ID, func(u *store.User) error { u.Username = "alicia"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserByName("alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old name after rename: got %v, want ErrNotFound", err)
	}
	if u, err := db.UserByName("alicia"); err != nil || u.ID != alice.ID {
		t.Errorf("new name after rename: got %+v, %v; want ID %q", u, err, alice.ID)
	}
	if err := db.CreateUser(&store.User{Username: "alice"}); err != nil {
		t.Errorf("CreateUser(freed name): got %v, want nil", err)
	}
}
