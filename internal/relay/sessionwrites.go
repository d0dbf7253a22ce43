package relay

import (
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/writeq"
)

// What a live session records goes through the relay's write queue
// (package writeq), so that a database that is down or unreachable never
// stalls a session's frames: the session's audit entries, its record's
// state, the files moved and the recordings index wait in order in memory
// and are written when the database answers again. Everything else (sign-
// ins, requests, new sessions) is refused with 503 while it is down.
//
// A queued write is retried whenever it found the database unreachable,
// even when the database committed it and only the answer was lost, so
// each write lands once whatever the retries: the audit entries and file
// lines carry a write key chosen here, when they are queued; the session
// record's and the recordings index's updates set absolute values (a
// state, an end reason, a size), never increments.

// sessionWriteWait is the longest a session's pump waits for one of its
// writes while the database answers (a slow one finishes in the
// background, in order).
const sessionWriteWait = 2 * time.Second

// storeFlushBound is how long a stopping relay tries to write what its
// sessions recorded while the database was unreachable.
const storeFlushBound = 5 * time.Second

// lateAudit is how late an audit entry may be appended before it records
// when its event happened (detail "occurred").
const lateAudit = time.Second

// newSessionWrites returns the relay's write queue.
func (s *Server) newSessionWrites() *writeq.Queue {
	return writeq.New(writeq.Config{Retry: s.cfg.StoreRetry, Wait: sessionWriteWait, Log: s.log})
}

// recordSession appends e through the write queue: a session's audit
// entry. An entry appended late says when its event happened.
func (s *Server) recordSession(e audit.Event) {
	if anonymousFailure(e) {
		s.record(e)
		return
	}
	at := now()
	// The key is chosen now, once: a retry after a commit whose answer
	// was lost finds it taken and appends nothing.
	e.WriteKey = store.NewWriteKey()
	s.writes.Do("audit "+e.Action, func() error {
		ev := e
		if now().Sub(at) > lateAudit {
			ev.Details = make(map[string]string, len(e.Details)+1)
			for k, v := range e.Details {
				ev.Details[k] = v
			}
			ev.Details["occurred"] = at.Format(time.RFC3339Nano)
		}
		err := s.tryAppendAudit(ev)
		if errors.Is(err, store.ErrUnavailable) {
			return err
		}
		return nil
	})
}

// queuedRecords is the broker's view of the store: its writes go through
// the write queue, its one read (the recordings quota) to the store.
type queuedRecords struct {
	db store.Store
	q  *writeq.Queue
}

// UpdateSession queues the update of a session record.
func (r queuedRecords) UpdateSession(id ids.SessionID, fn func(*store.Session) error) error {
	r.q.Do("session "+string(id), func() error { return r.db.UpdateSession(id, fn) })
	return nil
}

// AppendSessionFile queues a file moved in a session.
func (r queuedRecords) AppendSessionFile(id ids.SessionID, f store.FileTransfer) error {
	f.WriteKey = store.NewWriteKey()
	r.q.Do("session file "+string(id), func() error { return r.db.AppendSessionFile(id, f) })
	return nil
}

// PutRecording queues a recording's index entry.
func (r queuedRecords) PutRecording(rec *store.Recording) error {
	r.q.Do("recording "+string(rec.ID), func() error { return r.db.PutRecording(rec) })
	return nil
}

// UpdateRecording queues the update of a recording's index entry.
func (r queuedRecords) UpdateRecording(id ids.SessionID, fn func(*store.Recording) error) error {
	r.q.Do("recording "+string(id), func() error { return r.db.UpdateRecording(id, fn) })
	return nil
}

// RecordingUsage asks the recordings index what a device's finished
// recordings hold (for the quota). While the queue finds the database
// unreachable it does not ask (a session's first recording frame would
// wait for the timeout): the quota then counts only the bytes of live
// sessions.
func (r queuedRecords) RecordingUsage(deviceID string, since time.Time) (int64, error) {
	if r.q.Down() {
		return 0, fmt.Errorf("recordings index: %w", store.ErrUnavailable)
	}
	return r.db.RecordingUsage(deviceID, since)
}
