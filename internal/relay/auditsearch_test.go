package relay

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

// TestMatchRecord: a stored entry is matched on its time, actor, action,
// target, outcome and details (the rules themselves: audit.TestFilterMatch).
func TestMatchRecord(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := &store.AuditRecord{Seq: 7, Time: t0, ActorID: "u1", Action: "session.file", Target: "s1", Outcome: "upload",
		Details: map[string]string{"device": "pc-7"}}
	tests := []struct {
		name string
		f    audit.Filter
		want bool
	}{
		{"all fields", audit.Filter{Since: t0, Until: t0.Add(time.Second), Actors: []string{"u1"}, Action: "session.*",
			Outcome: "upload", Device: "pc-7"}, true},
		{"time", audit.Filter{Until: t0}, false},
		{"actor", audit.Filter{Actors: []string{"u2"}}, false},
		{"action", audit.Filter{Action: "user.*"}, false},
		{"outcome", audit.Filter{Outcome: "download"}, false},
		{"target", audit.Filter{Device: "s1"}, true},
		{"detail", audit.Filter{Device: "pc-8"}, false},
	}
	for _, tc := range tests {
		if got := matchRecord(&tc.f, rec); got != tc.want {
			t.Errorf("%s: matchRecord = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzAuditSearchQuery feeds arbitrary query strings to the audit search's
// parser: it must never panic, and what it accepts must be within bounds.
func FuzzAuditSearchQuery(f *testing.F) {
	s := newTestServer(f)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest(http.MethodGet, "/v1/audit/search", nil)
		r.URL.RawQuery = rawQuery
		flt, _, limit, err := s.parseAuditSearch(r)
		if err != nil {
			return
		}
		if limit < 1 || limit > api.AuditSearchMaxLimit {
			t.Errorf("accepted limit %d", limit)
		}
		if !flt.Since.IsZero() && !flt.Until.IsZero() && !flt.Until.After(flt.Since) {
			t.Errorf("accepted until %v not after since %v", flt.Until, flt.Since)
		}
		for _, v := range []string{flt.Action, flt.Device, flt.Outcome} {
			if len(v) > 256 {
				t.Errorf("accepted a filter of %d bytes", len(v))
			}
		}
	})
}
