package relay

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"tether/internal/protocol"
	"tether/internal/store"
	"tether/internal/transport"
)

// agentConn is an enrolled agent's live control connection.
type agentConn struct {
	dev  *store.Device
	conn *transport.Conn
}

// agentRegistry tracks which devices are online. Safe for concurrent use.
type agentRegistry struct {
	mu     sync.Mutex
	m      map[string]*agentConn
	closed bool           // the relay is shutting down: no more agents
	wg     sync.WaitGroup // one per watched connection
}

func newAgentRegistry() *agentRegistry { return &agentRegistry{m: make(map[string]*agentConn)} }

// add registers a, closing any older connection of the same device. It
// returns false if the relay is shutting down.
func (r *agentRegistry) add(a *agentConn) bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	old := r.m[a.dev.ID]
	r.m[a.dev.ID] = a
	r.wg.Add(1)
	r.mu.Unlock()
	if old != nil {
		old.conn.Close("replaced by a newer connection from the same device")
	}
	return true
}

// remove unregisters a if it is still the current connection; every add
// is followed by exactly one remove.
func (r *agentRegistry) remove(a *agentConn) {
	r.mu.Lock()
	if r.m[a.dev.ID] == a {
		delete(r.m, a.dev.ID)
	}
	r.mu.Unlock()
	r.wg.Done()
}

// closeAll closes every agent connection and refuses new ones (relay
// shutdown), then waits for their goroutines to finish.
func (r *agentRegistry) closeAll() {
	r.mu.Lock()
	r.closed = true
	conns := make([]*agentConn, 0, len(r.m))
	for _, a := range r.m {
		conns = append(conns, a)
	}
	r.mu.Unlock()
	for _, a := range conns {
		a.conn.CloseNow()
	}
	r.wg.Wait()
}

func (r *agentRegistry) get(id string) *agentConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[id]
}

func (r *agentRegistry) online(id string) bool { return r.get(id) != nil }

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
	if err != nil {
		s.record(auditEvent("", "device.auth", "", "failure", sourceAddr(r), "reason", err.Error()))
		c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlError, Error: err.Error(),
			Hint: "re-enroll this device with a new token (`tech devices enroll-token`, then `agent enroll`)"})
		c.Close("authentication failed")
		return
	}
	s.connAuthenticated(ctx)
	a := &agentConn{dev: dev, conn: c}
	if !s.agents.add(a) {
		c.Close("relay shutting down")
		return
	}
	s.db.UpdateDevice(dev.ID, func(d *store.Device) error { d.LastSeen = now(); return nil })
	s.log.Info("agent online", "device", dev.Name, "id", dev.ID)
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlWelcome, DeviceID: dev.ID, Name: dev.Name}); err != nil {
		c.CloseNow()
		s.agents.remove(a)
		return
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
// (agentRegistry.closeAll).
func (s *Server) watchAgent(a *agentConn) {
	defer s.agents.remove(a)
	kctx, cancel := context.WithCancel(context.Background())
	a.conn.KeepAlive(kctx)
	reports := 0
	for {
		// No context: coder/websocket would arm a timer for every read.
		t, p, err := a.conn.ReadFrame(context.Background())
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
	a.conn.CloseNow()
	s.db.UpdateDevice(a.dev.ID, func(d *store.Device) error { d.LastSeen = now(); return nil })
	s.log.Info("agent offline", "device", a.dev.Name)
}

// maxLockReports bounds the screen lock reports one control connection may
// make; more are dropped unread, so a device cannot flood the audit log.
const maxLockReports = 16

// recordRecoveredLock audits the lock an agent reports having done at its
// start for a session its earlier run left unfinished. Only a session of
// this very device is recorded; anything else is dropped with a log line.
func (s *Server) recordRecoveredLock(a *agentConn, m *protocol.Control) {
	var sess *store.Session
	err := errors.New("no session named")
	if m.SessionID != "" && len(m.SessionID) <= 64 {
		sess, err = s.db.SessionByID(m.SessionID)
	}
	if err != nil || sess.DeviceID != a.dev.ID {
		s.log.Warn("screen lock report for a session not of this device dropped", "device", a.dev.Name, "session", truncate(m.SessionID, 64))
		return
	}
	s.recordScreenLock(sess.TechID, sess.ID, "device "+a.dev.ID, a.dev.Name, m)
}

// authenticateAgent runs the challenge-response on a fresh connection.
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
	if !ed25519.Verify(dev.PublicKey, protocol.AgentAuthMessage(challenge, s.fingerprint), m.Signature) {
		return nil, errors.New("device authentication failed: signature does not match the enrolled device key")
	}
	return dev, nil
}
