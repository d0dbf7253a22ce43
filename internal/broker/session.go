package broker

import (
	"context"
	"crypto/subtle"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/token"
	"github.com/tether-support/tether/internal/transport"
)

// Session is one live session the relay is brokering: the relay's side of
// a technician–device pairing (store.Session is its record, and
// protocol.SessionInfo what both peers are told). Its tech side is present
// from the start; the agent side attaches later. Fields set before attach
// are read-only afterwards; mu guards the rest.
type Session struct {
	b *Broker
	// Info is what both peers are told of the session; an attended join
	// sets the device's name and key before it attaches.
	Info protocol.SessionInfo
	// Source is the technician's address.
	Source   string
	tech     *transport.Conn
	techOut  *outbox
	attachH  [32]byte
	attached chan struct{}
	done     chan struct{}
	rec      *recFile
	// agentDone is closed when the agent side will send nothing more.
	agentDone chan struct{}
	agentOnce sync.Once

	mu       sync.Mutex
	agent    *transport.Conn
	agentOut *outbox
	ended    bool
	reason   string
	limit    *time.Timer
	// receipts counts verified consent receipts; receiptNext is the
	// lowest revision the next one may have.
	receipts    int
	receiptNext int
	// agentReason is the end reason the agent reported, if it did.
	agentReason  string
	lockReported bool // the agent reported the screen lock (audited once)
	// granted is what the end user's latest consent answer granted (for
	// the metrics; never modified in place).
	granted []string
	// screenEvents counts the screen events audited (at most
	// maxScreenEvents per session).
	screenEvents int
	path         string // the path the agent last reported ("" is relay)
	pathReports  int    // path changes audited so far
}

// Attached is closed when the agent side attaches.
func (l *Session) Attached() <-chan struct{} { return l.attached }

// Done is closed when the session has ended.
func (l *Session) Done() <-chan struct{} { return l.done }

// WaitLimit is how long a session may wait for its agent side.
func (l *Session) WaitLimit() time.Duration {
	if l.Info.Mode == store.ModeAttended {
		return protocol.JoinCodeTTL
	}
	return protocol.AttachTimeout
}

// NoAnswer is the end reason of a session nobody attached to in time.
func (l *Session) NoAnswer() string {
	if l.Info.Mode == store.ModeAttended {
		return "nobody joined with the code before it expired"
	}
	return "the device did not answer the session offer"
}

// CheckAttach reports whether tok is this session's attach token.
func (l *Session) CheckAttach(tok string) bool {
	h := token.Hash(tok)
	return subtle.ConstantTimeCompare(h[:], l.attachH[:]) == 1
}

// Attach binds the agent side; false if the session already has one or ended.
func (l *Session) Attach(c *transport.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.agent != nil || l.ended {
		return false
	}
	l.agent, l.agentOut = c, newOutbox(c)
	close(l.attached)
	return true
}

// Pair tells both sides the session is ready for the handshake.
func (l *Session) Pair(ctx context.Context) error {
	m := &protocol.Control{Type: protocol.CtlPaired, Session: &l.Info}
	frame, err := protocol.AppendControl(nil, m)
	if err != nil {
		return err
	}
	// The agent's copy is queued first: the technician answers "paired"
	// with its ClientHello, which must reach the agent after "paired".
	l.agentOut.push(frame)
	l.techOut.push(frame)
	l.b.db.UpdateSession(l.Info.ID, func(s *store.Session) error {
		s.State, s.DeviceID, s.DeviceName = store.SessionAwaitingConsent, l.Info.DeviceID, l.Info.DeviceName
		return nil
	})
	return nil
}

// End runs the relay's part of the one end path: tell the agent why, wait
// (boundedly) for it to finish — kill, lock the screen, report the lock's
// result and send the recording's end — while its last frames still reach
// the technician, then tell the technician, close both connections and
// record the end. Idempotent.
func (l *Session) End(reason string) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.ended, l.reason = true, reason
	agentOut := l.agentOut
	l.mu.Unlock()
	l.limit.Stop()
	frame, _ := protocol.AppendControl(nil, &protocol.Control{Type: protocol.CtlEnd, Reason: reason})
	if agentOut != nil {
		agentOut.push(frame)
		agentOut.close(2 * time.Second)
		select {
		case <-l.agentDone:
		case <-time.After(recordingGrace):
		}
		agentOut.conn.Close(reason)
	}
	l.techOut.push(frame)
	l.techOut.close(2 * time.Second)
	l.tech.Close(reason)
	l.rec.close()
	close(l.done)
	l.b.remove(l.Info.ID)
	l.b.finishSession(l, l.finalReason(reason), reason)
}

// finalReason is the reason a session ended, given the one the relay saw
// first. The technician's side closing is only what the relay saw when
// the session ended on the device (a command exited, the end user ended
// it): the device then reports why, and that is the reason recorded. The
// relay's own reasons (limits, shutdown, an administrator) stand.
func (l *Session) finalReason(seen string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seen == techDisconnected && l.agentReason != "" {
		return l.agentReason
	}
	return seen
}

// techDisconnected is the reason the relay sees when the technician's
// connection closes without an end message.
const techDisconnected = "technician disconnected"

// recordingGrace is how long an ending session waits for the agent to
// deliver the end of its recording (and the screen lock's result, which
// comes first and may take the agent up to 12 s). The agent closes its
// connection when it is done, which ends the wait; only an agent that never
// does makes the session's end take this long.
const recordingGrace = 15 * time.Second

// agentFinished notes that the agent side will send nothing more.
func (l *Session) agentFinished() { l.agentOnce.Do(func() { close(l.agentDone) }) }

// stop ends the session from a pump; an agent pump first marks its side
// finished, so end does not wait for itself.
func (l *Session) stop(fromAgent bool, reason string) {
	if fromAgent {
		l.agentFinished()
	}
	l.End(reason)
}

// isEnded reports whether end has started.
func (l *Session) isEnded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

// finishSession records a session's end in the store and the audit log;
// seen is what the relay saw first, if that differs from the reason.
func (b *Broker) finishSession(l *Session, reason, seen string) {
	t := now()
	b.db.UpdateSession(l.Info.ID, func(r *store.Session) error {
		r.State, r.EndReason, r.EndedAt = store.SessionEnded, reason, t
		return nil
	})
	details := []string{"reason", reason, "device", l.Info.DeviceName}
	if seen != reason {
		details = append(details, "relay_saw", seen)
	}
	b.record(audit.NewEvent(l.Info.TechID, "session.end", l.Info.ID, "ended", l.Source, details...))
	b.log.Info("session ended", "session", l.Info.ID, "device", l.Info.DeviceName, "reason", reason)
}
