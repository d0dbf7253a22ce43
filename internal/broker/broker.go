package broker

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"tether/internal/audit"
	"tether/internal/protocol"
	"tether/internal/store"
	"tether/internal/token"
	"tether/internal/transport"
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
}

// Broker holds the live sessions. Safe for concurrent use.
type Broker struct {
	cfg      Config
	db       Records
	record   func(audit.Event)
	log      *slog.Logger
	frameLog *FrameLog
	usage    *usage // recording bytes per device, for the quota
	mu       sync.Mutex
	m        map[string]*Session
}

// New returns a broker with no sessions. Audit events go to record (which
// must not fail the caller), session and recording records to db.
func New(cfg Config, db Records, record func(audit.Event), log *slog.Logger, fl *FrameLog) *Broker {
	return &Broker{cfg: cfg, db: db, record: record, log: log, frameLog: fl, usage: newUsage(), m: make(map[string]*Session)}
}

func (b *Broker) add(l *Session) {
	b.mu.Lock()
	b.m[l.Info.ID] = l
	b.mu.Unlock()
}

func (b *Broker) Get(id string) *Session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[id]
}

func (b *Broker) remove(id string) {
	b.mu.Lock()
	delete(b.m, id)
	b.mu.Unlock()
}

// List returns the live sessions.
func (b *Broker) List() []*Session {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*Session, 0, len(b.m))
	for _, l := range b.m {
		out = append(out, l)
	}
	return out
}

// EndAll ends every live session with reason (relay shutdown).
func (b *Broker) EndAll(reason string) {
	var wg sync.WaitGroup
	for _, l := range b.List() {
		wg.Add(1)
		go func() { defer wg.Done(); l.End(reason) }()
	}
	wg.Wait()
}

// Open registers a session whose technician side is c.
func (b *Broker) Open(info protocol.SessionInfo, c *transport.Conn, source string) (*Session, string) {
	attach, _ := token.New("ta_")
	l := &Session{b: b, Info: info, Source: source, tech: c, techOut: newOutbox(c), attachH: token.Hash(attach),
		attached: make(chan struct{}), done: make(chan struct{}), agentDone: make(chan struct{})}
	l.limit = time.AfterFunc(info.MaxDuration, func() { l.End("absolute session limit reached") })
	l.rec = b.newRecFile(l)
	b.add(l)
	return l, attach
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
// deliver the end of its recording.
// delivers the end of its recording (and the screen lock's result, which
// comes first and may take the agent up to 12 s).
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
	rate := newBucket(l.b.cfg.ControlRate, l.b.cfg.ControlBurst)
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
func (l *Session) pace(m *protocol.Control, rate *bucket, fromAgent bool) error {
	if m.Type == protocol.CtlEnd || rate.take(now()) {
		return nil
	}
	if !fromAgent || m.Type != protocol.CtlFile {
		cfg := &l.b.cfg
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
		l.stop(fromAgent, "peer too slow or gone")
		return false
	}
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
	case m.Type == protocol.CtlScreenLock && fromAgent:
		// One lock per session: a device's later reports are not audited.
		l.mu.Lock()
		first := !l.lockReported
		l.lockReported = true
		l.mu.Unlock()
		if first {
			l.b.RecordScreenLock(l.Info.TechID, l.Info.ID, l.Source, l.Info.DeviceName, m)
		}
	case m.Type == protocol.CtlRecordingDone && fromAgent:
		l.rec.markComplete()
	case m.Type == protocol.CtlRecordingFailed && fromAgent:
		l.b.record(audit.NewEvent(l.Info.TechID, "recording.failed", l.Info.ID, "failure", l.Source, "error", truncate(m.Error, 200)))
	}
	return false
}

// RecordScreenLock audits the screen lock's result as the agent reported
// it: outcome "locked" or "failed" (anything else the agent says is
// recorded as "failed"), with its one-line account.
func (b *Broker) RecordScreenLock(actor, session, source, device string, m *protocol.Control) {
	outcome := protocol.ScreenLockFailed
	if m.Mode == protocol.ScreenLocked {
		outcome = protocol.ScreenLocked
	}
	b.record(audit.NewEvent(actor, "session.screen_lock", session, outcome, source,
		"result", truncate(m.Reason, 500), "device", device))
	if outcome != protocol.ScreenLocked {
		b.log.Warn("screen lock failed at session end", "session", session, "device", device, "result", truncate(m.Reason, 500))
	}
}

// recordFile audits a file the agent reports moved and lists it on the
// session's record.
func (b *Broker) recordFile(l *Session, m *protocol.Control) {
	f := store.FileTransfer{Direction: truncate(m.Mode, 16), Path: truncate(m.Name, 4096), Size: m.Size, SHA256: truncate(m.Hash, 64), Time: now()}
	// One small entry of its own: the session record is not rewritten.
	b.db.AppendSessionFile(l.Info.ID, f)
	b.record(audit.NewEvent(l.Info.TechID, "session.file", l.Info.ID, f.Direction, l.Source,
		"path", f.Path, "bytes", fmt.Sprint(f.Size), "sha256", f.SHA256, "device", l.Info.DeviceName))
}

// receiptStatus checks the agent's signed consent receipt: the relay keeps
// it in the audit log and cannot forge one. A receipt is "verified" only if
// the session's device key signed it, it names this session, device and
// technician, it says what the message says, and its revision is later
// than any receipt this session has shown before (no replay).
func receiptStatus(l *Session, m *protocol.Control) string {
	if len(m.Receipt) == 0 {
		return "missing"
	}
	if len(l.Info.DeviceKey) != ed25519.PublicKeySize || !ed25519.Verify(l.Info.DeviceKey, protocol.ReceiptMessage(m.Receipt), m.ReceiptSig) {
		return "bad signature"
	}
	var r protocol.ConsentReceipt
	if err := json.Unmarshal(m.Receipt, &r); err != nil {
		return "malformed"
	}
	switch {
	case r.Session != l.Info.ID:
		return "for another session"
	case r.Device != l.Info.DeviceID:
		return "for another device"
	case r.Tech != l.Info.TechID:
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
func (b *Broker) recordConsent(l *Session, m *protocol.Control) {
	outcome := "denied"
	if m.Granted {
		outcome = "granted"
	}
	receipt := receiptStatus(l, m)
	b.db.UpdateSession(l.Info.ID, func(r *store.Session) error {
		r.Granted = m.Caps
		if m.Granted && r.StartedAt.IsZero() {
			r.State, r.StartedAt = store.SessionActive, now()
		}
		return nil
	})
	b.record(audit.NewEvent(l.Info.TechID, "session.consent", l.Info.ID, outcome, l.Source,
		"caps", joinCaps(m.Caps), "why", truncate(m.Reason, 200), "device", l.Info.DeviceName,
		"receipt", truncate(string(m.Receipt), 2048), "receipt_sig", base64.StdEncoding.EncodeToString(m.ReceiptSig), "receipt_check", receipt))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func joinCaps(c []string) string { return strings.Join(c, ",") }

// now is the relay's clock (UTC).
func now() time.Time { return time.Now().UTC() }
