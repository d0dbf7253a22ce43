package relay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/recstore"
	"github.com/tether-support/tether/internal/store"
)

// recoverRecordingsAlone runs recoverRecordings for a relay on its own
// bbolt store. On a database several relays share, an open recording or
// an unfinished upload may be another relay's live session: nothing is
// touched (a bucket lifecycle rule removes uploads nobody finishes).
func (s *Server) recoverRecordingsAlone(ctx context.Context) error {
	if usesDatabase(s.cfg.DataDir) {
		return nil
	}
	return s.recoverRecordings(ctx)
}

// recoverRecordings runs at start, before any session: a recording still
// open in the index was cut off by a crash of the relay. The store keeps
// what it holds of it (an object store completes the parts uploaded before
// the crash, and aborts every other unfinished upload), and the index
// marks it incomplete with the stored size and hash, so that reviewers
// read it up to its last whole chunk.
func (s *Server) recoverRecordings(ctx context.Context) error {
	recs, err := s.db.ListRecordings()
	if err != nil {
		return err
	}
	open := map[ids.SessionID]bool{}
	for _, r := range recs {
		if r.State == store.RecordingOpen {
			open[r.ID] = true
		}
	}
	kept, discarded, err := s.recs.Recover(ctx, func(id ids.SessionID) bool { return open[id] })
	if err != nil {
		return fmt.Errorf("recordings store %s: %w", s.recs, err)
	}
	if kept+discarded > 0 {
		s.log.Info("recordings: unfinished uploads", "kept_as_incomplete", kept, "aborted", discarded)
	}
	for id := range open {
		if err := s.markInterrupted(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// markInterrupted sets an interrupted recording's index entry to what the
// store holds of it, state incomplete.
func (s *Server) markInterrupted(ctx context.Context, id ids.SessionID) error {
	size, sum, err := s.hashStored(ctx, id)
	if err != nil {
		return fmt.Errorf("recover recording %s: %w", id, err)
	}
	err = s.db.UpdateRecording(id, func(r *store.Recording) error {
		r.State, r.Size, r.SHA256, r.FinishedAt = store.RecordingIncomplete, size, sum, now()
		return nil
	})
	if err != nil {
		return err
	}
	s.record(audit.NewEvent("", "recording.incomplete", id, "failure", "", "reason", "the relay stopped before the session ended"))
	return nil
}

// hashStored streams the stored recording through SHA-256; a recording
// with nothing stored has size 0 and no hash.
func (s *Server) hashStored(ctx context.Context, id ids.SessionID) (int64, string, error) {
	obj, err := s.recs.Open(ctx, id)
	if errors.Is(err, recstore.ErrNotFound) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	defer obj.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
