package relay

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/broker"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// sessionView is s as GET /v1/sessions and /v1/sessions/{id} show it.
func (srv *Server) sessionView(s store.Session, live bool) api.Session {
	v := api.Session{ID: s.ID, TechID: s.TechID, TechUser: s.TechUser, DeviceID: s.DeviceID, DeviceName: s.DeviceName,
		Mode: s.Mode, Capabilities: s.Capabilities, Granted: s.Granted, State: s.State, EndReason: s.EndReason,
		Reason: s.Reason, Files: fileViews(s.Files), FilesDropped: s.FilesDropped, CreatedAt: s.CreatedAt,
		StartedAt: s.StartedAt, EndedAt: s.EndedAt, RecordingID: s.RecordingID, Live: live,
		Path: s.Path, PathWhy: s.PathWhy, Relay: s.Relay}
	if rec, err := srv.db.RecordingByID(s.ID); err == nil {
		v.RecordingID, v.RecordingState = rec.ID, rec.State
	}
	if !s.StartedAt.IsZero() {
		end := s.EndedAt
		if end.IsZero() {
			end = now()
		}
		v.Duration = end.Sub(s.StartedAt).Round(time.Second).String()
	}
	return v
}

// fileViews converts a session's file list (nil stays nil).
func fileViews(fs []store.FileTransfer) []api.FileTransfer {
	if fs == nil {
		return nil
	}
	out := make([]api.FileTransfer, len(fs))
	for i, f := range fs {
		out[i] = api.FileTransfer{Direction: f.Direction, Path: f.Path, Size: f.Size, SHA256: f.SHA256, Time: f.Time}
	}
	return out
}

// visible reports whether p may see session r: their own, or every one
// with session.view_all; for a user scoped to device groups, only those
// with a device of their groups (see recordInScope).
func (s *Server) visible(p *principal, r *store.Session) bool {
	return (p.perms.Has(rbac.SessionViewAll) || r.TechID == p.user.ID) &&
		s.recordInScope(p, r.TechID, r.DeviceID, r.DeviceName)
}

func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request, p *principal) {
	all, err := s.db.ListSessions()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	active := r.URL.Query().Get("active") == "1"
	relays := s.liveRelays()
	out := []api.Session{}
	for _, rec := range all {
		live := s.sessionLive(&rec, relays)
		if !s.visible(p, &rec) || (active && !live) {
			continue
		}
		out = append(out, s.sessionView(rec, live))
	}
	writeJSON(w, http.StatusOK, out)
}

// pathSessionID returns the request's {id} as a session ID. A malformed one
// wraps store.ErrNotFound: no session or recording can have it, so the
// caller answers as for an unknown one.
func pathSessionID(r *http.Request) (ids.SessionID, error) {
	id, err := ids.ParseSessionID(r.PathValue("id"))
	if err != nil {
		return "", fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return id, nil
}

func (s *Server) handleSessionShow(w http.ResponseWriter, r *http.Request, p *principal) {
	id, err := pathSessionID(r)
	var rec *store.Session
	if err == nil {
		rec, err = s.db.SessionByID(id)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.visible(p, rec)) {
		s.writeErr(w, errf(http.StatusNotFound, "see `tech sessions list`", "no session %q", r.PathValue("id")))
		return
	} else if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.sessionView(*rec, s.sessionLive(rec, s.liveRelays())))
}

func (s *Server) handleSessionKill(w http.ResponseWriter, r *http.Request, p *principal) {
	id, err := pathSessionID(r)
	var l *broker.Session
	if err == nil {
		l = s.broker.Get(id)
	}
	if l == nil && err == nil && s.node != nil {
		s.killElsewhere(w, r, p, id)
		return
	}
	if l == nil || !s.recordInScope(p, l.Info.TechID, l.Info.DeviceID, l.Info.DeviceName) {
		s.writeErr(w, errNoLiveSession(r))
		return
	}
	s.record(auditEvent(p.user.ID, "session.terminate", id, "success", p.source))
	l.End("terminated by " + p.user.Username)
	writeJSON(w, http.StatusOK, api.SessionKilled{Status: "ended", Session: id})
}

// errNoLiveSession is the answer to a kill of a session that is not live
// or not the caller's to see.
func errNoLiveSession(r *http.Request) error {
	return errf(http.StatusNotFound, "see `tech sessions list --active`", "no live session %q", r.PathValue("id"))
}

// killElsewhere ends a session another relay of the cluster holds: the
// kill is audited here and forwarded to the session's home relay.
func (s *Server) killElsewhere(w http.ResponseWriter, r *http.Request, p *principal, id ids.SessionID) {
	rec, err := s.db.SessionByID(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.recordInScope(p, rec.TechID, rec.DeviceID, rec.DeviceName)) {
		s.writeErr(w, errNoLiveSession(r))
		return
	} else if err != nil {
		s.writeErr(w, err)
		return
	}
	ok, err := s.forwardKill(r.Context(), rec, "terminated by "+p.user.Username)
	if err != nil {
		s.writeErr(w, errf(http.StatusBadGateway, "try again; see the relays' logs", "the relay holding the session did not answer: %v", err))
		return
	}
	if !ok {
		s.writeErr(w, errNoLiveSession(r))
		return
	}
	s.record(auditEvent(p.user.ID, "session.terminate", id, "success", p.source, "relay", rec.Relay))
	writeJSON(w, http.StatusOK, api.SessionKilled{Status: "ended", Session: id})
}
