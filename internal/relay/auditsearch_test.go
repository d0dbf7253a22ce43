package relay

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/store"
)

func TestAuditFilterMatches(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := &store.AuditRecord{Seq: 7, Time: t0, ActorID: "u1", Action: "session.file", Target: "s1", Outcome: "upload",
		Details: map[string]string{"device": "pc-7"}}
	tests := []struct {
		name string
		f    auditFilter
		want bool
	}{
		{"no filter", auditFilter{}, true},
		{"since equal", auditFilter{since: t0}, true},
		{"since after", auditFilter{since: t0.Add(time.Second)}, false},
		{"until equal excludes", auditFilter{until: t0}, false},
		{"until after", auditFilter{until: t0.Add(time.Second)}, true},
		{"actor ID", auditFilter{actors: []string{"u1"}}, true},
		{"actor by name resolves", auditFilter{actors: []string{"alice", "u1"}}, true},
		{"other actor", auditFilter{actors: []string{"u2"}}, false},
		{"action exact", auditFilter{action: "session.file"}, true},
		{"action family", auditFilter{action: "session.*"}, true},
		{"action other family", auditFilter{action: "user.*"}, false},
		{"action prefix without star", auditFilter{action: "session"}, false},
		{"outcome", auditFilter{outcome: "upload"}, true},
		{"other outcome", auditFilter{outcome: "download"}, false},
		{"device detail", auditFilter{device: "pc-7"}, true},
		{"device target", auditFilter{device: "s1"}, true},
		{"other device", auditFilter{device: "pc-8"}, false},
	}
	for _, tc := range tests {
		if got := tc.f.matches(rec); got != tc.want {
			t.Errorf("%s: matches = %v, want %v", tc.name, got, tc.want)
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
		if !flt.since.IsZero() && !flt.until.IsZero() && !flt.until.After(flt.since) {
			t.Errorf("accepted until %v not after since %v", flt.until, flt.since)
		}
		for _, v := range []string{flt.action, flt.device, flt.outcome} {
			if len(v) > 256 {
				t.Errorf("accepted a filter of %d bytes", len(v))
			}
		}
	})
}
