package storetest

import (
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// wantUsage checks RecordingUsage(dev, since).
func wantUsage(t *testing.T, db store.Store, what, dev string, since time.Time, want int64) {
	t.Helper()
	got, err := db.RecordingUsage(dev, since)
	must(t, what, err)
	if got != want {
		t.Errorf("%s: RecordingUsage(%q, %v) = %d, want %d", what, dev, since, got, want)
	}
}

// testRecordingUsage: the per-device quota's sum counts a device's
// finished recordings created strictly after since, follows every write
// (state, size, device, deletion) and survives a reopen.
func testRecordingUsage(t *testing.T, s suite) {
	db, name := s.fresh(t, Options{})
	put := func(id ids.SessionID, dev, state string, size int64, at time.Time) {
		t.Helper()
		must(t, "put "+string(id), db.PutRecording(&store.Recording{ID: id, DeviceID: dev, State: state, Size: size, CreatedAt: at}))
	}
	since := t0.Add(-24 * time.Hour)
	put("a1", "d_1", store.RecordingComplete, 100, t0)
	put("a2", "d_1", store.RecordingIncomplete, 20, t0.Add(-time.Hour))
	put("a3", "d_1", store.RecordingOpen, 1000, t0)                              // live: not counted
	put("a4", "d_1", store.RecordingComplete, 5000, since)                       // at since: not after it
	put("a5", "d_1", store.RecordingComplete, 7000, since.Add(-time.Nanosecond)) // older
	put("a6", "d_1", store.RecordingComplete, 3, since.Add(time.Nanosecond))     // just inside
	put("b1", "d_10", store.RecordingComplete, 40000, t0)                        // a device whose ID extends d_1's
	put("b2", "d_", store.RecordingComplete, 80000, t0)                          // and one d_1's extends
	put("c1", "", store.RecordingComplete, 90000, t0)                            // no device
	put("z0", "d_1", store.RecordingComplete, 900000, time.Time{})               // no creation time
	wantUsage(t, db, "initial", "d_1", since, 123)
	wantUsage(t, db, "other device", "d_10", since, 40000)
	wantUsage(t, db, "prefix device", "d_", since, 80000)
	wantUsage(t, db, "unknown device", "d_9", since, 0)
	wantUsage(t, db, "wider window", "d_1", since.Add(-time.Hour), 12123)
	wantUsage(t, db, "since the zero time", "d_1", time.Time{}, 12123)

	must(t, "finish", db.UpdateRecording("a3", func(r *store.Recording) error { r.State = store.RecordingComplete; return nil }))
	wantUsage(t, db, "after finishing a3", "d_1", since, 1123)
	must(t, "resize", db.UpdateRecording("a1", func(r *store.Recording) error { r.Size = 101; return nil }))
	wantUsage(t, db, "after resizing a1", "d_1", since, 1124)
	must(t, "move", db.UpdateRecording("a2", func(r *store.Recording) error { r.DeviceID = "d_10"; return nil }))
	wantUsage(t, db, "after moving a2 away", "d_1", since, 1104)
	wantUsage(t, db, "after moving a2 here", "d_10", since, 40020)
	must(t, "retime", db.UpdateRecording("a6", func(r *store.Recording) error { r.CreatedAt = since.Add(-time.Hour); return nil }))
	wantUsage(t, db, "after moving a6 out of the window", "d_1", since, 1101)
	must(t, "replace", db.PutRecording(&store.Recording{ID: "a1", DeviceID: "d_1", State: store.RecordingOpen, Size: 1, CreatedAt: t0}))
	wantUsage(t, db, "after replacing a1 with an open one", "d_1", since, 1000)
	must(t, "delete", db.DeleteRecording("a3", nil))
	wantUsage(t, db, "after deleting a3", "d_1", since, 0)
	wantErr(t, "refused delete", db.DeleteRecording("b1", func(*store.Recording) error { return errBoom }), errBoom)
	wantUsage(t, db, "after a refused delete", "d_10", since, 40020)

	db = s.reopen(t, db, name, Options{})
	defer db.Close()
	wantUsage(t, db, "reopened", "d_10", since, 40020)
	wantUsage(t, db, "reopened, wider window", "d_1", since.Add(-2*time.Hour), 12003)
}
