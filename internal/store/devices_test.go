package store_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

func TestDevices(t *testing.T) {
	db := open(t)
	key := bytes.Repeat([]byte{7}, 32)
	d := &store.Device{Name: "kiosk-1", Group: "lab", PublicKey: key, EnrolledAt: t0, EnrolledBy: "u_a"}
	if err := db.CreateDevice(d); err != nil {
		t.Fatal(err)
	}
	if len(d.ID) != 28 || d.ID[:2] != "d_" {
		t.Errorf("CreateDevice: got ID %q, want d_ + 26 characters", d.ID)
	}
	if err := db.CreateDevice(&store.Device{Name: "kiosk-1"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateDevice(duplicate): got %v, want ErrExists", err)
	}
	if err := db.CreateDevice(&store.Device{Name: "kiosk-2"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.DeviceByName("kiosk-1")
	if err != nil || got.ID != d.ID || !bytes.Equal(got.PublicKey, key) {
		t.Errorf("DeviceByName: got %+v, %v; want %+v", got, err, d)
	}
	if _, err := db.DeviceByID("d_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeviceByID(missing): got %v, want ErrNotFound", err)
	}
	seen := t0.Add(time.Hour)
	if err := db.UpdateDevice(d.ID, func(d *store.Device) error { d.LastSeen = seen; d.Name = "kiosk-one"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := db.DeviceByID(d.ID); err != nil || !got.LastSeen.Equal(seen) || got.Name != "kiosk-one" {
		t.Errorf("after update: got %+v, %v; want LastSeen %v, name kiosk-one", got, err, seen)
	}
	if _, err := db.DeviceByName("kiosk-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old name after rename: got %v, want ErrNotFound", err)
	}
	if err := db.UpdateDevice(d.ID, func(d *store.Device) error { d.Name = "kiosk-2"; return nil }); !errors.Is(err, store.ErrExists) {
		t.Errorf("rename to taken: got %v, want ErrExists", err)
	}
	if list, err := db.ListDevices(); err != nil || len(list) != 2 {
		t.Errorf("ListDevices: got %d, %v; want 2, nil", len(list), err)
	}
}

func TestSessions(t *testing.T) {
	db := open(t)
	var sessionIDs []ids.SessionID
	for i := range 3 {
		s := &store.Session{TechID: "u_t", Mode: store.ModeAttended, State: store.SessionRequested, CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if err := db.PutSession(s); err != nil {
			t.Fatal(err)
		}
		if len(s.ID) != 32 {
			t.Errorf("PutSession: got ID %q, want 32 hex characters", s.ID)
		}
		sessionIDs = append(sessionIDs, s.ID)
	}
	err := db.UpdateSession(sessionIDs[0], func(s *store.Session) error {
		s.State, s.Granted = store.SessionActive, []string{"view"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := db.SessionByID(sessionIDs[0]); err != nil || s.State != store.SessionActive || len(s.Granted) != 1 {
		t.Errorf("after update: got %+v, %v; want active with one grant", s, err)
	}
	if _, err := db.SessionByID("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionByID(missing): got %v, want ErrNotFound", err)
	}
	if err := db.UpdateSession("nope", func(*store.Session) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateSession(missing): got %v, want ErrNotFound", err)
	}
	list, err := db.ListSessions()
	if err != nil || len(list) != 3 {
		t.Fatalf("ListSessions: got %d, %v; want 3, nil", len(list), err)
	}
	for i, want := range []ids.SessionID{sessionIDs[2], sessionIDs[1], sessionIDs[0]} {
		if list[i].ID != want {
			t.Errorf("ListSessions[%d]: got %q, want %q (newest first)", i, list[i].ID, want)
		}
	}
}
