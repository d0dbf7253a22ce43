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
	mu sync.Mutex
	m  map[string]*agentConn
}

func newAgentRegistry() *agentRegistry { return &agentRegistry{m: make(map[string]*agentConn)} }

// add registers a, closing any older connection of the same device.
func (r *agentRegistry) add(a *agentConn) {
	r.mu.Lock()
	old := r.m[a.dev.ID]
	r.m[a.dev.ID] = a
	r.mu.Unlock()
	if old != nil {
		old.conn.Close("replaced by a newer connection from the same device")
	}
}

// remove unregisters a if it is still the current connection.
func (r *agentRegistry) remove(a *agentConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[a.dev.ID] == a {
		delete(r.m, a.dev.ID)
	}
}

func (r *agentRegistry) get(id string) *agentConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[id]
}

func (r *agentRegistry) online(id string) bool { return r.get(id) != nil }

// handleAgentControl serves an enrolled agent's long-lived connection: the
// device proves itself by signing a fresh challenge, then waits for offers.
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
	a := &agentConn{dev: dev, conn: c}
	s.agents.add(a)
	defer s.agents.remove(a)
	s.db.UpdateDevice(dev.ID, func(d *store.Device) error { d.LastSeen = now(); return nil })
	s.log.Info("agent online", "device", dev.Name, "id", dev.ID)
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlWelcome, DeviceID: dev.ID, Name: dev.Name}); err != nil {
		return
	}
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.KeepAlive(kctx)
	for {
		if _, _, err := c.ReadFrame(ctx); err != nil {
			break
		}
	}
	s.db.UpdateDevice(dev.ID, func(d *store.Device) error { d.LastSeen = now(); return nil })
	s.log.Info("agent offline", "device", dev.Name)
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
