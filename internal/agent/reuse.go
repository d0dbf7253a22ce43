package agent

import (
	"context"
	"crypto/hmac"
	"fmt"
	"slices"
	"time"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
)

// autoConsent decides without a prompt when that is allowed: a session
// reusing a live parent session of the same technician whose grants cover
// the request (tech cp --session), or an unattended session on a device
// whose group policy says so AND whose agent was started with
// --allow-unattended. Anything else goes to the end user.
func (s *deviceSession) autoConsent(ctx context.Context) (consent.Decision, bool) {
	if p := s.linkParent(ctx); p != nil {
		s.rec.marker("consent reused from session %s", p.info.ID)
		return consent.Decision{Granted: true, Capabilities: slices.Clone(s.pol.requested)}, true
	}
	if s.pol.unattended {
		s.rec.marker("unattended access: %s", s.info.Reason)
		name, user := s.techShown()
		s.ui.Notice(fmt.Sprintf("A technician, %s (%s), started an unattended session: %s. Type 'end' and press Enter to end it.",
			sanitize.Display(name, 60), sanitize.Display(user, 40), sanitize.Display(s.info.Reason, 200)))
		return s.unattendedGrant(), true
	}
	return consent.Decision{}, false
}

// whyNoUnattendedControl is why an unattended session goes without
// screen-control.
const whyNoUnattendedControl = "screen-control needs an end user's consent: the device group's policy does not allow it unattended"

// unattendedGrant is what an unattended session gets without a prompt:
// what was asked, but screen-control only where the group's policy allows
// it without an end user (policy.unattendedControl). Nothing left refuses.
func (s *deviceSession) unattendedGrant() consent.Decision {
	caps := slices.Clone(s.pol.requested)
	if !s.pol.unattendedControl && slices.Contains(caps, protocol.CapScreenControl) {
		caps = slices.DeleteFunc(caps, func(c string) bool { return c == protocol.CapScreenControl })
		s.markCaps([]string{protocol.CapScreenControl}, "refused without asking: "+whyNoUnattendedControl)
		if len(caps) == 0 {
			return consent.Decision{Why: whyNoUnattendedControl}
		}
		return consent.Decision{Granted: true, Capabilities: caps, Why: whyNoUnattendedControl}
	}
	return consent.Decision{Granted: true, Capabilities: caps}
}

// linkParent finds the parent session named in the offer and links to it
// if it is live, of the same technician, already grants everything asked,
// and the technician proves it holds that session's keys (a proof keyed by
// the parent's e2e exporter, which the relay cannot make). Otherwise the
// end user is asked as for any request.
func (s *deviceSession) linkParent(ctx context.Context) *deviceSession {
	if s.pol.parent == "" {
		return nil
	}
	p := s.live.find(s.pol.parent)
	if p == nil || p.ending.Load() || p.info.TechID != s.info.TechID || !s.parentProven(ctx, p) {
		return nil
	}
	granted := p.grantedCaps()
	for _, c := range s.pol.requested {
		if !protocol.Covers(granted, c) {
			return nil
		}
	}
	p.capMu.Lock()
	p.children = append(p.children, s)
	p.capMu.Unlock()
	s.parent.Store(p)
	return p
}

// parentProven reads the technician's proof of holding the parent session.
func (s *deviceSession) parentProven(ctx context.Context, p *deviceSession) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t, proof, err := s.ch.Recv(ctx)
	if err != nil || t != protocol.InParentProof {
		s.log.Warn("no valid proof of the parent session; asking the end user", "parent", p.info.ID)
		return false
	}
	return hmac.Equal(proof, protocol.ParentProof(p.ch.Exporter, s.info.ID))
}

// takeChildren detaches and returns the sessions reusing this one.
func (s *deviceSession) takeChildren() []*deviceSession {
	s.capMu.Lock()
	defer s.capMu.Unlock()
	c := s.children
	s.children = nil
	return c
}
