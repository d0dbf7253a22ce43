package storetest

import (
	"testing"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

// auditCount returns how many audit records db holds.
func auditCount(t *testing.T, db store.Store) int {
	t.Helper()
	n := 0
	must(t, "audit records", db.AuditRecords(0, func(*store.AuditRecord) error { n++; return nil }))
	return n
}

// testAuditWriteKeys: an append whose write key an earlier one took
// returns that entry and appends nothing, even with entries after it; the
// chain still verifies; pruning forgets the keys with their entries.
func testAuditWriteKeys(t *testing.T, s suite) {
	db := s.new(t)
	log, mac, pub := auditLog(t, db)
	e := audit.Event{Action: "session.end", Target: "s_1", Outcome: "ended", WriteKey: store.NewWriteKey()}
	first, err := log.Append(e)
	must(t, "append", err)
	_, err = log.Append(audit.Event{Action: "other"})
	must(t, "append another", err)
	_, err = log.Append(audit.Event{Action: "other"})
	must(t, "append another without a key", err)
	again, err := log.Append(e)
	must(t, "append again", err)
	if again.Seq != first.Seq || again.Action != "session.end" || string(again.Hash) != string(first.Hash) {
		t.Errorf("append again returned seq %d %q, want the first append's (seq %d)", again.Seq, again.Action, first.Seq)
	}
	if n := auditCount(t, db); n != 3 {
		t.Errorf("%d records, want 3", n)
	}
	if last, err := db.LastAudit(); err != nil || last.Action != "other" || last.WriteKey != "" {
		t.Errorf("last record %+v, %v: want the last 'other', no write key read back", last, err)
	}
	other := e
	other.WriteKey = store.NewWriteKey()
	_, err = log.Append(other)
	must(t, "append under another key", err)
	if n := auditCount(t, db); n != 4 {
		t.Errorf("%d records after a new key, want 4", n)
	}
	must(t, "sign head", log.SignHead())
	must(t, "verify", audit.Verify(db, mac, pub))
	_, err = db.DeleteAuditBefore(first.Seq + 1)
	must(t, "prune", err)
	_, err = log.Append(e)
	must(t, "append after its entry was pruned", err)
	if n := auditCount(t, db); n != 4 {
		t.Errorf("%d records after pruning one and appending its key again, want 4", n)
	}
}

// testSessionFileWriteKeys: a file line whose write key the session took
// is not added again; lines without a key always are; another session
// may use the same key; deleting the session forgets its keys.
func testSessionFileWriteKeys(t *testing.T, s suite) {
	db := s.new(t)
	a := &store.Session{TechID: "u_a", Mode: store.ModeUnattended, State: store.SessionActive, CreatedAt: t0}
	b := &store.Session{TechID: "u_a", Mode: store.ModeUnattended, State: store.SessionActive, CreatedAt: t0}
	must(t, "put a", db.PutSession(a))
	must(t, "put b", db.PutSession(b))
	key := store.NewWriteKey()
	f := store.FileTransfer{Direction: "upload", Path: "/x", Size: 1, SHA256: "ab", Time: t0, WriteKey: key}
	for range 3 {
		must(t, "append keyed", db.AppendSessionFile(a.ID, f))
	}
	must(t, "append to b", db.AppendSessionFile(b.ID, f))
	f.WriteKey = store.NewWriteKey()
	must(t, "append another key", db.AppendSessionFile(a.ID, f))
	f.WriteKey = ""
	must(t, "append unkeyed", db.AppendSessionFile(a.ID, f))
	must(t, "append unkeyed again", db.AppendSessionFile(a.ID, f))
	for _, c := range []struct {
		id   *store.Session
		want int
	}{{a, 4}, {b, 1}} {
		got, err := db.SessionByID(c.id.ID)
		must(t, "read", err)
		if len(got.Files) != c.want || got.FilesDropped != 0 {
			t.Errorf("session %s: %d files (%d dropped), want %d", c.id.ID, len(got.Files), got.FilesDropped, c.want)
		}
		for _, x := range got.Files {
			if x.WriteKey != "" {
				t.Errorf("a file read back carries its write key")
			}
		}
	}
	must(t, "delete a", db.DeleteSession(a.ID, nil))
	wantErr(t, "append to the deleted session", db.AppendSessionFile(a.ID, store.FileTransfer{Path: "/y", WriteKey: key}), store.ErrNotFound)
}
