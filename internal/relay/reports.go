package relay

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/store"
)

// timeRange reads the since= and until= query parameters (RFC 3339; either
// may be absent).
func timeRange(r *http.Request) (since, until time.Time, err error) {
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &since}, {"until", &until}} {
		v := r.URL.Query().Get(p.name)
		if v == "" {
			continue
		}
		if *p.t, err = time.Parse(time.RFC3339, v); err != nil {
			return since, until, errf(http.StatusBadRequest, "use RFC 3339, e.g. 2026-01-31T00:00:00Z", "bad %s %q", p.name, truncate(v, 64))
		}
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return since, until, errf(http.StatusBadRequest, "", "until must be after since")
	}
	return since, until, nil
}

// inRange reports whether t is at or after since and before until (zero
// bounds are open).
func inRange(t, since, until time.Time) bool {
	return (since.IsZero() || !t.Before(since)) && (until.IsZero() || t.Before(until))
}

// handleSessionReports answers the session report: every session asked
// for in the time range (by its request time) that the caller's scope
// covers, with its files, oldest first; audited as report.sessions.
func (s *Server) handleSessionReports(w http.ResponseWriter, r *http.Request, p *principal) {
	since, until, err := timeRange(r)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	all, err := s.db.ListSessions()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := api.SessionReports{Sessions: []api.SessionReport{}}
	files, t := 0, now()
	for _, rec := range all { // newest first: truncation leaves out the oldest
		if !inRange(rec.CreatedAt, since, until) || !s.recordInScope(p, rec.TechID, rec.DeviceID, rec.DeviceName) {
			continue
		}
		full, err := s.db.SessionByID(rec.ID)
		if err != nil {
			s.writeErr(w, fmt.Errorf("session report: %w", err))
			return
		}
		if len(out.Sessions) == api.MaxReportSessions || files+len(full.Files) > api.MaxReportFiles {
			out.Truncated = true
			break
		}
		files += len(full.Files)
		out.Sessions = append(out.Sessions, s.sessionReport(full, t))
	}
	slices.Reverse(out.Sessions)
	s.record(auditEvent(p.user.ID, "report.sessions", "", "success", p.source, "since", r.URL.Query().Get("since"),
		"until", r.URL.Query().Get("until"), "sessions", fmt.Sprint(len(out.Sessions))))
	writeJSON(w, http.StatusOK, out)
}

// sessionReport is one session of the report, t being the report's time
// (the end of a live session's duration so far).
func (s *Server) sessionReport(rec *store.Session, t time.Time) api.SessionReport {
	v := api.SessionReport{ID: rec.ID, TechID: rec.TechID, TechUser: rec.TechUser, DeviceID: rec.DeviceID,
		DeviceName: rec.DeviceName, Mode: rec.Mode, Reason: rec.Reason, Capabilities: rec.Capabilities, Granted: rec.Granted,
		CreatedAt: rec.CreatedAt, StartedAt: rec.StartedAt, EndedAt: rec.EndedAt, State: rec.State, EndReason: rec.EndReason,
		Files: fileViews(rec.Files), FilesDropped: rec.FilesDropped, RecordingID: rec.RecordingID}
	if rec, err := s.db.RecordingByID(rec.ID); err == nil {
		v.RecordingID, v.RecordingState = rec.ID, rec.State
	}
	if !rec.StartedAt.IsZero() {
		end := rec.EndedAt
		if end.IsZero() {
			end = t
		}
		v.DurationSeconds = int64(end.Sub(rec.StartedAt).Round(time.Second) / time.Second)
	}
	return v
}
