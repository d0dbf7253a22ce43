package pgstore_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgtest"
)

// TestRelayRegistry: registration, heartbeat, liveness by the database's
// clock, expiry and removal, seen the same way from two relays' pools.
func TestRelayRegistry(t *testing.T) {
	a, b := pgtest.TwoStores(t)
	if err := a.HeartbeatRelay("r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("heartbeat of an unregistered relay: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"r1", "r2"} {
		if err := a.RegisterRelay(id, "https://"+id+":8443"); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := b.Relays(time.Hour)
	if err != nil || len(rs) != 2 || rs[0].ID != "r1" || rs[1].Advertise != "https://r2:8443" || !rs[0].Live || !rs[1].Live {
		t.Fatalf("relays: %+v, %v", rs, err)
	}
	const short = 150 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := b.HeartbeatRelay("r2"); err != nil {
			t.Fatal(err)
		}
		exp, err := a.ExpiredRelays(short)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(exp, []string{"r1"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("r1 never expired: %v", exp)
		}
		time.Sleep(short / 3)
	}
	r1, err := b.RelayByID("r1", short)
	if err != nil || r1.Live {
		t.Fatalf("r1 after its heartbeat aged: %+v, %v", r1, err)
	}
	if err := a.RemoveRelay("r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RelayByID("r1", time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed relay: %v", err)
	}
	if err := a.HeartbeatRelay("r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("heartbeat of a swept relay: %v, want ErrNotFound", err)
	}
}

// TestPresence: a device's presence follows its newest connection; the
// older connection's relay cannot clear it; a dead relay's devices are
// offline; a relay's rows go with it.
func TestPresence(t *testing.T) {
	a, b := pgtest.TwoStores(t)
	for _, id := range []string{"r1", "r2"} {
		if err := a.RegisterRelay(id, "https://"+id); err != nil {
			t.Fatal(err)
		}
	}
	dev := ids.DeviceID("dev-1")
	if _, err := a.PresenceOf(dev, time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("presence before any: %v", err)
	}
	t1 := time.Now()
	if err := a.SetPresence(dev, "r1", t1); err != nil {
		t.Fatal(err)
	}
	if r, err := b.PresenceOf(dev, time.Hour); err != nil || r.ID != "r1" || r.Advertise != "https://r1" || r.Agents != 1 {
		t.Fatalf("presence on r1: %+v, %v", r, err)
	}
	// The device reconnects to r2; r1's late clean-up must not remove it.
	t2 := t1.Add(time.Second)
	if err := b.SetPresence(dev, "r2", t2); err != nil {
		t.Fatal(err)
	}
	if err := a.ClearPresence(dev, "r1", t1); err != nil {
		t.Fatal(err)
	}
	if r, err := a.PresenceOf(dev, time.Hour); err != nil || r.ID != "r2" {
		t.Fatalf("presence after r1's stale clear: %+v, %v", r, err)
	}
	// Same relay, older connection: still not cleared.
	if err := b.ClearPresence(dev, "r2", t1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PresenceOf(dev, time.Hour); err != nil {
		t.Fatalf("presence after an older connection's clear: %v", err)
	}
	if on, err := a.OnlineDevices(time.Hour); err != nil || len(on) != 1 || on[dev] != "r2" {
		t.Fatalf("online devices: %v, %v", on, err)
	}
	// A dead relay's device is offline.
	time.Sleep(20 * time.Millisecond)
	if on, err := a.OnlineDevices(10 * time.Millisecond); err != nil || len(on) != 0 {
		t.Fatalf("online devices on an expired relay: %v, %v", on, err)
	}
	if _, err := a.PresenceOf(dev, 10*time.Millisecond); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("presence on an expired relay: %v", err)
	}
	if n, err := a.ClearRelayPresence("r2"); err != nil || n != 1 {
		t.Fatalf("clear r2's presence: %d, %v", n, err)
	}
	if err := b.SetPresence(dev, "r2", t2); err != nil {
		t.Fatal(err)
	}
	if err := b.ClearPresence(dev, "r2", t2); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PresenceOf(dev, time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("presence after its own clear: %v", err)
	}
}

// TestAddPresence: a rejoining relay's claim is written only where no row
// names the device; the row read back says who holds it and since when.
func TestAddPresence(t *testing.T) {
	a, b := pgtest.TwoStores(t)
	dev := ids.DeviceID("dev-2")
	if _, err := a.PresenceRow(dev); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("row before any: %v", err)
	}
	t1 := time.Now()
	t2 := t1.Add(time.Second)
	check := func(what string, p *store.Presence, err error, relay string, since time.Time) {
		t.Helper()
		if err != nil || p.Relay != relay || !p.Since.Equal(since.Truncate(time.Microsecond)) {
			t.Fatalf("%s: %+v, %v; want %s at %v", what, p, err, relay, since)
		}
	}
	p, err := a.AddPresence(dev, "r1", t1)
	check("no row: written", p, err, "r1", t1)
	p, err = b.PresenceRow(dev)
	check("read back", p, err, "r1", t1)
	if err := b.SetPresence(dev, "r2", t2); err != nil {
		t.Fatal(err)
	}
	p, err = a.AddPresence(dev, "r1", t1)
	check("r2's newer row kept", p, err, "r2", t2)
}

// TestOpenSessionsOf: the home relay column follows the record through
// PutSession and UpdateSession, and an ended session is not open.
func TestOpenSessionsOf(t *testing.T) {
	a, b := pgtest.TwoStores(t)
	mk := func(relay, state string) ids.SessionID {
		s := &store.Session{TechID: "u1", Mode: store.ModeUnattended, State: state, Relay: relay}
		if err := a.PutSession(s); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	s1 := mk("r1", store.SessionRequested)
	s2 := mk("r1", store.SessionActive)
	mk("r1", store.SessionEnded)
	mk("r2", store.SessionActive)
	mk("", store.SessionActive)
	got, err := b.OpenSessionsOf("r1")
	want := []ids.SessionID{s1, s2}
	slices.Sort(want)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("open sessions of r1: %v, %v; want %v", got, err, want)
	}
	if err := b.UpdateSession(s1, func(s *store.Session) error { s.State = store.SessionEnded; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := a.OpenSessionsOf("r1"); err != nil || !slices.Equal(got, []ids.SessionID{s2}) {
		t.Fatalf("after s1 ended: %v, %v", got, err)
	}
	if err := a.RegisterRelay("r1", "https://r1"); err != nil {
		t.Fatal(err)
	}
	if r, err := a.RelayByID("r1", time.Hour); err != nil || r.Sessions != 1 {
		t.Fatalf("r1's session count: %+v, %v", r, err)
	}
}
