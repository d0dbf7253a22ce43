package relay

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/writeq"
)

// answerLosingStore commits appends to the real store, then, while lose
// is above zero, reports the database unreachable as if the commit's
// answer had been lost on the way back.
type answerLosingStore struct {
	store.Store
	lose atomic.Int32
}

func (a *answerLosingStore) lost(err error) error {
	if err == nil && a.lose.Add(-1) >= 0 {
		return fmt.Errorf("answer lost: %w", store.ErrUnavailable)
	}
	return err
}

func (a *answerLosingStore) AppendAudit(fn func(*store.AuditRecord) (*store.AuditRecord, error)) (*store.AuditRecord, error) {
	r, err := a.Store.AppendAudit(fn)
	return r, a.lost(err)
}

func (a *answerLosingStore) AppendSessionFile(id ids.SessionID, f store.FileTransfer) error {
	return a.lost(a.Store.AppendSessionFile(id, f))
}

// TestSessionWritesLandOnce: a session's audit entry and file line whose
// first commits' answers are lost are retried by the write queue and land
// once each: the relay chooses their write keys when it queues them.
func TestSessionWritesLandOnce(t *testing.T) {
	s := newTestServer(t)
	db := &answerLosingStore{Store: s.db}
	mac, signer, err := auditKeys(s.cfg.DataDir, s.db)
	if err != nil {
		t.Fatal(err)
	}
	s.audit = audit.New(db, mac, signer, nil)
	s.writes.Close(time.Second)
	s.writes = writeq.New(writeq.Config{Retry: time.Millisecond})
	sess := &store.Session{TechID: "u_a", Mode: store.ModeUnattended, State: store.SessionActive, CreatedAt: now()}
	if err := s.db.PutSession(sess); err != nil {
		t.Fatal(err)
	}
	recs := queuedRecords{db: db, q: s.writes}

	drained := func() {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); s.writes.Stats().Queued > 0; time.Sleep(time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("writes still queued: %+v", s.writes.Stats())
			}
		}
	}
	db.lose.Store(2)
	s.recordSession(audit.Event{ActorID: "u_a", Action: "session.file", Target: string(sess.ID), Outcome: "upload"})
	drained()
	db.lose.Store(2)
	recs.AppendSessionFile(sess.ID, store.FileTransfer{Direction: "upload", Path: "/a", Time: now()})
	drained()
	if st := s.writes.Stats(); st.Retried != 4 || st.Failed != 0 {
		t.Errorf("queue stats %+v, want 4 retried (two lost answers each), none failed", st)
	}
	n := 0
	err = s.db.AuditRecords(0, func(r *store.AuditRecord) error {
		if r.Action == "session.file" {
			n++
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Errorf("%d session.file entries (%v), want 1", n, err)
	}
	got, err := s.db.SessionByID(sess.ID)
	if err != nil || len(got.Files) != 1 {
		t.Errorf("session files %+v (%v), want one", got.Files, err)
	}
}
