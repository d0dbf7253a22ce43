package storetest

import (
	"testing"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// testDeleteRecording: a refusing check keeps the entry, an accepting one
// deletes it, a missing entry is ErrNotFound, and the others are kept.
func testDeleteRecording(t *testing.T, s suite) {
	db := s.new(t)
	for _, id := range []ids.SessionID{"r1", "r2"} {
		must(t, "put", db.PutRecording(&store.Recording{ID: id, State: store.RecordingComplete, CreatedAt: t0}))
	}
	must(t, "hold", db.UpdateRecording("r1", func(r *store.Recording) error {
		r.Hold = &store.Hold{By: "u_1", At: t0, Reason: "case 7"}
		return nil
	}))
	onHold := func(r *store.Recording) error {
		if r.Hold != nil {
			return errBoom
		}
		return nil
	}
	wantErr(t, "delete held", db.DeleteRecording("r1", onHold), errBoom)
	if r, err := db.RecordingByID("r1"); err != nil || r.Hold == nil || r.Hold.Reason != "case 7" {
		t.Fatalf("held recording after refused delete: %+v, %v", r, err)
	}
	must(t, "delete", db.DeleteRecording("r2", onHold))
	_, err := db.RecordingByID("r2")
	wantErr(t, "read deleted", err, store.ErrNotFound)
	wantErr(t, "delete again", db.DeleteRecording("r2", nil), store.ErrNotFound)
	list, err := db.ListRecordings()
	must(t, "list", err)
	if len(list) != 1 || list[0].ID != "r1" {
		t.Errorf("after delete: %+v", list)
	}
}

// testDeleteSession: the record and its file transfers go; a session
// whose ID is a prefix of another's leaves the other's files alone.
func testDeleteSession(t *testing.T, s suite) {
	db := s.new(t)
	for _, id := range []ids.SessionID{"s1", "s10"} {
		must(t, "put", db.PutSession(&store.Session{ID: id, State: store.SessionEnded, CreatedAt: t0}))
		must(t, "file", db.AppendSessionFile(id, store.FileTransfer{Direction: "upload", Path: "a", SHA256: "00"}))
	}
	wantErr(t, "refused", db.DeleteSession("s1", func(*store.Session) error { return errBoom }), errBoom)
	must(t, "delete", db.DeleteSession("s1", nil))
	_, err := db.SessionByID("s1")
	wantErr(t, "read deleted", err, store.ErrNotFound)
	wantErr(t, "delete again", db.DeleteSession("s1", nil), store.ErrNotFound)
	got, err := db.SessionByID("s10")
	must(t, "read other", err)
	if len(got.Files) != 1 {
		t.Errorf("the other session's files: %+v", got.Files)
	}
	// A new session under the deleted ID starts with no files.
	must(t, "put again", db.PutSession(&store.Session{ID: "s1", State: store.SessionEnded, CreatedAt: t0}))
	if again, err := db.SessionByID("s1"); err != nil || len(again.Files) != 0 || again.FilesDropped != 0 {
		t.Errorf("re-created session carries old files: %+v, %v", again, err)
	}
}
