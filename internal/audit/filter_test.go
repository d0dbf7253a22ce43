package audit

import (
	"testing"
	"time"
)

func TestFilterMatch(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := &Event{ActorID: "u1", Action: "session.file", Target: "s1", Outcome: "upload",
		Details: map[string]string{"device": "pc-7"}}
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{"no filter", Filter{}, true},
		{"since equal", Filter{Since: t0}, true},
		{"since after", Filter{Since: t0.Add(time.Second)}, false},
		{"until equal excludes", Filter{Until: t0}, false},
		{"until after", Filter{Until: t0.Add(time.Second)}, true},
		{"actor ID", Filter{Actors: []string{"u1"}}, true},
		{"actor by name resolves", Filter{Actors: []string{"alice", "u1"}}, true},
		{"other actor", Filter{Actors: []string{"u2"}}, false},
		{"action exact", Filter{Action: "session.file"}, true},
		{"action family", Filter{Action: "session.*"}, true},
		{"action other family", Filter{Action: "user.*"}, false},
		{"action prefix without star", Filter{Action: "session"}, false},
		{"outcome", Filter{Outcome: "upload"}, true},
		{"other outcome", Filter{Outcome: "download"}, false},
		{"device detail", Filter{Device: "pc-7"}, true},
		{"device target", Filter{Device: "s1"}, true},
		{"other device", Filter{Device: "pc-8"}, false},
	}
	for _, tc := range tests {
		if got := tc.f.Match(t0, e); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}
