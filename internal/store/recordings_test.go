package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
)

func TestRecordingIndex(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	for i, id := range []ids.SessionID{"a", "b"} {
		if err := db.PutRecording(&Recording{ID: id, State: RecordingOpen, CreatedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.UpdateRecording("a", func(r *Recording) error { r.State, r.Size = RecordingComplete, 42; return nil }); err != nil {
		t.Fatal(err)
	}
	r, err := db.RecordingByID("a")
	if err != nil || r.State != RecordingComplete || r.Size != 42 {
		t.Fatalf("got %+v %v, want complete with size 42", r, err)
	}
	list, err := db.ListRecordings()
	if err != nil || len(list) != 2 || list[0].ID != "b" {
		t.Fatalf("got %v %v, want b then a", list, err)
	}
	if _, err := db.RecordingByID("zzz"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing recording: got %v, want ErrNotFound", err)
	}
	if err := db.UpdateRecording("a", func(r *Recording) error { r.ID = "x"; return nil }); err == nil {
		t.Fatal("changing the ID was allowed")
	}
}
