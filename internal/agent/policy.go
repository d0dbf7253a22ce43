package agent

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/recordings"
)

// policy is everything the agent does differently for a session because of
// what the relay sent about it (the session offer's SessionInfo), combined
// with the agent's own configuration. decidePolicy is the one place it is
// worked out, so a policy the relay cannot forge (a signed one) can later be
// checked there alone.
type policy struct {
	// requested are the capabilities the technician asks for at the start.
	requested []string
	// allowed are the capabilities the technician's role lets them ask for
	// mid-session; anything else is refused without asking.
	allowed []string
	// unattended starts the session without a prompt: the device group's
	// policy says so and the agent was started with --allow-unattended.
	// unattendedControl lets such a session have screen-control too: the
	// group's policy is unattended-control, and no signed policy is in
	// force (a signed policy cannot say so yet, so it never allows it).
	unattended, unattendedControl bool
	// screenFPS caps a desktop session's frames per second (5..60).
	screenFPS int
	// parent is the live session whose consent this one may reuse, once
	// the technician proves it holds that session's keys (see linkParent).
	parent ids.SessionID
	// recipients are the reviewers' keys the recording is encrypted to;
	// recordInput records typed input too.
	recipients  []*recordings.Recipient
	recordInput bool
	// idle ends the session after that long without human input; limit
	// ends it after that long whatever happens.
	idle, limit time.Duration
}

// consentUnattended and consentUnattendedControl are the group policy
// values that, with the agent's own --allow-unattended, let a session
// start without a prompt; only the second lets it have screen-control.
const (
	consentUnattended        = "unattended"
	consentUnattendedControl = "unattended-control"
)

// unattendedPolicy reports whether group policy pol allows sessions
// without a prompt.
func unattendedPolicy(pol string) bool {
	return pol == consentUnattended || pol == consentUnattendedControl
}

// Bounds of the desktop frame-rate cap; a relay's value outside them is
// brought within, a missing one is the default.
const (
	minScreenFPS     = 5
	maxScreenFPS     = 60
	defaultScreenFPS = 30
)

// screenFPS is the relay's frame-rate cap n brought within bounds.
func screenFPS(n int) int {
	if n <= 0 {
		return defaultScreenFPS
	}
	return min(max(n, minScreenFPS), maxScreenFPS)
}

// decidePolicy decides, from info and cfg, what the agent will do for the
// session. It fails when the session must not start: the relay named no
// recording recipient, or one that does not parse, or (with a signed
// policy, which a device pinning a trust root always has) the relay sent
// anything beyond what the signed policy allows (see checkSigned).
func decidePolicy(info protocol.SessionInfo, cfg Config, signed *signedPolicy) (policy, error) {
	if signed != nil {
		var err error
		if info, err = checkSigned(info, signed); err != nil {
			return policy{}, err
		}
	}
	p := policy{
		requested:         protocol.NormalizeCaps(info.Caps),
		allowed:           slices.Clone(info.Allowed),
		unattended:        unattendedPolicy(info.ConsentPolicy) && cfg.AllowUnattended,
		unattendedControl: info.ConsentPolicy == consentUnattendedControl && cfg.AllowUnattended && signed == nil,
		screenFPS:         screenFPS(info.ScreenMaxFPS),
		parent:            info.Parent,
		recordInput:       info.RecordInput,
		idle:              orDefault(info.IdleTimeout, protocol.DefaultIdleTimeout),
		limit:             orDefault(info.MaxDuration, protocol.DefaultMaxSession),
	}
	if !recordingBuiltIn {
		return p, nil // bench-only build (tag tether_norecord): nothing is recorded
	}
	if len(info.Recipients) == 0 {
		return p, errors.New("the relay named no recording recipient; refusing an unrecorded session")
	}
	for _, k := range info.Recipients {
		r, err := recordings.ParseRecipient(k)
		if err != nil {
			return p, fmt.Errorf("recording recipient: %w", err)
		}
		p.recipients = append(p.recipients, r)
	}
	return p, nil
}

// orDefault is d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// mayAsk reports whether the technician may ask for capability c
// mid-session. screen-control needs screen-view allowed too (control
// includes view).
func (p policy) mayAsk(c string) bool {
	if c == protocol.CapScreenControl && !slices.Contains(p.allowed, protocol.CapScreenView) {
		return false
	}
	return slices.Contains(p.allowed, c)
}
