package relay

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/recstore"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/recordings"
)

// metaRecipients holds the reviewers' public keys, as JSON []api.Recipient (the
// shape GET /v1/recordings/recipients answers).
const metaRecipients = "recording_recipients"

// hintNoRecipient tells an administrator how to make sessions possible.
const hintNoRecipient = "a superadmin (or another holder of recording.recipients) runs `tech keys generate -o reviewer.key` and `tech recordings recipients add <public key>`"

// recipients returns the configured reviewer keys.
func (s *Server) recipients() ([]api.Recipient, error) {
	b, err := s.db.GetMeta(metaRecipients)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rs []api.Recipient
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, err
	}
	return rs, nil
}

func (s *Server) saveRecipients(rs []api.Recipient) error {
	b, err := json.Marshal(rs)
	if err != nil {
		return err
	}
	return s.db.PutMeta(metaRecipients, b)
}

// recipientKeys returns the keys sessions must be recorded to, or an error
// saying how to add one: recording is required, so no key means no session.
func (s *Server) recipientKeys() ([]string, error) {
	rs, err := s.recipients()
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, errf(http.StatusConflict, hintNoRecipient, "sessions are recorded and no recording recipient is configured")
	}
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = r.Key
	}
	return keys, nil
}

func (s *Server) handleRecipientsList(w http.ResponseWriter, r *http.Request, p *principal) {
	rs, err := s.recipients()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if rs == nil {
		rs = []api.Recipient{}
	}
	writeJSON(w, http.StatusOK, rs)
}

func (s *Server) handleRecipientsAdd(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.RecipientRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	rc, err := recordings.ParseRecipient(req.Key)
	if err != nil {
		s.writeErr(w, errf(http.StatusBadRequest, "use the public key `tech keys generate` printed (tether-rec1…)", "not a recording public key: %v", err))
		return
	}
	id := rc.KeyID()
	rs, err := s.recipients()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	for _, x := range rs {
		if x.KeyID == hex.EncodeToString(id[:]) {
			s.writeErr(w, errf(http.StatusConflict, "", "recipient %s is already configured", x.KeyID))
			return
		}
	}
	rs = append(rs, api.Recipient{Key: rc.String(), KeyID: hex.EncodeToString(id[:]), AddedBy: p.user.ID, AddedAt: now()})
	if err := s.saveRecipients(rs); err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "recording.recipient_add", hex.EncodeToString(id[:]), "success", p.source))
	writeJSON(w, http.StatusOK, rs[len(rs)-1])
}

func (s *Server) handleRecipientsRemove(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	rs, err := s.recipients()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	kept := rs[:0]
	for _, x := range rs {
		if x.KeyID != id {
			kept = append(kept, x)
		}
	}
	if len(kept) == len(rs) {
		s.writeErr(w, errf(http.StatusNotFound, "see `tech recordings recipients list`", "no recipient with key ID %q", id))
		return
	}
	if err := s.saveRecipients(kept); err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "recording.recipient_remove", id, "success", p.source))
	writeJSON(w, http.StatusOK, api.RecipientRemoved{Removed: id})
}

func (s *Server) handleRecordingsList(w http.ResponseWriter, r *http.Request, p *principal) {
	rs, err := s.db.ListRecordings()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := []api.Recording{}
	for _, rec := range rs {
		if s.recordingInScope(p, &rec) {
			out = append(out, recordingView(rec))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// recordingView is rec as GET /v1/recordings shows it.
func recordingView(rec store.Recording) api.Recording {
	return api.Recording{ID: rec.ID, TechUser: rec.TechUser, DeviceName: rec.DeviceName, DeviceID: rec.DeviceID,
		State: rec.State, Size: rec.Size, Pieces: rec.Pieces, SHA256: rec.SHA256, KeyIDs: rec.KeyIDs,
		CreatedAt: rec.CreatedAt, FinishedAt: rec.FinishedAt, Hold: holdView(rec.Hold)}
}

// holdView is h as the API shows it (nil for none).
func holdView(h *store.Hold) *api.Hold {
	if h == nil {
		return nil
	}
	return &api.Hold{By: h.By, ByName: h.ByName, At: h.At, Reason: h.Reason}
}

// recordingInScope reports whether p may see recording rec: for a user
// scoped to device groups, their own and those of a device of their groups.
func (s *Server) recordingInScope(p *principal, rec *store.Recording) bool {
	if !scoped(p) {
		return true
	}
	techID := ids.UserID("")
	if sess, err := s.db.SessionByID(rec.ID); err == nil {
		techID = sess.TechID
		if sess.DeviceID != "" {
			return s.recordInScope(p, techID, sess.DeviceID, "")
		}
	}
	return s.recordInScope(p, techID, "", rec.DeviceName)
}

// handleRecordingGet streams the ciphertext to a reviewer, who decrypts it
// locally; every download is audited.
func (s *Server) handleRecordingGet(w http.ResponseWriter, r *http.Request, p *principal) {
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
	// Streamed from the store (ranged reads from a bucket), never held
	// whole.
	f, err := s.recs.Open(r.Context(), rec.ID)
	if errors.Is(err, recstore.ErrNotFound) {
		s.writeErr(w, errf(http.StatusNotFound, "", "recording %q has no data", id))
		return
	} else if err != nil {
		s.log.Error("open recording", "id", rec.ID, "store", s.recs.String(), "err", err)
		s.writeErr(w, errf(http.StatusBadGateway, "try again later; the relay's log says why", "the recordings store did not answer"))
		return
	}
	defer f.Close()
	s.record(auditEvent(p.user.ID, "recording.download", id, "success", p.source, "state", rec.State))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Tether-Recording-State", rec.State)
	w.Header().Set("X-Tether-Recording-SHA256", rec.SHA256)
	http.ServeContent(w, r, rec.ID.String()+".rec", rec.FinishedAt, f)
}
