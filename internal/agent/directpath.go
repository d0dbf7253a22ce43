package agent

import (
	"context"
	"time"

	"github.com/tether-support/tether/internal/direct"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/transport"
)

// startDirect answers the technician's direct-path attempts for this
// session (PROTOCOL.md section 8.8) when the feature was negotiated. With
// the signed policy (signedDeny), the relay's word of the organisation's
// policy or this device's setting denying the direct path, the answer is a
// refusal and no socket is opened.
func (s *deviceSession) startDirect(signedDeny bool) error {
	if !s.ch.Features().Has(protocol.FeatureDirectPath) {
		return nil
	}
	knobs := direct.KnobsFromEnv()
	var deny string
	switch {
	case signedDeny:
		deny = "the organisation's signed policy denies the direct path"
	case s.info.DirectPath == protocol.DirectPathDeny:
		deny = "the organisation's policy denies the direct path"
	case s.cfg.DirectPath == protocol.DirectPathDeny:
		deny = "this device denies the direct path"
	case knobs.ForceRelay:
		deny = "the direct path is turned off here"
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.directStop = cancel
	link, err := direct.NewLink(ctx, s.ch, direct.LinkConfig{Role: direct.Answerer, Deny: deny, STUN: direct.STUNServers(s.info.STUN),
		Knobs: knobs, OnPath: s.pathChanged, Log: s.log})
	if err != nil {
		cancel()
		return err
	}
	s.link = link
	return nil
}

// pathChanged tells the end user, the recording and the relay which path
// the session uses now, and why.
func (s *deviceSession) pathChanged(st direct.Status) {
	if s.ending.Load() {
		return
	}
	line := "session path: " + st.Path + " (" + sanitize.Display(st.Why, 160) + ")"
	s.ui.Notice(line)
	if s.rec != nil {
		s.rec.marker("%s", line)
	}
	mode := protocol.PathModeRelay
	if st.Path == transport.PathDirect {
		mode = protocol.PathModeDirect
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlPath, Mode: mode, Reason: truncate(st.Why, 200)}); err != nil {
		s.log.Warn("could not tell the relay the session path", "err", err)
	}
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
