package relay

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// VerifyAudit checks the audit chain in dir offline and returns how many
// entries it verified. The error names the first bad entry.
func VerifyAudit(dir string) (int, error) {
	if !Initialized(dir) {
		return 0, fmt.Errorf("%s holds no relay database", dir)
	}
	db, err := openStore(dir)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	mac, signer, err := auditKeys(dir, db)
	if err != nil {
		return 0, err
	}
	pub := signer.Public().(ed25519.PublicKey)
	if err := audit.Verify(db, mac, pub); err != nil {
		return 0, err
	}
	n := 0
	err = db.AuditRecords(0, func(*store.AuditRecord) error { n++; return nil })
	return n, err
}

// handleAuditExport streams the audit log as JSON Lines or CSV.
func (s *Server) handleAuditExport(w http.ResponseWriter, r *http.Request, p *principal) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = audit.FormatJSONL
	}
	if format != audit.FormatJSONL && format != audit.FormatCSV {
		s.writeErr(w, errf(http.StatusBadRequest, "use jsonl or csv", "unknown format %q", format))
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.writeErr(w, errf(http.StatusBadRequest, "use RFC 3339, e.g. 2026-01-31T00:00:00Z", "bad --since %q", v))
			return
		}
		since = t
	}
	s.record(auditEvent(p.user.ID, "audit.export", format, "success", p.source, "since", r.URL.Query().Get("since")))
	var trailer *audit.Trailer
	if format == audit.FormatJSONL {
		t, err := s.auditTrailer()
		if err != nil {
			s.writeErr(w, fmt.Errorf("audit export: %w", err))
			return
		}
		trailer = t
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := audit.Export(s.db, w, format, since); err != nil {
		s.log.Error("audit export", "err", err)
		return
	}
	if trailer != nil {
		if err := audit.WriteTrailer(w, trailer); err != nil {
			s.log.Error("audit export trailer", "err", err)
		}
	}
}

// auditEvent builds an audit event; kv are detail key/value pairs.
func auditEvent[T ~string](actor ids.UserID, action string, target T, outcome, source string, kv ...string) audit.Event {
	return audit.NewEvent(actor, action, target, outcome, source, kv...)
}
