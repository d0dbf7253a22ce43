package relay

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"tether/internal/protocol"
	"tether/internal/store"
	"tether/internal/token"
	"tether/internal/transport"
)

// live is one session the relay is brokering. Its tech side is present from
// the start; the agent side attaches later. Fields set before attach are
// read-only afterwards; mu guards the rest.
type live struct {
	b        *broker
	info     protocol.SessionInfo
	source   string
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
}

// broker holds the live sessions. Safe for concurrent use.
type broker struct {
	s     *Server
	usage *usage // recording bytes per device, for the quota
	mu    sync.Mutex
	m     map[string]*live
}

func newBroker(s *Server) *broker { return &broker{s: s, usage: newUsage(), m: make(map[string]*live)} }

func (b *broker) add(l *live) {
	b.mu.Lock()
	b.m[l.info.ID] = l
	b.mu.Unlock()
}

func (b *broker) get(id string) *live {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[id]
}

func (b *broker) remove(id string) {
	b.mu.Lock()
	delete(b.m, id)
	b.mu.Unlock()
}

// list returns the live sessions.
func (b *broker) list() []*live {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*live, 0, len(b.m))
	for _, l := range b.m {
		out = append(out, l)
	}
	return out
}

// endAll ends every live session with reason (relay shutdown).
func (b *broker) endAll(reason string) {
	var wg sync.WaitGroup
	for _, l := range b.list() {
		wg.Add(1)
		go func() { defer wg.Done(); l.end(reason) }()
	}
	wg.Wait()
}

// newLive registers a session whose technician side is c.
func (b *broker) newLive(info protocol.SessionInfo, c *transport.Conn, source string) (*live, string) {
	attach, _ := token.New("ta_")
	l := &live{b: b, info: info, source: source, tech: c, techOut: newOutbox(c), attachH: token.Hash(attach),
		attached: make(chan struct{}), done: make(chan struct{}), agentDone: make(chan struct{})}
	l.limit = time.AfterFunc(info.MaxDuration, func() { l.end("absolute session limit reached") })
	l.rec = b.s.newRecFile(l)
	b.add(l)
	return l, attach
}

// checkAttach reports whether tok is this session's attach token.
func (l *live) checkAttach(tok string) bool {
	h := token.Hash(tok)
	return subtle.ConstantTimeCompare(h[:], l.attachH[:]) == 1
}

// attach binds the agent side; false if the session already has one or ended.
func (l *live) attach(c *transport.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.agent != nil || l.ended {
		return false
	}
	l.agent, l.agentOut = c, newOutbox(c)
	close(l.attached)
	return true
}

// pair tells both sides the session is ready for the handshake.
func (l *live) pair(ctx context.Context) error {
	m := &protocol.Control{Type: protocol.CtlPaired, Session: &l.info}
	frame, err := protocol.AppendControl(nil, m)
	if err != nil {
		return err
	}
	// The agent's copy is queued first: the technician answers "paired"
	// with its ClientHello, which must reach the agent after "paired".
	l.agentOut.push(frame)
	l.techOut.push(frame)
	l.b.s.db.UpdateSession(l.info.ID, func(s *store.Session) error {
		s.State, s.DeviceID, s.DeviceName = store.SessionAwaitingConsent, l.info.DeviceID, l.info.DeviceName
		return nil
	})
	return nil
}

// end runs the relay's part of the one end path: tell the agent why, wait
// (boundedly) for it to finish — kill, lock the screen, report the lock's
// result and send the recording's end — while its last frames still reach
// the technician, then tell the technician, close both connections and
// record the end. Idempotent.
func (l *live) end(reason string) {
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
	l.b.remove(l.info.ID)
	l.b.s.finishSession(l, l.finalReason(reason), reason)
}

// finalReason is the reason a session ended, given the one the relay saw
// first. The technician's side closing is only what the relay saw when
// the session ended on the device (a command exited, the end user ended
// it): the device then reports why, and that is the reason recorded. The
// relay's own reasons (limits, shutdown, an administrator) stand.
func (l *live) finalReason(seen string) string {
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
// deliver the end of its recording.
// delivers the end of its recording (and the screen lock's result, which
// comes first and may take the agent up to 12 s).
const recordingGrace = 15 * time.Second

// agentFinished notes that the agent side will send nothing more.
func (l *live) agentFinished() { l.agentOnce.Do(func() { close(l.agentDone) }) }

// stop ends the session from a pump; an agent pump first marks its side
// finished, so end does not wait for itself.
func (l *live) stop(fromAgent bool, reason string) {
	if fromAgent {
		l.agentFinished()
	}
	l.end(reason)
}

// isEnded reports whether end has started.
func (l *live) isEnded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

// finishSession records a session's end in the store and the audit log;
// seen is what the relay saw first, if that differs from the reason.
func (s *Server) finishSession(l *live, reason, seen string) {
	t := now()
	s.db.UpdateSession(l.info.ID, func(r *store.Session) error {
		r.State, r.EndReason, r.EndedAt = store.SessionEnded, reason, t
		return nil
	})
	details := []string{"reason", reason, "device", l.info.DeviceName}
	if seen != reason {
		details = append(details, "relay_saw", seen)
	}
	s.record(auditEvent(l.info.TechID, "session.end", l.info.ID, "ended", l.source, details...))
	s.log.Info("session ended", "session", l.info.ID, "device", l.info.DeviceName, "reason", reason)
}

// pump reads frames from one side until it fails, forwarding opaque frames
// to the other side and handling control messages addressed to the relay.
// fromAgent selects the direction. The connection is closed if ctx ends.
func (l *live) pump(ctx context.Context, src *transport.Conn, fromAgent bool) {
	who := "technician"
	if fromAgent {
		who = "device"
	}
	// Reads take no context: with one, coder/websocket arms and disarms a
	// context.AfterFunc for every read (four allocations per frame). The
	// session's end closes src, which fails the read, and so does ctx's end.
	defer context.AfterFunc(ctx, src.CloseNow)()
	rate := newBucket(l.b.s.cfg.ControlRate, l.b.s.cfg.ControlBurst)
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
			if err := l.pace(m, rate, fromAgent); err != nil {
				l.overLimit(fromAgent, who, err.Error())
				return
			}
			if stop := l.control(m, fromAgent, who); stop {
				return
			}
			continue
		}
		if !l.forward(msg, fromAgent) {
			return
		}
	}
}

// controlSize checks one control message against the size limit.
func (l *live) controlSize(p []byte) error {
	if max := l.b.s.cfg.ControlMaxSize; len(p) > max {
		return fmt.Errorf("control message of %d bytes exceeds the limit of %d bytes", len(p), max)
	}
	return nil
}

// pace applies the control rate limit of one side of the session. An end
// message always passes. The agent's file reports come in bursts as long
// as a recursive copy runs, so beyond the limit they are slowed (the relay
// stops reading until the rate allows one more), not refused; any other
// message beyond it ends the session.
func (l *live) pace(m *protocol.Control, rate *bucket, fromAgent bool) error {
	if m.Type == protocol.CtlEnd || rate.take(now()) {
		return nil
	}
	if !fromAgent || m.Type != protocol.CtlFile {
		cfg := &l.b.s.cfg
		return fmt.Errorf("control messages sent faster than the limit of %g per second (burst %d)", cfg.ControlRate, cfg.ControlBurst)
	}
	t := time.NewTimer(rate.wait())
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.done:
	}
	rate.take(now())
	return nil
}

// overLimit ends the session because one side exceeded a limit: both
// sides are told why, and the audit log records it. What was stored
// before stays.
func (l *live) overLimit(fromAgent bool, who, why string) {
	reason := truncate(who+" exceeded a limit: "+why, 200)
	l.b.s.record(auditEvent(l.info.TechID, "session.limit", l.info.ID, "ended", l.source,
		"side", who, "limit", truncate(why, 200), "device", l.info.DeviceName))
	l.b.s.log.Warn("session over limit", "session", l.info.ID, "side", who, "limit", why)
	l.stop(fromAgent, reason)
}

// forward queues one opaque frame (type byte included) for the other side.
func (l *live) forward(msg []byte, fromAgent bool) bool {
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
	l.b.s.frameLog.write(msg)
	if !dst.push(msg) {
		l.stop(fromAgent, "peer too slow or gone")
		return false
	}
	return true
}

// control handles a control message from one side; it reports whether the
// pump should stop.
func (l *live) control(m *protocol.Control, fromAgent bool, who string) bool {
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
		l.b.s.recordConsent(l, m)
	case m.Type == protocol.CtlFile && fromAgent:
		l.b.s.recordFile(l, m)
	case m.Type == protocol.CtlClipboard && fromAgent:
		l.b.s.record(auditEvent(l.info.TechID, "session.clipboard", l.info.ID, m.Mode, l.source,
			"bytes", fmt.Sprint(m.Size), "sha256", truncate(m.Hash, 64), "device", l.info.DeviceName))
	case m.Type == protocol.CtlScreenLock && fromAgent:
		// One lock per session: a device's later reports are not audited.
		l.mu.Lock()
		first := !l.lockReported
		l.lockReported = true
		l.mu.Unlock()
		if first {
			l.b.s.recordScreenLock(l.info.TechID, l.info.ID, l.source, l.info.DeviceName, m)
		}
	case m.Type == protocol.CtlRecordingDone && fromAgent:
		l.rec.markComplete()
	case m.Type == protocol.CtlRecordingFailed && fromAgent:
		l.b.s.record(auditEvent(l.info.TechID, "recording.failed", l.info.ID, "failure", l.source, "error", truncate(m.Error, 200)))
	}
	return false
}

// recordScreenLock audits the screen lock's result as the agent reported
// it: outcome "locked" or "failed" (anything else the agent says is
// recorded as "failed"), with its one-line account.
func (s *Server) recordScreenLock(actor, session, source, device string, m *protocol.Control) {
	outcome := protocol.ScreenLockFailed
	if m.Mode == protocol.ScreenLocked {
		outcome = protocol.ScreenLocked
	}
	s.record(auditEvent(actor, "session.screen_lock", session, outcome, source,
		"result", truncate(m.Reason, 500), "device", device))
	if outcome != protocol.ScreenLocked {
		s.log.Warn("screen lock failed at session end", "session", session, "device", device, "result", truncate(m.Reason, 500))
	}
}

// recordFile audits a file the agent reports moved and lists it on the
// session's record.
func (s *Server) recordFile(l *live, m *protocol.Control) {
	f := store.FileTransfer{Direction: truncate(m.Mode, 16), Path: truncate(m.Name, 4096), Size: m.Size, SHA256: truncate(m.Hash, 64), Time: now()}
	// One small entry of its own: the session record is not rewritten.
	s.db.AppendSessionFile(l.info.ID, f)
	s.record(auditEvent(l.info.TechID, "session.file", l.info.ID, f.Direction, l.source,
		"path", f.Path, "bytes", fmt.Sprint(f.Size), "sha256", f.SHA256, "device", l.info.DeviceName))
}

// receiptStatus checks the agent's signed consent receipt: the relay keeps
// it in the audit log and cannot forge one. A receipt is "verified" only if
// the session's device key signed it, it names this session, device and
// technician, it says what the message says, and its revision is later
// than any receipt this session has shown before (no replay).
func receiptStatus(l *live, m *protocol.Control) string {
	if len(m.Receipt) == 0 {
		return "missing"
	}
	if len(l.info.DeviceKey) != ed25519.PublicKeySize || !ed25519.Verify(l.info.DeviceKey, protocol.ReceiptMessage(m.Receipt), m.ReceiptSig) {
		return "bad signature"
	}
	var r protocol.ConsentReceipt
	if err := json.Unmarshal(m.Receipt, &r); err != nil {
		return "malformed"
	}
	switch {
	case r.Session != l.info.ID:
		return "for another session"
	case r.Device != l.info.DeviceID:
		return "for another device"
	case r.Tech != l.info.TechID:
		return "for another technician"
	case r.Granted != m.Granted || !slices.Equal(r.Caps, m.Caps):
		return "does not match the answer"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.receipts > 0 && r.Revision < l.receiptNext {
		return fmt.Sprintf("replayed (revision %d, expected at least %d)", r.Revision, l.receiptNext)
	}
	l.receipts++
	l.receiptNext = r.Revision + 1
	return "verified"
}

// recordConsent stores and audits the end user's answer as the agent
// reported it. The agent enforces consent itself; this is the record.
func (s *Server) recordConsent(l *live, m *protocol.Control) {
	outcome := "denied"
	if m.Granted {
		outcome = "granted"
	}
	receipt := receiptStatus(l, m)
	s.db.UpdateSession(l.info.ID, func(r *store.Session) error {
		r.Granted = m.Caps
		if m.Granted && r.StartedAt.IsZero() {
			r.State, r.StartedAt = store.SessionActive, now()
		}
		return nil
	})
	s.record(auditEvent(l.info.TechID, "session.consent", l.info.ID, outcome, l.source,
		"caps", joinCaps(m.Caps), "why", truncate(m.Reason, 200), "device", l.info.DeviceName,
		"receipt", truncate(string(m.Receipt), 2048), "receipt_sig", base64.StdEncoding.EncodeToString(m.ReceiptSig), "receipt_check", receipt))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
