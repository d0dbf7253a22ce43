package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// fillRecordings writes old finished recordings of dev and of other
// devices, and live ones, none of which the quota counts at t0, and n
// counted ones of dev of size 1.
func fillRecordings(t *testing.T, db *DB, dev string, t0 time.Time, n int) {
	t.Helper()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for i := range 3000 {
			r := &Recording{ID: ids.SessionID(fmt.Sprintf("old%d", i)), DeviceID: dev, State: RecordingComplete, Size: 1000,
				CreatedAt: t0.Add(-25*time.Hour - time.Duration(i)*time.Minute)}
			switch i % 3 {
			case 1:
				r.DeviceID, r.CreatedAt = fmt.Sprintf("other%d", i), t0
			case 2:
				r.State, r.CreatedAt = RecordingOpen, t0
			}
			if err := indexUsage(tx, nil, r); err != nil {
				return err
			}
			if err := putJSON(tx.Bucket(bucketRecordings), []byte(r.ID), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := db.PutRecording(&Recording{ID: ids.SessionID(fmt.Sprintf("new%d", i)), DeviceID: dev, State: RecordingComplete, Size: 1, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecordingUsageReadsTheWindowOnly: with thousands of recordings that
// do not count (older, another device's, live), the quota's sum reads the
// device's entries inside the window and nothing else, so session setup
// does not slow down as recordings pile up.
func TestRecordingUsageReadsTheWindowOnly(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	fillRecordings(t, db, "d_1", t0, 3)
	err = db.bolt.View(func(tx *bolt.Tx) error {
		n, read, err := sumUsage(tx, "d_1", t0.Add(-24*time.Hour))
		if n != 3 || read != 3 {
			t.Errorf("sum %d from %d entries read; want 3 from 3", n, read)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecordingUsageIndexBuiltOnOpen: a file from before the usage index
// (no recording_usage bucket) gets it built when opened, and the quota
// counts its recordings.
func TestRecordingUsageIndexBuiltOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	fillRecordings(t, db, "d_1", t0, 5)
	err = db.bolt.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketRecordingUsage) })
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := CheckFile(path); err != nil {
		t.Fatalf("a file without the index: %v", err)
	}
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		dev   string
		since time.Time
		want  int64
	}{
		{"d_1", t0.Add(-24 * time.Hour), 5},
		{"d_1", t0.Add(-26 * time.Hour), 5 + 20*1000}, // old0..old57 step 3: 25 h + 0, 3, …, 57 min
		{"other1", t0.Add(-time.Hour), 1000},
	} {
		if got, err := db.RecordingUsage(tc.dev, tc.since); err != nil || got != tc.want {
			t.Errorf("RecordingUsage(%q, %v) = %d, %v; want %d", tc.dev, tc.since, got, err, tc.want)
		}
	}
}
