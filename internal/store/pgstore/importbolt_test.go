package pgstore_test

import (
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgstore"
	"github.com/tether-support/tether/internal/store/pgtest"
)

// TestImportBolt: every kind of record of a populated bbolt store reads
// back the same from PostgreSQL, the audit chain verifies, and a second
// import into the now non-empty database is refused.
func TestImportBolt(t *testing.T) {
	src, err := store.Open(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	u := &store.User{Username: "alice"}
	must(src.CreateUser(u))
	must(src.CreateDevice(&store.Device{Name: "pc-1"}))
	old := &store.Device{Name: "pc-2"}
	must(src.CreateDevice(old))
	must(src.RemoveDevice(old.ID, t0, u.ID))
	must(src.CreateDevice(&store.Device{Name: "pc-2"}))
	must(src.PutLoginToken(&store.LoginToken{Hash: [32]byte{1}, UserID: u.ID, ExpiresAt: t0}))
	must(src.PutEnrollToken(&store.EnrollToken{Hash: [32]byte{2}, ExpiresAt: t0}))
	s := &store.Session{TechUser: "alice", CreatedAt: t0}
	must(src.PutSession(s))
	must(src.AppendSessionFile(s.ID, store.FileTransfer{Path: "a.txt", Size: 3}))
	must(src.AppendSessionFile(s.ID, store.FileTransfer{Path: "b.txt", Size: 4}))
	must(src.PutRecording(&store.Recording{ID: s.ID, DeviceID: "d_1", State: store.RecordingComplete, Size: 4096, CreatedAt: t0}))
	must(src.PutRole(&store.Role{Name: "helpdesk", Allow: []string{"session.open"}}))
	must(src.CreateOrg(&store.Org{Name: "clinic"}))
	_, err = src.AddUnknownLoginFailure("mallory")
	must(err)
	_, err = src.ThrottleHit("login:alice", t0, time.Hour, false)
	must(err)
	mac, signer, err := audit.LoadOrCreateKeys(src)
	must(err)
	log := audit.New(src, mac, signer, func() time.Time { return t0 })
	for _, a := range []string{"user.create", "device.enroll", "session.open"} {
		_, err := log.Append(audit.Event{Action: a, Outcome: "success"})
		must(err)
	}
	must(log.SignHead())

	dst, err := pgstore.Open(pgstore.Config{URL: pgtest.Shared(t).NewDB(t)})
	must(err)
	defer dst.Close()
	counts, err := dst.ImportBolt(src)
	must(err)
	if counts["audit"] != 3 || counts["users"] != 1 || counts["devices"] != 3 {
		t.Errorf("counts: %v", counts)
	}
	if err := audit.Verify(dst, mac, signer.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("the copied chain does not verify: %v", err)
	}
	same := func(what string, a, b any, errA, errB error) {
		t.Helper()
		if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs:\nbbolt:    %+v (%v)\npostgres: %+v (%v)", what, a, errA, b, errB)
		}
	}
	ua, ea := src.ListUsers()
	ub, eb := dst.ListUsers()
	same("users", ua, ub, ea, eb)
	da, ea := src.ListDevices()
	db, eb := dst.ListDevices()
	same("devices", da, db, ea, eb)
	na, ea := src.DeviceByName("pc-2")
	nb, eb := dst.DeviceByName("pc-2")
	same("device by name", na, nb, ea, eb)
	sa, ea := src.SessionByID(s.ID)
	sb, eb := dst.SessionByID(s.ID)
	same("session with files", sa, sb, ea, eb)
	ra, ea := src.ListRecordings()
	rb, eb := dst.ListRecordings()
	same("recordings", ra, rb, ea, eb)
	qa, ea := src.RecordingUsage("d_1", t0.Add(-time.Hour))
	qb, eb := dst.RecordingUsage("d_1", t0.Add(-time.Hour))
	same("recording quota usage", qa, qb, ea, eb)
	if qb != 4096 {
		t.Errorf("recording quota usage after the import: %d, want 4096", qb)
	}
	la, ea := src.LoginToken([32]byte{1})
	lb, eb := dst.LoginToken([32]byte{1})
	same("login token", la, lb, ea, eb)
	ka, ea := src.UnknownLoginFailures("mallory")
	kb, eb := dst.UnknownLoginFailures("mallory")
	same("unknown-name failures", ka, kb, ea, eb)
	ca, ea := src.Throttle("login:alice", t0)
	cb, eb := dst.Throttle("login:alice", t0)
	same("throttle", ca, cb, ea, eb)
	ta, ea := src.ThrottleKeys()
	tb, eb := dst.ThrottleKeys()
	same("throttle size", ta, tb, ea, eb)
	ha, ea := src.GetMeta(audit.HeadKey)
	hb, eb := dst.GetMeta(audit.HeadKey)
	same("signed head", ha, hb, ea, eb)
	if _, err := dst.ConsumeEnrollToken([32]byte{2}, t0.Add(-time.Second)); err != nil {
		t.Errorf("enroll token: %v", err)
	}

	if _, err := dst.ImportBolt(src); !errors.Is(err, pgstore.ErrNotEmpty) {
		t.Fatalf("second import: %v; want ErrNotEmpty", err)
	}
}
