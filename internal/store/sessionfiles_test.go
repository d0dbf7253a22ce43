package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

func openDB(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(filepath.Join(tb.TempDir(), "t.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func newSession(tb testing.TB, db *DB) ids.SessionID {
	tb.Helper()
	s := &Session{TechID: "u_t", Mode: ModeUnattended, State: SessionActive, CreatedAt: time.Now()}
	if err := db.PutSession(s); err != nil {
		tb.Fatal(err)
	}
	return s.ID
}

// rawSessionLen is the stored size of session id's record.
func rawSessionLen(tb testing.TB, db *DB, id ids.SessionID) int {
	tb.Helper()
	var n int
	db.bolt.View(func(tx *bolt.Tx) error { n = len(tx.Bucket(bucketSessions).Get([]byte(id))); return nil })
	return n
}

func transfer(i int) FileTransfer {
	return FileTransfer{Direction: "upload", Path: fmt.Sprintf("/tmp/%0200d", i), Size: int64(i), SHA256: "ab", Time: time.Unix(int64(i), 0).UTC()}
}

// TestAppendSessionFileLeavesRecord: appending transfers never rewrites or
// grows the session record, and SessionByID lists them in order.
func TestAppendSessionFileLeavesRecord(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	id, other := newSession(t, db), newSession(t, db)
	before := rawSessionLen(t, db, id)
	for i := range 50 {
		if err := db.AppendSessionFile(id, transfer(i)); err != nil {
			t.Fatal(err)
		}
	}
	db.AppendSessionFile(other, transfer(999))
	if after := rawSessionLen(t, db, id); after != before {
		t.Errorf("session record grew from %d to %d bytes after 50 transfers", before, after)
	}
	s, err := db.SessionByID(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != 50 || s.Files[0].Size != 0 || s.Files[49].Size != 49 || s.FilesDropped != 0 {
		t.Errorf("SessionByID: got %d files (dropped %d), want 50 in order", len(s.Files), s.FilesDropped)
	}
	if o, _ := db.SessionByID(other); len(o.Files) != 1 || o.Files[0].Size != 999 {
		t.Errorf("other session: got %+v, want its one transfer only", o.Files)
	}
	if err := db.AppendSessionFile("nope", transfer(1)); err == nil {
		t.Error("AppendSessionFile to a missing session: got nil error")
	}
}

// TestAppendSessionFileCap: past MaxSessionFiles transfers are counted, not
// listed.
func TestAppendSessionFileCap(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	id := newSession(t, db)
	// Fill to the cap in one transaction, as AppendSessionFile would have.
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessionFiles)
		for i := range MaxSessionFiles {
			if err := putJSON(b, sessionFileKey(id, fileTagEntry, uint64(i)), transfer(i)); err != nil {
				return err
			}
		}
		return putCounter(b, sessionFileKey(id, fileTagCount, 0), MaxSessionFiles)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := db.AppendSessionFile(id, transfer(MaxSessionFiles+i)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := db.SessionByID(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != MaxSessionFiles || s.FilesDropped != 3 {
		t.Errorf("got %d files, %d dropped; want %d and 3", len(s.Files), s.FilesDropped, MaxSessionFiles)
	}
}

// BenchmarkAppendSessionFile measures one append after 0, 1000 and 8000
// earlier ones: the cost per append is flat in the number before it
// (compare ns/op across the sub-benchmarks).
func BenchmarkAppendSessionFile(b *testing.B) {
	for _, prior := range []int{0, 1000, 8000} {
		b.Run(fmt.Sprintf("prior=%d", prior), func(b *testing.B) {
			db := openDB(b)
			id := newSession(b, db)
			db.bolt.NoSync = true // measure the work, not the disk's fsync
			for i := range prior {
				db.AppendSessionFile(id, transfer(i))
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if prior+i >= MaxSessionFiles {
					b.StopTimer()
					db.bolt.Update(func(tx *bolt.Tx) error {
						return putCounter(tx.Bucket(bucketSessionFiles), sessionFileKey(id, fileTagCount, 0), uint64(prior))
					})
					i = 0
					b.StartTimer()
				}
				if err := db.AppendSessionFile(id, transfer(prior+i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
