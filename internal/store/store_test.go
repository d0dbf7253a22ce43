package store_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/tether-support/tether/internal/store"
)

// open opens a fresh database in a temporary directory, closed at cleanup.
func open(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "tether.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tether.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db2, err := store.Open(path)
	if err == nil {
		db2.Close()
		t.Fatal("second Open: got nil error, want locked")
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Open: got %v, want ErrLocked", err)
	}
	want := `store: database "` + path + `" is locked by another process`
	if got := err.Error(); len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("second Open: got %q, want prefix %q", got, want)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tether.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{Username: "alice", State: store.UserActive}
	if err := db.CreateUser(u); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMeta("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.UserByName("alice")
	if err != nil || got.ID != u.ID {
		t.Errorf("after reopen: got %+v, %v; want ID %q", got, err, u.ID)
	}
	if v, err := db.GetMeta("k"); err != nil || string(v) != "v" {
		t.Errorf("GetMeta after reopen: got %q, %v; want \"v\", nil", v, err)
	}
}

func TestMeta(t *testing.T) {
	db := open(t)
	if _, err := db.GetMeta("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMeta(missing): got %v, want ErrNotFound", err)
	}
	for _, v := range []string{"one", "two"} {
		if err := db.PutMeta("key", []byte(v)); err != nil {
			t.Fatal(err)
		}
		if got, err := db.GetMeta("key"); err != nil || string(got) != v {
			t.Errorf("GetMeta: got %q, %v; want %q, nil", got, err, v)
		}
	}
	if err := db.PutMeta("", []byte("x")); err == nil {
		t.Errorf("PutMeta(empty key): got nil, want error")
	}
}
