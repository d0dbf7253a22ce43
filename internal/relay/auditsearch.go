package relay

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

// matchRecord reports whether the stored entry r passes f.
func matchRecord(f *audit.Filter, r *store.AuditRecord) bool {
	return f.Match(r.Time, &audit.Event{ActorID: r.ActorID, Action: r.Action, Target: r.Target,
		Outcome: r.Outcome, Details: r.Details})
}

// parseAuditSearch reads the filter, the cursor and the page size of a
// search request.
func (s *Server) parseAuditSearch(r *http.Request) (f audit.Filter, after uint64, limit int, err error) {
	q := r.URL.Query()
	if f.Since, f.Until, err = timeRange(r); err != nil {
		return f, 0, 0, err
	}
	for _, v := range []string{"actor", "action", "device", "outcome"} {
		if len(q.Get(v)) > 256 {
			return f, 0, 0, errf(http.StatusBadRequest, "", "%s is longer than 256 bytes", v)
		}
	}
	f.Action, f.Device, f.Outcome = q.Get("action"), q.Get("device"), q.Get("outcome")
	if a := q.Get("actor"); a != "" {
		f.Actors = []string{a}
		if u, err := s.db.UserByName(a); err == nil {
			f.Actors = append(f.Actors, string(u.ID))
		}
	}
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			return f, 0, 0, errf(http.StatusBadRequest, "", "bad after %q: an entry number", truncate(v, 32))
		}
	}
	limit = api.AuditSearchDefaultLimit
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > api.AuditSearchMaxLimit {
			return f, 0, 0, errf(http.StatusBadRequest, "", "limit must be 1..%d", api.AuditSearchMaxLimit)
		}
	}
	return f, after, limit, nil
}

// errPageDone stops reading the audit log once a page is complete.
var errPageDone = errors.New("page done")

// handleAuditSearch answers one page of the audit entries that match the
// query's filters, after the entry after= (audit.read). It reads at most
// AuditSearchMaxScan records per request; Next says where to go on.
// The first page of a search is audited as audit.search.
func (s *Server) handleAuditSearch(w http.ResponseWriter, r *http.Request, p *principal) {
	f, after, limit, err := s.parseAuditSearch(r)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if after == 0 {
		q := r.URL.Query()
		s.record(auditEvent(p.user.ID, "audit.search", "", "success", p.source, "since", q.Get("since"), "until", q.Get("until"),
			"actor", q.Get("actor"), "action", q.Get("action"), "device", q.Get("device"), "outcome", q.Get("outcome")))
	}
	page := api.AuditPage{Entries: []api.AuditEntry{}}
	scanned := 0
	err = s.db.AuditRecords(after+1, func(rec *store.AuditRecord) error {
		scanned++
		if matchRecord(&f, rec) {
			page.Entries = append(page.Entries, api.AuditEntry{Seq: rec.Seq, Time: rec.Time, ActorID: rec.ActorID,
				Action: rec.Action, Target: rec.Target, Outcome: rec.Outcome, Source: rec.Source, Details: rec.Details})
		}
		if len(page.Entries) == limit || scanned == api.AuditSearchMaxScan {
			page.Next = rec.Seq
			return errPageDone
		}
		return nil
	})
	if err != nil && !errors.Is(err, errPageDone) {
		s.writeErr(w, fmt.Errorf("audit search: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, page)
}
