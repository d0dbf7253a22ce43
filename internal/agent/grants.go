package agent

import (
	"sync"
	"sync/atomic"

	"github.com/tether-support/tether/internal/protocol"
)

// grantSet is a session's current grants in a form read without a lock,
// and the hooks that run when a capability stops being granted. The
// granted list itself stays in deviceSession.granted under capMu; store
// is called with capMu held, so the two never disagree for long and a
// reader of allows never sees a capability that was revoked before it
// looked.
type grantSet struct {
	// bits has bit i set when capOrder[i] is covered by the
	// grant (protocol.Covers: files covers both directions, screen-control
	// covers screen-view).
	bits atomic.Uint32

	mu    sync.Mutex
	hooks map[uint64]revokeHook
	next  uint64
}

// revokeHook is one onRevoke registration.
type revokeHook struct {
	capability string
	fn         func(why string)
}

// capOrder is every known capability; an index is a bit in grantSet.bits.
var capOrder = protocol.Capabilities()

// capBit is capability c's bit in grantSet.bits, 0 for an unknown name.
func capBit(c string) uint32 {
	for i, k := range capOrder {
		if k == c {
			return 1 << i
		}
	}
	return 0
}

// coveredBits is the bit set of everything granted covers.
func coveredBits(granted []string) uint32 {
	var b uint32
	for i, k := range capOrder {
		if protocol.Covers(granted, k) {
			b |= 1 << i
		}
	}
	return b
}

// allows reports whether c is covered by the grant right now.
func (g *grantSet) allows(c string) bool {
	b := capBit(c)
	return b != 0 && g.bits.Load()&b != 0
}

// store makes granted the grant and returns the capabilities it covered
// before and covers no longer.
func (g *grantSet) store(granted []string) (lost []string) {
	now := coveredBits(granted)
	before := g.bits.Swap(now)
	for i, k := range capOrder {
		if before&^now&(1<<i) != 0 {
			lost = append(lost, k)
		}
	}
	return lost
}

// onRevoke registers fn for capability c; stop unregisters it.
func (g *grantSet) onRevoke(c string, fn func(why string)) (stop func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hooks == nil {
		g.hooks = make(map[uint64]revokeHook)
	}
	id := g.next
	g.next++
	g.hooks[id] = revokeHook{capability: c, fn: fn}
	return func() {
		g.mu.Lock()
		delete(g.hooks, id)
		g.mu.Unlock()
	}
}

// fire runs the hooks registered for the lost capabilities, with why.
func (g *grantSet) fire(lost []string, why string) {
	if len(lost) == 0 {
		return
	}
	g.mu.Lock()
	var run []func(string)
	for _, h := range g.hooks {
		for _, c := range lost {
			if h.capability == c {
				run = append(run, h.fn)
			}
		}
	}
	g.mu.Unlock()
	for _, fn := range run {
		fn(why)
	}
}

// onRevoke registers fn to run when capability c stops being granted in
// this session: the end user revoked it, or revoked something that takes
// it along (screen-view takes screen-control, files both directions), or
// the parent session whose consent this one reuses lost it. fn runs once
// per such revocation, on the revoking goroutine, after hasCap(c) already
// reports false and before the technician is told; it must not block (a
// desktop handler releases held keys and buttons, or stops capture, and
// returns). It does not run when the session ends: the handler's close
// does. stop unregisters fn; calling it more than once is harmless.
func (s *deviceSession) onRevoke(c string, fn func(why string)) (stop func()) {
	return s.grants.onRevoke(c, fn)
}
