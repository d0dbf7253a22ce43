package broker

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
)

// RecordScreenLock audits the screen lock's result as the agent reported
// it: outcome "locked" or "failed" (anything else the agent says is
// recorded as "failed"), with its one-line account.
func (b *Broker) RecordScreenLock(actor ids.UserID, session ids.SessionID, source, device string, m *protocol.Control) {
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
	b.cfg.Metrics.ConsentAnswer(m.Granted)
	granted := []string{}
	if m.Granted {
		granted = slices.Clone(m.Caps)
	}
	l.mu.Lock()
	l.granted = granted
	l.mu.Unlock()
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

func joinCaps(c []string) string { return strings.Join(c, ",") }

// maxScreenEvents bounds the session.screen events audited per session:
// the agent reports input drops once per burst, so an honest agent stays
// far below it, and a hostile one cannot fill the audit log.
const maxScreenEvents = 1000

// recordScreen audits a screen stream event the agent reported
// (session.screen; outcome the event, "unknown" for one this relay does
// not know). Beyond maxScreenEvents in a session, one last event says so
// and later ones are not audited.
func (b *Broker) recordScreen(l *Session, m *protocol.Control) {
	l.mu.Lock()
	n := l.screenEvents
	if n <= maxScreenEvents {
		l.screenEvents++
	}
	l.mu.Unlock()
	switch {
	case n > maxScreenEvents:
		return
	case n == maxScreenEvents:
		b.record(audit.NewEvent(l.Info.TechID, "session.screen", l.Info.ID, "unknown", l.Source,
			"reason", fmt.Sprintf("more than %d screen events in this session; later ones are not audited", maxScreenEvents),
			"device", l.Info.DeviceName))
		return
	}
	outcome := m.Mode
	if !protocol.ScreenEvent(outcome) {
		outcome = "unknown"
	}
	b.record(audit.NewEvent(l.Info.TechID, "session.screen", l.Info.ID, outcome, l.Source,
		"reason", truncate(m.Reason, 300), "count", fmt.Sprint(max(m.Size, 0)), "device", l.Info.DeviceName))
}

// maxPathReports bounds the path changes audited per session; a device
// reporting more is not believed further (the session goes on).
const maxPathReports = 32

// recordPath records the path the agent reports the session now uses: the
// session record's path, and a session.path audit event with from, to and
// why. Anything but "direct" or "relay" is ignored.
func (b *Broker) recordPath(l *Session, m *protocol.Control) {
	if m.Mode != protocol.PathModeDirect && m.Mode != protocol.PathModeRelay {
		return
	}
	why := truncate(m.Reason, 200)
	l.mu.Lock()
	from := l.path
	if from == "" {
		from = protocol.PathModeRelay
	}
	l.pathReports++
	over := l.pathReports > maxPathReports
	l.path = m.Mode
	l.mu.Unlock()
	if over {
		return
	}
	b.db.UpdateSession(l.Info.ID, func(r *store.Session) error {
		r.Path, r.PathWhy = m.Mode, why
		return nil
	})
	b.record(audit.NewEvent(l.Info.TechID, "session.path", l.Info.ID, m.Mode, l.Source,
		"from", from, "to", m.Mode, "why", why, "device", l.Info.DeviceName))
}
