package tech

import (
	"strings"
	"testing"
	"time"
)

func TestAuditSearchFilters(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := &AuditEntry{Seq: 7, Time: at, ActorID: "u_alice", Action: "session.request", Target: "s_1",
		Outcome: "success", Details: map[string]string{"device": "clinic-pc-7"}}
	tests := []struct {
		name  string
		o     AuditSearchOptions
		until time.Time
		want  bool
	}{
		{"no filter", AuditSearchOptions{}, time.Time{}, true},
		{"actor", AuditSearchOptions{Actor: "u_alice"}, time.Time{}, true},
		{"other actor", AuditSearchOptions{Actor: "u_bob"}, time.Time{}, false},
		{"action", AuditSearchOptions{Action: "session.request"}, time.Time{}, true},
		{"action family", AuditSearchOptions{Action: "session.*"}, time.Time{}, true},
		{"other family", AuditSearchOptions{Action: "user.*"}, time.Time{}, false},
		{"action prefix without star", AuditSearchOptions{Action: "session."}, time.Time{}, false},
		{"device detail", AuditSearchOptions{Device: "clinic-pc-7"}, time.Time{}, true},
		{"device target", AuditSearchOptions{Device: "s_1"}, time.Time{}, true},
		{"other device", AuditSearchOptions{Device: "pc-8"}, time.Time{}, false},
		{"until after", AuditSearchOptions{}, at.Add(time.Second), true},
		{"until at", AuditSearchOptions{}, at, false},
		{"all together", AuditSearchOptions{Actor: "u_alice", Action: "session.*", Device: "clinic-pc-7"}, at.Add(time.Hour), true},
	}
	for _, tt := range tests {
		if got := tt.o.matches(e, tt.until); got != tt.want {
			t.Errorf("%s: matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSearchExportKeepsVerificationFailure(t *testing.T) {
	in := `{"seq":1,"time":"2026-03-01T10:00:00Z","actor_id":"","action":"relay.init","target":"root","outcome":"success","source":"","details":null,"prev":"00","hash":"00"}` + "\n"
	res, err := searchExport(strings.NewReader(in), &AuditSearchOptions{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if res.verr == nil {
		t.Error("a line with bad hashes verified")
	}
	if len(res.entries) != 1 || res.entries[0].Action != "relay.init" {
		t.Errorf("entries: %+v", res.entries)
	}
}
