package relay

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/store"
)

// Why a hold or release changes nothing.
var (
	errAlreadyHeld = errors.New("already on hold")
	errNotHeld     = errors.New("not on hold")
)

// handleRecordingHold places a legal hold on a recording (recording.hold):
// retention keeps it, and its session record, until it is released.
func (s *Server) handleRecordingHold(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.HoldRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	reason := strings.TrimSpace(req.Reason)
	if err := checkHoldReason(reason); err != nil {
		s.writeErr(w, err)
		return
	}
	s.changeHold(w, r, p, "recording.hold", func(rec *store.Recording) error {
		if rec.Hold != nil {
			return errAlreadyHeld
		}
		rec.Hold = &store.Hold{By: p.user.ID, ByName: p.user.Username, At: now(), Reason: reason}
		return nil
	}, func() []string { return []string{"reason", reason} })
}

// handleRecordingRelease lifts a legal hold (recording.hold); retention
// then treats the recording like any other.
func (s *Server) handleRecordingRelease(w http.ResponseWriter, r *http.Request, p *principal) {
	var held store.Hold
	s.changeHold(w, r, p, "recording.release", func(rec *store.Recording) error {
		if rec.Hold == nil {
			return errNotHeld
		}
		held, rec.Hold = *rec.Hold, nil
		return nil
	}, func() []string {
		return []string{"held_by", string(held.By), "held_since", held.At.Format(time.RFC3339), "hold_reason", held.Reason}
	})
}

// changeHold applies fn to the recording named by the path, if the caller
// may see it, audits action with the details details returns once fn
// succeeded, and answers the recording.
func (s *Server) changeHold(w http.ResponseWriter, r *http.Request, p *principal, action string, fn func(*store.Recording) error, details func() []string) {
	id, err := pathSessionID(r)
	var rec *store.Recording
	if err == nil {
		rec, err = s.db.RecordingByID(id)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.recordingInScope(p, rec)) {
		s.writeErr(w, errf(http.StatusNotFound, "see `tech recordings list`", "no recording %q", r.PathValue("id")))
		return
	} else if err != nil {
		s.writeErr(w, err)
		return
	}
	var after store.Recording
	err = s.db.UpdateRecording(id, func(rec *store.Recording) error {
		if err := fn(rec); err != nil {
			return err
		}
		after = *rec
		return nil
	})
	switch {
	case errors.Is(err, errAlreadyHeld):
		s.writeErr(w, errf(http.StatusConflict, "see `tech recordings list`", "recording %s is already on hold", id))
		return
	case errors.Is(err, errNotHeld):
		s.writeErr(w, errf(http.StatusConflict, "", "recording %s is not on hold", id))
		return
	case errors.Is(err, store.ErrNotFound):
		s.writeErr(w, errf(http.StatusNotFound, "see `tech recordings list`", "no recording %q", id))
		return
	case err != nil:
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, action, id, "success", p.source, details()...))
	writeJSON(w, http.StatusOK, recordingView(after))
}

// checkHoldReason refuses a reason that is too long or holds anything but
// printable text: it is shown to people and kept in the audit log.
func checkHoldReason(reason string) error {
	if len(reason) > api.MaxHoldReason || !utf8.ValidString(reason) {
		return errf(http.StatusBadRequest, "", "the reason must be at most %d bytes of text", api.MaxHoldReason)
	}
	for _, c := range reason {
		if unicode.IsControl(c) || sanitize.Invisible(c) {
			return errf(http.StatusBadRequest, "say why in plain words, e.g. a case number", "the reason holds a control or invisible character")
		}
	}
	return nil
}

// holdKeeps reports why retention must keep a recording: it is on hold.
func holdKeeps(rec *store.Recording) error {
	if rec.Hold != nil {
		return errOnHold
	}
	return nil
}

// errOnHold refuses retention's delete of a recording on legal hold.
var errOnHold = errors.New("on legal hold")
