package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

func testDevices(t *testing.T, s suite) {
	db := s.new(t)
	d := &store.Device{Name: "ward3-pc", Group: "ward-3", PublicKey: bytes.Repeat([]byte{7}, 32), EnrolledAt: t0, EnrolledBy: "u_a",
		RevokedAt: t0, RevokedBy: "u_b"}
	must(t, "create", db.CreateDevice(d))
	if len(d.ID) < 3 || d.ID[:2] != "d_" {
		t.Fatalf("CreateDevice assigned ID %q, want d_…", d.ID)
	}
	other := &store.Device{Name: "lab-pc", PublicKey: []byte{1}}
	must(t, "create other", db.CreateDevice(other))
	bad := []struct {
		name string
		d    *store.Device
	}{
		{"same name", &store.Device{Name: "ward3-pc"}},
		{"same ID", &store.Device{ID: d.ID, Name: "new-pc"}},
	}
	for _, b := range bad {
		wantErr(t, "create with "+b.name, db.CreateDevice(b.d), store.ErrExists)
	}
	if err := db.CreateDevice(&store.Device{}); err == nil {
		t.Error("device with empty name: got nil error")
	}
	got, err := db.DeviceByName("ward3-pc")
	must(t, "by name", err)
	if !reflect.DeepEqual(got, d) {
		t.Errorf("read back %+v, want %+v", got, d)
	}
	seen := t0.Add(time.Hour)
	must(t, "touch", db.UpdateDevice(d.ID, func(d *store.Device) error { d.LastSeen = seen; return nil }))
	wantErr(t, "rename to taken", db.UpdateDevice(d.ID, func(d *store.Device) error { d.Name = "lab-pc"; return nil }), store.ErrExists)
	wantErr(t, "failing fn", db.UpdateDevice(d.ID, func(d *store.Device) error { d.Group = "x"; return errBoom }), errBoom)
	must(t, "rename", db.UpdateDevice(d.ID, func(d *store.Device) error { d.Name = "ward4-pc"; return nil }))
	if err := db.UpdateDevice(d.ID, func(d *store.Device) error { d.ID = "d_x"; return nil }); err == nil {
		t.Error("changing a device ID: got nil error")
	}
	wantErr(t, "update missing", db.UpdateDevice("d_missing", func(*store.Device) error { return nil }), store.ErrNotFound)
	got, err = db.DeviceByID(d.ID)
	must(t, "by ID", err)
	if got.Name != "ward4-pc" || got.Group != "ward-3" || !got.LastSeen.Equal(seen) {
		t.Errorf("after updates: %+v", got)
	}
	_, err = db.DeviceByName("ward3-pc")
	wantErr(t, "old name", err, store.ErrNotFound)
	if got, err := db.DeviceByName("lab-pc"); err != nil || got.ID != other.ID {
		t.Errorf("lab-pc after refused rename: %v, %v", got, err)
	}
	devs, err := db.ListDevices()
	must(t, "list", err)
	if len(devs) != 2 || devs[0].ID >= devs[1].ID {
		t.Errorf("ListDevices = %v, want 2 ordered by ID", devs)
	}
}

// singleUse abstracts enrollment tokens and join codes, which share their
// contract.
type singleUse struct {
	kind    string
	put     func(db store.Store, h [32]byte, exp time.Time) error
	consume func(db store.Store, h [32]byte, now time.Time) error
}

var singleUses = []singleUse{
	{"enroll token",
		func(db store.Store, h [32]byte, exp time.Time) error {
			return db.PutEnrollToken(&store.EnrollToken{Hash: h, Group: "g", ExpiresAt: exp})
		},
		func(db store.Store, h [32]byte, now time.Time) error {
			tok, err := db.ConsumeEnrollToken(h, now)
			if err == nil && (tok.Hash != h || tok.Group != "g") {
				return fmt.Errorf("consumed %+v", tok)
			}
			return err
		}},
	{"join code",
		func(db store.Store, h [32]byte, exp time.Time) error {
			return db.PutJoinCode(&store.JoinCode{Hash: h, SessionID: "sess", ExpiresAt: exp})
		},
		func(db store.Store, h [32]byte, now time.Time) error {
			j, err := db.ConsumeJoinCode(h, now)
			if err == nil && (j.Hash != h || j.SessionID != "sess") {
				return fmt.Errorf("consumed %+v", j)
			}
			return err
		}},
}

func testSingleUse(t *testing.T, s suite) {
	db := s.new(t)
	cases := []struct {
		name      string
		expires   time.Time
		now       time.Time
		first     error // first consumption
		duplicate bool  // put twice
	}{
		{"live", t0.Add(time.Hour), t0, nil, false},
		{"no expiry", time.Time{}, t0.Add(1000 * time.Hour), nil, false},
		{"expired", t0, t0, store.ErrExpired, false},
		{"long expired", t0, t0.Add(time.Hour), store.ErrExpired, false},
		{"put twice", t0.Add(time.Hour), t0, nil, true},
	}
	for _, k := range singleUses {
		for _, c := range cases {
			what := k.kind + " " + c.name
			h := sha256.Sum256([]byte(what))
			must(t, what+": put", k.put(db, h, c.expires))
			if c.duplicate {
				wantErr(t, what+": second put", k.put(db, h, c.expires), store.ErrExists)
			}
			wantErr(t, what+": first use", k.consume(db, h, c.now), c.first)
			wantErr(t, what+": second use", k.consume(db, h, c.now), store.ErrNotFound)
		}
		wantErr(t, k.kind+": unknown", k.consume(db, sha256.Sum256([]byte("never")), t0), store.ErrNotFound)
	}
}

// testSingleUseConcurrent races 8 consumers for each token: exactly one
// may win.
func testSingleUseConcurrent(t *testing.T, s suite) {
	db := s.new(t)
	for _, k := range singleUses {
		for round := range 50 {
			h := sha256.Sum256(fmt.Appendf(nil, "%s %d", k.kind, round))
			must(t, "put", k.put(db, h, t0.Add(time.Hour)))
			var wins, losses atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					err := k.consume(db, h, t0)
					switch {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, store.ErrNotFound):
						losses.Add(1)
					default:
						t.Errorf("%s: consume: %v", k.kind, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if wins.Load() != 1 || losses.Load() != 7 {
				t.Errorf("%s round %d: %d consumers won, %d lost; want 1 and 7", k.kind, round, wins.Load(), losses.Load())
			}
		}
	}
}

func testLoginTokens(t *testing.T, s suite) {
	db := s.new(t)
	hashes := map[ids.UserID][][32]byte{}
	for i, user := range []ids.UserID{"u_a", "u_a", "u_a", "u_b"} {
		h := sha256.Sum256(fmt.Appendf(nil, "tok%d", i))
		tok := &store.LoginToken{Hash: h, UserID: user, CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour),
			IdleTimeout: time.Hour, Emergency: i == 3, Reason: "r"}
		must(t, "put", db.PutLoginToken(tok))
		hashes[user] = append(hashes[user], h)
	}
	h0 := hashes["u_a"][0]
	got, err := db.LoginToken(h0)
	must(t, "read", err)
	want := &store.LoginToken{Hash: h0, UserID: "u_a", CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour), IdleTimeout: time.Hour, Reason: "r"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v, want %+v", got, want)
	}
	used := t0.Add(30 * time.Minute)
	must(t, "touch", db.TouchLoginToken(h0, used))
	want.LastUsed = used
	if got, err := db.LoginToken(h0); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after touch: %+v, %v; want %+v", got, err, want)
	}
	used = used.Add(1234567 * time.Nanosecond)
	must(t, "touch again", db.TouchLoginToken(h0, used))
	want.LastUsed = used
	if got, err := db.LoginToken(h0); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after a second touch: %+v, %v; want %+v", got, err, want)
	}
	// A record with a NUL character in a string (an emergency reason)
	// is touched as well.
	nul := &store.LoginToken{Hash: sha256.Sum256([]byte("nul")), UserID: "u_n", CreatedAt: t0, Emergency: true, Reason: "a\x00b"}
	must(t, "put with NUL", db.PutLoginToken(nul))
	must(t, "touch with NUL", db.TouchLoginToken(nul.Hash, used))
	nul.LastUsed = used
	if got, err := db.LoginToken(nul.Hash); err != nil || !reflect.DeepEqual(got, nul) {
		t.Errorf("after touching a record with NUL: %+v, %v; want %+v", got, err, nul)
	}
	unknown := sha256.Sum256([]byte("unknown"))
	_, err = db.LoginToken(unknown)
	wantErr(t, "read unknown", err, store.ErrNotFound)
	wantErr(t, "touch unknown", db.TouchLoginToken(unknown, t0), store.ErrNotFound)
	wantErr(t, "delete unknown", db.DeleteLoginToken(unknown), store.ErrNotFound)
	keep := hashes["u_a"][1]
	if n, err := db.DeleteUserLoginTokensExcept("u_a", keep); err != nil || n != 2 {
		t.Errorf("delete all but one of u_a: %d, %v; want 2", n, err)
	}
	if _, err := db.LoginToken(keep); err != nil {
		t.Errorf("kept token: %v", err)
	}
	_, err = db.LoginToken(h0)
	wantErr(t, "deleted token", err, store.ErrNotFound)
	if _, err := db.LoginToken(hashes["u_b"][0]); err != nil {
		t.Errorf("another user's token was deleted: %v", err)
	}
	must(t, "delete kept", db.DeleteLoginToken(keep))
	if n, err := db.DeleteUserLoginTokens("u_b"); err != nil || n != 1 {
		t.Errorf("delete u_b's tokens: %d, %v; want 1", n, err)
	}
	if n, err := db.DeleteUserLoginTokens("u_b"); err != nil || n != 0 {
		t.Errorf("delete u_b's tokens again: %d, %v; want 0", n, err)
	}
}

func testSessions(t *testing.T, s suite) {
	db := s.new(t)
	var ids []ids.SessionID
	for i := range 3 {
		ss := &store.Session{TechID: "u_a", TechUser: "alice", DeviceName: "pc", Mode: store.ModeAttended,
			Capabilities: []string{"shell"}, State: store.SessionRequested, Reason: "ticket 7",
			CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		must(t, "put", db.PutSession(ss))
		if ss.ID == "" {
			t.Fatal("PutSession assigned no ID")
		}
		ids = append(ids, ss.ID)
	}
	must(t, "activate", db.UpdateSession(ids[0], func(s *store.Session) error {
		s.State, s.Granted, s.StartedAt = store.SessionActive, []string{"shell"}, t0
		return nil
	}))
	wantErr(t, "failing fn", db.UpdateSession(ids[0], func(s *store.Session) error { s.State = store.SessionEnded; return errBoom }), errBoom)
	if err := db.UpdateSession(ids[0], func(s *store.Session) error { s.ID = "other"; return nil }); err == nil {
		t.Error("changing a session ID: got nil error")
	}
	wantErr(t, "update missing", db.UpdateSession("missing", func(*store.Session) error { return nil }), store.ErrNotFound)
	got, err := db.SessionByID(ids[0])
	must(t, "read", err)
	if got.State != store.SessionActive || !reflect.DeepEqual(got.Granted, []string{"shell"}) || got.Reason != "ticket 7" {
		t.Errorf("after updates: %+v", got)
	}
	_, err = db.SessionByID("missing")
	wantErr(t, "read missing", err, store.ErrNotFound)
	list, err := db.ListSessions()
	must(t, "list", err)
	if len(list) != 3 || list[0].ID != ids[2] || list[2].ID != ids[0] {
		t.Errorf("ListSessions not newest first: %v", list)
	}
}

func testSessionFiles(t *testing.T, s suite) {
	db := s.new(t)
	ss := &store.Session{TechID: "u_a", Mode: store.ModeUnattended, State: store.SessionActive, CreatedAt: t0}
	must(t, "put", db.PutSession(ss))
	wantErr(t, "file for unknown session", db.AppendSessionFile("missing", store.FileTransfer{Path: "x"}), store.ErrNotFound)
	var want []store.FileTransfer
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				f := store.FileTransfer{Direction: "download", Path: fmt.Sprintf("/w%d/f%d", w, i), Size: int64(i), SHA256: "ab", Time: t0}
				if err := db.AppendSessionFile(ss.ID, f); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want = append(want, f)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// An update of the record must not lose the files kept beside it.
	must(t, "end", db.UpdateSession(ss.ID, func(s *store.Session) error { s.State = store.SessionEnded; return nil }))
	got, err := db.SessionByID(ss.ID)
	must(t, "read", err)
	if len(got.Files) != len(want) || got.FilesDropped != 0 {
		t.Fatalf("%d files (%d dropped), want %d", len(got.Files), got.FilesDropped, len(want))
	}
	seen := map[string]bool{}
	last := map[byte]string{}
	for _, f := range got.Files {
		seen[f.Path] = true
		w := f.Path[2]
		if f.Path < last[w] {
			t.Errorf("files of one writer out of order: %s after %s", f.Path, last[w])
		}
		last[w] = f.Path
	}
	for _, f := range want {
		if !seen[f.Path] {
			t.Errorf("file %s lost", f.Path)
		}
	}
	list, err := db.ListSessions()
	must(t, "list", err)
	if len(list) != 1 || len(list[0].Files) != 0 {
		t.Errorf("ListSessions should not carry the files: %+v", list)
	}
}

func testRecordings(t *testing.T, s suite) {
	db := s.new(t)
	for i, id := range []ids.SessionID{"r1", "r2", "r3"} {
		r := &store.Recording{ID: id, TechUser: "alice", DeviceID: "d_1", State: store.RecordingOpen,
			KeyIDs: []string{"k1"}, CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		must(t, "put", db.PutRecording(r))
	}
	must(t, "finish", db.UpdateRecording("r1", func(r *store.Recording) error {
		r.State, r.Size, r.Pieces, r.SHA256, r.FinishedAt = store.RecordingComplete, 4096, 3, "cafe", t0.Add(time.Hour)
		return nil
	}))
	wantErr(t, "failing fn", db.UpdateRecording("r1", func(r *store.Recording) error { r.Size = 1; return errBoom }), errBoom)
	if err := db.UpdateRecording("r1", func(r *store.Recording) error { r.ID = "r9"; return nil }); err == nil {
		t.Error("changing a recording ID: got nil error")
	}
	wantErr(t, "update missing", db.UpdateRecording("r9", func(*store.Recording) error { return nil }), store.ErrNotFound)
	got, err := db.RecordingByID("r1")
	must(t, "read", err)
	want := store.Recording{ID: "r1", TechUser: "alice", DeviceID: "d_1", State: store.RecordingComplete, Size: 4096,
		Pieces: 3, SHA256: "cafe", KeyIDs: []string{"k1"}, CreatedAt: t0, FinishedAt: t0.Add(time.Hour)}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read back %+v, want %+v", *got, want)
	}
	_, err = db.RecordingByID("r9")
	wantErr(t, "read missing", err, store.ErrNotFound)
	list, err := db.ListRecordings()
	must(t, "list", err)
	if len(list) != 3 || list[0].ID != "r3" || list[2].ID != "r1" {
		t.Errorf("ListRecordings not newest first: %v", list)
	}
}

func testMeta(t *testing.T, s suite) {
	db := s.new(t)
	_, err := db.GetMeta("k")
	wantErr(t, "missing", err, store.ErrNotFound)
	if err := db.PutMeta("", []byte("v")); err == nil {
		t.Error("empty key: got nil error")
	}
	must(t, "put", db.PutMeta("k", []byte("v1")))
	must(t, "replace", db.PutMeta("k", []byte("v2")))
	v, err := db.GetMeta("k")
	must(t, "get", err)
	if string(v) != "v2" {
		t.Errorf("got %q, want v2", v)
	}
	v[0] = 'X'
	if v, _ := db.GetMeta("k"); string(v) != "v2" {
		t.Errorf("changing a returned value changed the store: %q", v)
	}
}

// testDeviceRemove checks that a removed device keeps its record, frees
// its name and can be neither updated nor removed again.
func testDeviceRemove(t *testing.T, s suite) {
	db := s.new(t)
	d := &store.Device{Name: "kiosk", Group: "lobby", PublicKey: bytes.Repeat([]byte{3}, 32), EnrolledAt: t0}
	must(t, "create", db.CreateDevice(d))
	must(t, "revoke", db.UpdateDevice(d.ID, func(d *store.Device) error { d.RevokedAt, d.RevokedBy = t0, "u_admin"; return nil }))
	at := t0.Add(time.Minute)
	must(t, "remove", db.RemoveDevice(d.ID, at, "u_admin"))
	wantErr(t, "remove again", db.RemoveDevice(d.ID, at, "u_admin"), store.ErrNotFound)
	wantErr(t, "remove missing", db.RemoveDevice("d_missing", at, "u_admin"), store.ErrNotFound)
	wantErr(t, "update removed", db.UpdateDevice(d.ID, func(*store.Device) error { return nil }), store.ErrNotFound)
	_, err := db.DeviceByName("kiosk")
	wantErr(t, "removed by name", err, store.ErrNotFound)
	got, err := db.DeviceByID(d.ID)
	must(t, "removed by ID", err)
	if !got.RemovedAt.Equal(at) || got.RemovedBy != "u_admin" || got.Name != "kiosk" || got.RevokedAt.IsZero() {
		t.Errorf("removed device reads back as %+v", got)
	}
	again := &store.Device{Name: "kiosk", PublicKey: bytes.Repeat([]byte{4}, 32)}
	must(t, "name reused", db.CreateDevice(again))
	if got, err := db.DeviceByName("kiosk"); err != nil || got.ID != again.ID {
		t.Errorf("kiosk after reuse: %v, %v; want %s", got, err, again.ID)
	}
	devs, err := db.ListDevices()
	must(t, "list", err)
	if len(devs) != 2 {
		t.Errorf("ListDevices = %d devices, want 2 (the removed one included)", len(devs))
	}
}
