package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// fillRecordings writes 3000 old finished recordings of dev and of
// other devices, and live ones, none of which the quota counts at t0, and
// n counted ones of dev of size 1.
func fillRecordings(t testing.TB, db *DB, dev string, t0 time.Time, n int) {
	t.Helper()
	fillHistory(t, db, dev, t0, 3000)
	for i := range n {
		if err := db.PutRecording(&Recording{ID: ids.SessionID(fmt.Sprintf("new%d", i)), DeviceID: dev, State: RecordingComplete, Size: 1, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
}

// fillHistory writes old recordings old0…old<n-1>: finished ones of dev
// from before t0's window, other devices' and live ones.
func fillHistory(t testing.TB, db *DB, dev string, t0 time.Time, old int) {
	t.Helper()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for i := range old {
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

// BenchmarkRecordingUsage: the quota's sum with 3 recordings in the
// window and 3,000 or 30,000 of history, from the index and (for comparison) by listing
// every recording as the quota did before: the first stays flat, the
// second grows with the history.
func BenchmarkRecordingUsage(b *testing.B) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	since := t0.Add(-24 * time.Hour)
	for _, old := range []int{3000, 30000} {
		db, err := Open(filepath.Join(b.TempDir(), "t.db"))
		if err != nil {
			b.Fatal(err)
		}
		fillHistory(b, db, "d_1", t0, old)
		for i := range 3 {
			r := &Recording{ID: ids.SessionID(fmt.Sprintf("new%d", i)), DeviceID: "d_1", State: RecordingComplete, Size: 1, CreatedAt: t0}
			if err := db.PutRecording(r); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("history=%d/index", old), func(b *testing.B) {
			for b.Loop() {
				if n, err := db.RecordingUsage("d_1", since); err != nil || n != 3 {
					b.Fatalf("usage %d, %v", n, err)
				}
			}
		})
		b.Run(fmt.Sprintf("history=%d/list-all", old), func(b *testing.B) {
			for b.Loop() {
				recs, err := db.ListRecordings()
				var n int64
				for _, r := range recs {
					if r.DeviceID == "d_1" && r.State != RecordingOpen && r.CreatedAt.After(since) {
						n += r.Size
					}
				}
				if err != nil || n != 3 {
					b.Fatalf("usage %d, %v", n, err)
				}
			}
		})
		db.Close()
	}
}
