package direct

import (
	"testing"
	"time"
)

func TestParseKnobs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Knobs
	}{
		{"", Knobs{}},
		{"loopback,heartbeat=50ms,stall=1s", Knobs{LoopbackOnly: true, Heartbeat: 50 * time.Millisecond, Stall: time.Second}},
		{"start=1500ms, path=relay", Knobs{StartDelay: 1500 * time.Millisecond, ForceRelay: true}},
		{"start=nonsense,unknown=3", Knobs{}},
	} {
		if got := parseKnobs(c.in); got != c.want {
			t.Errorf("parseKnobs(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}
