package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/ratelimit"
	"github.com/tether-support/tether/internal/transport"
)

// Pump reads frames from one side until it fails, forwarding opaque frames
// to the other side and handling control messages addressed to the relay.
// fromAgent selects the direction. The connection is closed if ctx ends.
func (l *Session) Pump(ctx context.Context, src *transport.Conn, fromAgent bool) {
	who := "technician"
	if fromAgent {
		who = "device"
	}
	// Reads take no context: with one, coder/websocket arms and disarms a
	// context.AfterFunc for every read (four allocations per frame). The
	// session's end closes src, which fails the read, and so does ctx's end.
	defer context.AfterFunc(ctx, src.CloseNow)()
	rate := ratelimit.NewBucket(l.b.cfg.ControlRate, l.b.cfg.ControlBurst)
	for {
		msg, err := src.ReadMessage(context.Background())
		if err != nil {
			reason := "device disconnected"
			if !fromAgent {
				reason = techDisconnected
			}
			l.stop(fromAgent, reason)
			return
		}
		ft, p, err := protocol.ParseFrame(msg)
		if err != nil {
			l.stop(fromAgent, "protocol error from "+who)
			return
		}
		if ft == protocol.FrameRecording {
			if !fromAgent {
				continue
			}
			if err := l.rec.write(p); err != nil {
				l.overLimit(fromAgent, who, err.Error())
				return
			}
			continue
		}
		if ft == protocol.FrameControl {
			if err := l.controlSize(p); err != nil {
				l.overLimit(fromAgent, who, err.Error())
				return
			}
			m, err := protocol.ParseControl(p)
			if err != nil {
				l.stop(fromAgent, "protocol error from "+who)
				return
			}
			if err := l.pace(m, &rate, fromAgent); err != nil {
				l.overLimit(fromAgent, who, err.Error())
				return
			}
			if stop := l.control(m, fromAgent, who); stop {
				return
			}
			continue
		}
		if !l.forward(hostileFrame(msg, fromAgent), fromAgent) {
			return
		}
	}
}

// controlSize checks one control message against the size limit.
func (l *Session) controlSize(p []byte) error {
	if max := l.b.cfg.ControlMaxSize; len(p) > max {
		return fmt.Errorf("control message of %d bytes exceeds the limit of %d bytes", len(p), max)
	}
	return nil
}

// pace applies the control rate limit of one side of the session. An end
// message always passes. The agent's file reports come in bursts as long
// as a recursive copy runs, so beyond the limit they are slowed (the relay
// stops reading until the rate allows one more), not refused; any other
// message beyond it ends the session.
func (l *Session) pace(m *protocol.Control, rate *ratelimit.Bucket, fromAgent bool) error {
	if m.Type == protocol.CtlEnd || rate.Take(now()) {
		return nil
	}
	if !fromAgent || m.Type != protocol.CtlFile {
		cfg := &l.b.cfg
		return fmt.Errorf("control messages sent faster than the limit of %g per second (burst %d)", cfg.ControlRate, cfg.ControlBurst)
	}
	t := time.NewTimer(rate.Wait())
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.done:
	}
	rate.Take(now())
	return nil
}

// overLimit ends the session because one side exceeded a limit: both
// sides are told why, and the audit log records it. What was stored
// before stays.
func (l *Session) overLimit(fromAgent bool, who, why string) {
	reason := truncate(who+" exceeded a limit: "+why, 200)
	l.b.record(audit.NewEvent(l.Info.TechID, "session.limit", l.Info.ID, "ended", l.Source,
		"side", who, "limit", truncate(why, 200), "device", l.Info.DeviceName))
	l.b.log.Warn("session over limit", "session", l.Info.ID, "side", who, "limit", why)
	l.stop(fromAgent, reason)
}

// forward queues one opaque frame (type byte included) for the other side.
func (l *Session) forward(msg []byte, fromAgent bool) bool {
	select {
	case <-l.attached:
	case <-l.done:
		return false
	}
	if l.isEnded() {
		// The agent's last words (the lock result, its end message) still
		// go to the technician while end waits for the agent; nothing goes
		// the other way. Keep reading the recording's end either way.
		if fromAgent {
			l.techOut.push(msg)
		}
		return true
	}
	dst := l.agentOut
	if fromAgent {
		dst = l.techOut
	}
	l.b.frameLog.write(msg)
	if !dst.push(msg) {
		l.b.cfg.Metrics.QueueDrop()
		l.stop(fromAgent, "peer too slow or gone")
		return false
	}
	l.b.cfg.Metrics.Forwarded(fromAgent, len(msg))
	return true
}

// control handles a control message from one side; it reports whether the
// pump should stop.
func (l *Session) control(m *protocol.Control, fromAgent bool, who string) bool {
	switch {
	case m.Type == protocol.CtlEnd:
		reason := m.Reason
		if reason == "" {
			reason = who + " ended the session"
		}
		reason = truncate(reason, 200)
		if fromAgent {
			l.mu.Lock()
			l.agentReason = reason
			l.mu.Unlock()
		}
		l.stop(fromAgent, reason)
		return true
	case m.Type == protocol.CtlConsent && fromAgent:
		l.b.recordConsent(l, m)
	case m.Type == protocol.CtlFile && fromAgent:
		l.b.recordFile(l, m)
	case m.Type == protocol.CtlClipboard && fromAgent:
		l.b.record(audit.NewEvent(l.Info.TechID, "session.clipboard", l.Info.ID, m.Mode, l.Source,
			"bytes", fmt.Sprint(m.Size), "sha256", truncate(m.Hash, 64), "device", l.Info.DeviceName))
	case m.Type == protocol.CtlScreen && fromAgent:
		l.b.recordScreen(l, m)
	case m.Type == protocol.CtlScreenLock && fromAgent:
		// One lock per session: a device's later reports are not audited.
		l.mu.Lock()
		first := !l.lockReported
		l.lockReported = true
		l.mu.Unlock()
		if first {
			l.b.RecordScreenLock(l.Info.TechID, l.Info.ID, l.Source, l.Info.DeviceName, m)
		}
	case m.Type == protocol.CtlPath && fromAgent:
		l.b.recordPath(l, m)
	case m.Type == protocol.CtlRecordingDone && fromAgent:
		l.rec.markComplete()
	case m.Type == protocol.CtlRecordingFailed && fromAgent:
		l.b.record(audit.NewEvent(l.Info.TechID, "recording.failed", l.Info.ID, "failure", l.Source, "error", truncate(m.Error, 200)))
	}
	return false
}
