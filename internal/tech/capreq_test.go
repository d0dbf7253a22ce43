package tech

import (
	"slices"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
)

// TestHandleCapMessage feeds the messages a device may send about
// capabilities, hostile ones included.
func TestHandleCapMessage(t *testing.T) {
	tests := []struct {
		name    string
		t       protocol.InnerType
		payload string
		ok      bool
		err     string
		want    Event
		granted []string
	}{
		{"answer granted", protocol.InCapAnswer, `{"granted":true,"caps":["shell","screen-view","screen-control"]}`, true, "",
			CapAnswered{Granted: true, Caps: []string{"shell", "screen-view", "screen-control"}}, []string{"shell", "screen-view", "screen-control"}},
		{"answer refused", protocol.InCapAnswer, `{"caps":["shell"],"why":"no"}`, true, "",
			CapAnswered{Caps: []string{"shell"}, Why: "no"}, []string{"shell"}},
		{"revoked", protocol.InCapRevoked, `{"granted":true,"caps":["shell","screen-view"],"why":"revoked by the end user: screen-control"}`, true, "",
			CapRevoked{Caps: []string{"shell", "screen-view"}, Why: "revoked by the end user: screen-control"}, []string{"shell", "screen-view"}},
		{"unknown and repeated names dropped", protocol.InCapAnswer, `{"granted":true,"caps":["root","shell","shell","\u001b[2J"]}`, true, "",
			CapAnswered{Granted: true, Caps: []string{"shell"}}, []string{"shell"}},
		{"malformed", protocol.InCapAnswer, `{"caps":"shell"}`, true, "malformed capability message", nil, []string{"before"}},
		{"not JSON", protocol.InCapRevoked, `]`, true, "malformed capability message", nil, []string{"before"}},
		{"other type", protocol.InStdout, `hello`, false, "", nil, []string{"before"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seen []Event
			s := &LiveSession{c: &Client{Observer: ObserverFunc(func(e Event) { seen = append(seen, e) })}, granted: []string{"before"}}
			e, ok, err := s.HandleCapMessage(tc.t, []byte(tc.payload))
			if ok != tc.ok || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("ok %v err %v; want ok %v err %q", ok, err, tc.ok, tc.err)
			}
			if tc.want != nil {
				if !eventEqual(e, tc.want) || len(seen) != 1 || !eventEqual(seen[0], tc.want) {
					t.Fatalf("event %#v (observed %#v), want %#v", e, seen, tc.want)
				}
			} else if e != nil || len(seen) != 0 {
				t.Fatalf("event %#v observed %#v, want none", e, seen)
			}
			if got := s.Granted(); !slices.Equal(got, tc.granted) {
				t.Fatalf("Granted %v, want %v", got, tc.granted)
			}
		})
	}
}

// eventEqual compares the two capability events.
func eventEqual(a, b Event) bool {
	switch x := a.(type) {
	case CapAnswered:
		y, ok := b.(CapAnswered)
		return ok && x.Granted == y.Granted && x.Why == y.Why && slices.Equal(x.Caps, y.Caps)
	case CapRevoked:
		y, ok := b.(CapRevoked)
		return ok && x.Why == y.Why && slices.Equal(x.Caps, y.Caps)
	}
	return false
}
