package relay

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// TestRetention: the job deletes what ended more than RetentionDays (the
// default 365) ago, recording file included, one audit entry each; it
// keeps a recording on hold and its session record, and anything newer.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(context.Background(), InitOptions{Dir: dir, Admin: "root", Password: []byte("a long test passphrase")}); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old, recent := now().Add(-400*24*time.Hour), now().Add(-300*24*time.Hour)
	os.MkdirAll(recordingsDir(dir), 0o700)
	mk := func(id ids.SessionID, ended time.Time, hold bool) {
		t.Helper()
		rec := &store.Recording{ID: id, State: store.RecordingComplete, CreatedAt: ended.Add(-time.Hour), FinishedAt: ended}
		if hold {
			rec.Hold = &store.Hold{By: "u_x", At: now(), Reason: "case 7"}
		}
		if err := s.db.PutRecording(rec); err != nil {
			t.Fatal(err)
		}
		if err := s.db.PutSession(&store.Session{ID: id, State: store.SessionEnded, CreatedAt: ended.Add(-time.Hour), EndedAt: ended, RecordingID: id}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(recordingsDir(dir), string(id)+".rec"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	expired, onHold, young := ids.NewSessionID(), ids.NewSessionID(), ids.NewSessionID()
	mk(expired, old, false)
	mk(onHold, old, true)
	mk(young, recent, false)
	run, err := s.enforceRetention()
	if err != nil {
		t.Fatal(err)
	}
	if run.recordings != 1 || run.sessions != 1 || run.held != 1 || run.days != 365 {
		t.Errorf("run %+v", run)
	}
	for id, gone := range map[ids.SessionID]bool{expired: true, onHold: false, young: false} {
		_, rerr := s.db.RecordingByID(id)
		_, serr := s.db.SessionByID(id)
		_, ferr := os.Stat(filepath.Join(recordingsDir(dir), string(id)+".rec"))
		if (rerr != nil) != gone || (serr != nil) != gone || (ferr != nil) != gone {
			t.Errorf("%s: recording %v, session %v, file %v; want gone %v", id, rerr, serr, ferr, gone)
		}
	}
	actions := map[string]string{}
	s.db.AuditRecords(0, func(r *store.AuditRecord) error {
		if r.ActorID == retentionActor {
			actions[r.Action] = r.Target
		}
		return nil
	})
	if actions["recording.delete"] != string(expired) || actions["session.delete"] != string(expired) || len(actions) != 2 {
		t.Errorf("audited %v", actions)
	}
	// A second run finds nothing more; releasing the hold lets it go.
	if run, _ := s.enforceRetention(); run.recordings+run.sessions != 0 {
		t.Errorf("second run deleted %+v", run)
	}
	s.db.UpdateRecording(onHold, func(r *store.Recording) error { r.Hold = nil; return nil })
	if run, _ := s.enforceRetention(); run.recordings != 1 || run.sessions != 1 {
		t.Errorf("after release: %+v", run)
	}
}

func TestCheckHoldReason(t *testing.T) {
	for reason, ok := range map[string]bool{
		"":                          true,
		"complaint 2026-114":        true,
		"Beschwerde Nr. 7 – Müller": true,
		"case\n7":                   false,
		"case \x1b[2J7":             false,
		"case\u202e7":               false,
		"zero\u200bwidth":           false,
		string(make([]byte, 201)):   false,
		"\xff\xfe":                  false,
	} {
		if err := checkHoldReason(reason); (err == nil) != ok {
			t.Errorf("%q: %v, want ok %v", reason, err, ok)
		}
	}
}
