package relay

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/broker"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/transport"
)

// handleAgentControl accepts an enrolled agent's long-lived connection: the
// device proves itself by signing a fresh challenge, is welcomed, and is then
// watched by watchAgent while it waits for offers.
func (s *Server) handleAgentControl(w http.ResponseWriter, r *http.Request) {
	c, err := transport.Accept(w, r)
	if err != nil {
		return
	}
	ctx := r.Context()
	dev, err := s.authenticateAgent(ctx, c)
	if errors.Is(err, store.ErrUnavailable) {
		// Not the device's fault, and not final: no error message (the
		// agent would give up), only a close it retries after.
		s.log.Error("agent refused: the database is unreachable", "source", sourceAddr(r), "err", err)
		c.Close(store.ErrUnavailable.Error() + "; try again shortly")
		return
	}
	if err != nil {
		// A revoked or removed device proved its key: its ID is the target.
		var target ids.DeviceID
		if dev != nil {
			target = dev.ID
		}
		s.record(auditEvent("", "device.auth", target, "failure", sourceAddr(r), "reason", err.Error()))
		c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlError, Error: err.Error(),
			Hint: "re-enroll this device with a new token (`tech devices enroll-token`, then `agent enroll`)"})
		c.Close("authentication failed")
		return
	}
	s.connAuthenticated(ctx)
	a := &broker.Agent{Dev: dev, Conn: c, Since: now()}
	if !s.registerAgent(a) {
		c.Close("relay shutting down")
		return
	}
	s.db.UpdateDevice(dev.ID, func(d *store.Device) error { d.LastSeen = now(); return nil })
	s.log.Info("agent online", "device", dev.Name, "id", dev.ID)
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlWelcome, DeviceID: dev.ID, Name: dev.Name}); err != nil {
		c.CloseNow()
		s.agents.Remove(a)
		s.presenceClear(dev.ID, a.Since)
		return
	}
	if m := s.nextPinMessage(); m != nil {
		c.WriteControl(ctx, m)
	}
	// The handler returns now, and with it net/http's goroutine for this
	// connection, whose stack grew during the TLS handshake, along with the
	// request and the response's buffers: an idle agent keeps only a
	// fresh, small goroutine, the connection and its TLS state.
	go s.watchAgent(a)
}

// watchAgent reads (and drops) the agent's frames until its connection
// fails or is closed: the reads answer its pings and see the pongs to
// KeepAlive's pings. The relay's shutdown closes the connection
// (broker.Agents.CloseAll).
func (s *Server) watchAgent(a *broker.Agent) {
	defer s.agents.Remove(a)
	kctx, cancel := context.WithCancel(context.Background())
	a.Conn.KeepAlive(kctx)
	reports := 0
	for {
		// No context: coder/websocket would arm a timer for every read.
		t, p, err := a.Conn.ReadFrame(context.Background())
		if err != nil {
			break
		}
		if t == protocol.FrameControl && reports < maxLockReports {
			if m, err := protocol.ParseControl(p); err == nil && m.Type == protocol.CtlScreenLock {
				reports++
				s.recordRecoveredLock(a, m)
			}
		}
	}
	cancel()
	a.Conn.CloseNow()
	s.presenceClear(a.Dev.ID, a.Since)
	s.db.UpdateDevice(a.Dev.ID, func(d *store.Device) error { d.LastSeen = now(); return nil })
	s.log.Info("agent offline", "device", a.Dev.Name)
}

// maxLockReports bounds the screen lock reports one control connection may
// make; more are dropped unread, so a device cannot flood the audit log.
const maxLockReports = 16

// recordRecoveredLock audits the lock an agent reports having done at its
// start for a session its earlier run left unfinished. Only a session of
// this very device is recorded; anything else is dropped with a log line.
func (s *Server) recordRecoveredLock(a *broker.Agent, m *protocol.Control) {
	var sess *store.Session
	err := errors.New("no session named")
	if m.SessionID != "" && len(m.SessionID) <= 64 {
		sess, err = s.db.SessionByID(m.SessionID)
	}
	if err != nil || sess.DeviceID != a.Dev.ID {
		s.log.Warn("screen lock report for a session not of this device dropped", "device", a.Dev.Name, "session", truncate(m.SessionID.String(), 64))
		return
	}
	s.broker.RecordScreenLock(sess.TechID, sess.ID, "device "+a.Dev.ID.String(), a.Dev.Name, m)
}

// authenticateAgent runs the challenge-response on a fresh connection. A
// device that proved its key but was revoked or removed is returned with
// the error.
func (s *Server) authenticateAgent(ctx context.Context, c *transport.Conn) (*store.Device, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	challenge := randBytes(32)
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlChallenge, Version: protocol.Version, Challenge: challenge}); err != nil {
		return nil, err
	}
	m, err := c.ReadControl(ctx)
	if err != nil {
		return nil, fmt.Errorf("read authentication: %w", err)
	}
	if m.Type != protocol.CtlAuth {
		return nil, fmt.Errorf("expected %q, got %q", protocol.CtlAuth, m.Type)
	}
	dev, err := s.db.DeviceByID(m.DeviceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("device authentication failed: unknown device")
	} else if err != nil {
		return nil, err
	}
	if !ed25519.Verify(dev.PublicKey, protocol.AgentAuthMessage(challenge, s.servedFingerprint(ctx)), m.Signature) {
		return nil, errors.New("device authentication failed: signature does not match the enrolled device key")
	}
	// Checked after the signature, so only the key's holder learns it.
	switch {
	case !dev.RemovedAt.IsZero():
		return dev, errors.New("device authentication failed: this device was removed by an administrator")
	case !dev.RevokedAt.IsZero():
		return dev, errors.New("device authentication failed: this device's key was revoked by an administrator")
	}
	return dev, nil
}
