package agent

import (
	"sync"
	"sync/atomic"

	"github.com/tether-support/tether/internal/protocol"
)

// grantSet is a session's current grants in a form read without a lock,
// and the hooks that run when a capability stops or starts being granted. The
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

// revokeHook is one onRevoke or onGrant registration.
type revokeHook struct {
	capability string
	grant      bool // an onGrant hook: runs when capability is gained
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
	lost, _ = g.swap(granted)
	return lost
}

// swap makes granted the grant and returns the capabilities it no longer
// covers (lost) and those it covers now and did not before (gained).
func (g *grantSet) swap(granted []string) (lost, gained []string) {
	now := coveredBits(granted)
	before := g.bits.Swap(now)
	for i, k := range capOrder {
		switch {
		case before&^now&(1<<i) != 0:
			lost = append(lost, k)
		case now&^before&(1<<i) != 0:
			gained = append(gained, k)
		}
	}
	return lost, gained
}

// onRevoke registers fn for the loss of capability c; stop unregisters it.
func (g *grantSet) onRevoke(c string, fn func(why string)) (stop func()) {
	return g.register(revokeHook{capability: c, fn: fn})
}

// onGrant registers fn for the gain of capability c; stop unregisters it.
func (g *grantSet) onGrant(c string, fn func(why string)) (stop func()) {
	return g.register(revokeHook{capability: c, grant: true, fn: fn})
}

// register adds hook h; stop removes it.
func (g *grantSet) register(h revokeHook) (stop func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hooks == nil {
		g.hooks = make(map[uint64]revokeHook)
	}
	id := g.next
	g.next++
	g.hooks[id] = h
	return func() {
		g.mu.Lock()
		delete(g.hooks, id)
		g.mu.Unlock()
	}
}

// fire runs the onRevoke hooks registered for the lost capabilities, with
// why.
func (g *grantSet) fire(lost []string, why string) { g.run(lost, false, why) }

// fireGrant runs the onGrant hooks registered for the gained capabilities,
// with why.
func (g *grantSet) fireGrant(gained []string, why string) { g.run(gained, true, why) }

// run runs the hooks of kind grant registered for any of caps, with why.
func (g *grantSet) run(caps []string, grant bool, why string) {
	if len(caps) == 0 {
		return
	}
	g.mu.Lock()
	var run []func(string)
	for _, h := range g.hooks {
		for _, c := range caps {
			if h.capability == c && h.grant == grant {
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

// onGrant registers fn to run when capability c becomes granted in this
// session: the end user approved a request for it mid-session (or for
// something that covers it: screen-control covers screen-view), or the
// parent session whose consent this one reuses gained it. fn runs on the
// granting goroutine after hasCap(c) already reports true (for a session
// reusing a parent's consent: after the parent's grant is stored), and
// before the relay is told; it must not block. stop unregisters fn.
func (s *deviceSession) onGrant(c string, fn func(why string)) (stop func()) {
	return s.grants.onGrant(c, fn)
}
