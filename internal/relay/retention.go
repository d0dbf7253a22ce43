package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/passpolicy"
	"github.com/tether-support/tether/internal/store"
)

// DefaultRetentionInterval is how often the retention job runs.
const DefaultRetentionInterval = 24 * time.Hour

// retentionActor is the audit actor of deletions by the retention job.
const retentionActor = "retention"

// enforceRetentionDaily runs the retention job at start and then every
// RetentionInterval until ctx ends.
func (s *Server) enforceRetentionDaily(ctx context.Context) {
	for {
		if r, err := s.enforceRetention(); err != nil {
			s.log.Error("retention", "err", err)
		} else if r.recordings+r.sessions > 0 || r.held > 0 {
			s.log.Info("retention", "recordings_deleted", r.recordings, "sessions_deleted", r.sessions, "kept_on_hold", r.held, "days", r.days)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.RetentionInterval):
		}
	}
}

// retentionRun counts what one run of the retention job did.
type retentionRun struct {
	days                 int
	recordings, sessions int
	// held counts expired recordings kept because they are on legal hold.
	held int
}

// retentionDays is the longest RetentionDays of any organisation's policy:
// a record is deleted only once no organisation needs it.
func (s *Server) retentionDays() (int, error) {
	orgs, err := s.db.ListOrgs()
	if err != nil {
		return 0, err
	}
	ps := []passpolicy.Policy{passpolicy.Default()}
	if len(orgs) > 0 {
		ps = ps[:0]
	}
	for _, o := range orgs {
		ps = append(ps, o.Policy)
	}
	return passpolicy.Merge(ps...).RetentionDays, nil
}

// enforceRetention deletes the recordings (index entry and ciphertext
// file) and session records that ended more than the retention ago, and
// audits each deletion as its own entry (recording.delete,
// session.delete; actor "retention"). It never deletes a recording on
// legal hold, nor the session record of one, nor anything of a session
// still live.
func (s *Server) enforceRetention() (retentionRun, error) {
	days, err := s.retentionDays()
	if err != nil || days < passpolicy.MinRetentionDays {
		return retentionRun{}, fmt.Errorf("retention period: %d days, %v", days, err)
	}
	run := retentionRun{days: days}
	cutoff := now().Add(s.cfg.RetentionClockSkew).Add(-time.Duration(days) * 24 * time.Hour)
	held, err := s.deleteExpiredRecordings(cutoff, &run)
	if err != nil {
		return run, err
	}
	return run, s.deleteExpiredSessions(cutoff, held, &run)
}

// deleteExpiredRecordings deletes the recordings that ended before cutoff
// and returns the IDs of those on hold.
func (s *Server) deleteExpiredRecordings(cutoff time.Time, run *retentionRun) (map[ids.SessionID]bool, error) {
	recs, err := s.db.ListRecordings()
	if err != nil {
		return nil, err
	}
	held := map[ids.SessionID]bool{}
	for _, rec := range recs {
		if rec.Hold != nil {
			held[rec.ID] = true
		}
		if !lastTime(rec.FinishedAt, rec.CreatedAt).Before(cutoff) || s.broker.Get(rec.ID) != nil {
			continue
		}
		err := s.db.DeleteRecording(rec.ID, holdKeeps)
		switch {
		case errors.Is(err, errOnHold):
			held[rec.ID] = true
			run.held++
			continue
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		if err := s.recs.Delete(context.Background(), rec.ID); err != nil {
			s.log.Error("retention: remove recording file", "id", rec.ID, "store", s.recs.String(), "err", err)
		}
		run.recordings++
		s.record(auditEvent(retentionActor, "recording.delete", rec.ID, "success", "",
			"reason", "retention", "retention_days", fmt.Sprint(run.days), "ended", lastTime(rec.FinishedAt, rec.CreatedAt).Format(time.RFC3339),
			"size", fmt.Sprint(rec.Size), "sha256", rec.SHA256))
	}
	return held, nil
}

// deleteExpiredSessions deletes the session records that ended before
// cutoff, keeping those whose recording is on hold.
func (s *Server) deleteExpiredSessions(cutoff time.Time, held map[ids.SessionID]bool, run *retentionRun) error {
	sessions, err := s.db.ListSessions()
	if err != nil {
		return err
	}
	for _, sess := range sessions {
		if held[sess.ID] || (sess.RecordingID != "" && held[sess.RecordingID]) ||
			!lastTime(sess.EndedAt, sess.CreatedAt).Before(cutoff) || s.broker.Get(sess.ID) != nil {
			continue
		}
		err := s.db.DeleteSession(sess.ID, func(cur *store.Session) error {
			if cur.State != sess.State || !cur.EndedAt.Equal(sess.EndedAt) {
				return errors.New("changed meanwhile") // looked at again next run
			}
			return nil
		})
		if err != nil {
			continue
		}
		run.sessions++
		s.record(auditEvent(retentionActor, "session.delete", sess.ID, "success", "",
			"reason", "retention", "retention_days", fmt.Sprint(run.days), "ended", lastTime(sess.EndedAt, sess.CreatedAt).Format(time.RFC3339),
			"tech_id", string(sess.TechID), "device", sess.DeviceName))
	}
	return nil
}

// lastTime is t, or else (zero) since.
func lastTime(t, since time.Time) time.Time {
	if t.IsZero() {
		return since
	}
	return t
}
