package agent

import (
	"slices"
	"sync"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
)

// grantedSession is a session whose grant is caps, as setGranted leaves it.
func grantedSession(caps []string) *deviceSession {
	s := &deviceSession{granted: caps}
	s.grants.store(caps)
	return s
}

func TestGrantSetAllows(t *testing.T) {
	tests := []struct {
		granted []string
		allowed []string
		denied  []string
	}{
		{[]string{"shell"}, []string{"shell"}, []string{"screen-view", "screen-control", "files", "nonsense", ""}},
		{[]string{"screen-view"}, []string{"screen-view"}, []string{"screen-control"}},
		{[]string{"screen-view", "screen-control"}, []string{"screen-view", "screen-control"}, []string{"shell"}},
		{[]string{"screen-control"}, []string{"screen-view", "screen-control"}, nil}, // control covers view
		{[]string{"files"}, []string{"files", "files:to-device", "files:from-device"}, []string{"clipboard"}},
		{nil, nil, []string{"shell", "screen-view"}},
	}
	for _, tc := range tests {
		s := grantedSession(tc.granted)
		for _, c := range tc.allowed {
			if !s.hasCap(c) {
				t.Errorf("granted %v: hasCap(%q) = false", tc.granted, c)
			}
		}
		for _, c := range tc.denied {
			if s.hasCap(c) {
				t.Errorf("granted %v: hasCap(%q) = true", tc.granted, c)
			}
		}
	}
}

func TestGrantSetStoreReportsLost(t *testing.T) {
	var g grantSet
	if lost := g.store([]string{"shell", "screen-view", "screen-control"}); lost != nil {
		t.Fatalf("first grant lost %v", lost)
	}
	if lost := g.store([]string{"shell", "screen-view"}); !slices.Equal(lost, []string{"screen-control"}) {
		t.Fatalf("control revoked: lost %v", lost)
	}
	if lost := g.store([]string{"shell"}); !slices.Equal(lost, []string{"screen-view"}) {
		t.Fatalf("view revoked: lost %v", lost)
	}
	g.store([]string{"screen-control"})
	if lost := g.store(nil); !slices.Equal(lost, []string{"screen-view", "screen-control"}) {
		t.Fatalf("everything revoked: lost %v", lost)
	}
}

// TestRevokeHooks checks the hooks a desktop handler registers run for
// their capability only, after hasCap already says no, and not after stop.
func TestRevokeHooks(t *testing.T) {
	s := grantedSession([]string{"screen-view", "screen-control"})
	var mu sync.Mutex
	var got []string
	hook := func(c string) func(string) {
		return func(why string) {
			if s.hasCap(c) {
				t.Errorf("hook for %s ran while it was still granted", c)
			}
			mu.Lock()
			got = append(got, c+": "+why)
			mu.Unlock()
		}
	}
	stopControl := s.onRevoke(protocol.CapScreenControl, hook(protocol.CapScreenControl))
	s.onRevoke(protocol.CapScreenView, hook(protocol.CapScreenView))
	s.grants.fire(s.grants.store([]string{"screen-view"}), "control revoked")
	if !slices.Equal(got, []string{"screen-control: control revoked"}) {
		t.Fatalf("after revoking control: hooks ran %q", got)
	}
	stopControl()
	stopControl()
	s.grants.store([]string{"screen-view", "screen-control"})
	got = nil
	s.grants.fire(s.grants.store(nil), "all revoked")
	if !slices.Equal(got, []string{"screen-view: all revoked"}) {
		t.Fatalf("after revoking view with control's hook stopped: hooks ran %q", got)
	}
}

// TestChildFollowsParentGrant: a session reusing its parent's consent
// loses a capability as soon as the parent does.
func TestChildFollowsParentGrant(t *testing.T) {
	parent := grantedSession([]string{"screen-view", "screen-control"})
	child := grantedSession([]string{"screen-view", "screen-control"})
	child.parent.Store(parent)
	if !child.hasCap(protocol.CapScreenControl) {
		t.Fatal("child lacks control its parent has")
	}
	parent.grants.store([]string{"screen-view"})
	if child.hasCap(protocol.CapScreenControl) || !child.hasCap(protocol.CapScreenView) {
		t.Fatal("child kept control its parent lost, or lost view")
	}
}

func TestMayAsk(t *testing.T) {
	tests := []struct {
		allowed []string
		c       string
		want    bool
	}{
		{[]string{"shell", "screen-view", "screen-control"}, "screen-control", true},
		{[]string{"shell", "screen-view"}, "screen-control", false},
		{[]string{"shell", "screen-control"}, "screen-control", false}, // control needs view allowed too
		{[]string{"shell", "screen-view"}, "screen-view", true},
		{nil, "shell", false},
	}
	for _, tc := range tests {
		if got := (policy{allowed: tc.allowed}).mayAsk(tc.c); got != tc.want {
			t.Errorf("allowed %v: mayAsk(%q) = %v, want %v", tc.allowed, tc.c, got, tc.want)
		}
	}
}

func TestScreenFPS(t *testing.T) {
	for in, want := range map[int]int{0: 30, -3: 30, 1: 5, 5: 5, 30: 30, 60: 60, 1000: 60} {
		if got := screenFPS(in); got != want {
			t.Errorf("screenFPS(%d) = %d, want %d", in, got, want)
		}
	}
}

// BenchmarkHasCap is what a desktop handler pays per input event.
func BenchmarkHasCap(b *testing.B) {
	s := grantedSession([]string{"shell", "screen-view", "screen-control"})
	for b.Loop() {
		if !s.hasCap(protocol.CapScreenControl) {
			b.Fatal("not granted")
		}
	}
}

// TestGrantHooks checks an onGrant hook runs when its capability is
// gained (directly or through one that covers it), after hasCap already
// says yes, not on a revocation, not for a capability already held, and
// not after stop; a child's hook runs when its parent regains it.
func TestGrantHooks(t *testing.T) {
	tests := []struct {
		name   string
		before []string
		after  []string
		want   []string // the hooks that run
	}{
		{"control granted", []string{"screen-view"}, []string{"screen-view", "screen-control"}, []string{"screen-control: ok"}},
		{"control covers view", nil, []string{"screen-control"}, []string{"screen-view: ok", "screen-control: ok"}},
		{"already held", []string{"screen-view", "screen-control"}, []string{"screen-control"}, nil},
		{"revoked", []string{"screen-view", "screen-control"}, []string{"screen-view"}, nil},
		{"unrelated", []string{"screen-view"}, []string{"screen-view", "shell"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := grantedSession(tc.before)
			var got []string
			for _, c := range []string{protocol.CapScreenView, protocol.CapScreenControl} {
				s.onGrant(c, func(why string) {
					if !s.hasCap(c) {
						t.Errorf("grant hook for %s ran before hasCap said yes", c)
					}
					got = append(got, c+": "+why)
				})
			}
			lost, gained := s.grants.swap(tc.after)
			s.grants.fire(lost, "ok")
			s.grants.fireGrant(gained, "ok")
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("hooks ran %q, want %q", got, want)
			}
		})
	}
	t.Run("stopped", func(t *testing.T) {
		s := grantedSession([]string{"screen-view"})
		ran := false
		stop := s.onGrant(protocol.CapScreenControl, func(string) { ran = true })
		stop()
		_, gained := s.grants.swap([]string{"screen-control"})
		s.grants.fireGrant(gained, "ok")
		if ran {
			t.Fatal("a stopped grant hook ran")
		}
	})
}
