package relay

import (
	"context"
	"crypto/ed25519"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/transport"
)

// TestAgentControlLifecycle: an agent's control connection outlives its
// HTTP handler; a newer connection of the same device replaces it;
// closeAll (relay shutdown) closes what is left and refuses newcomers.
func TestAgentControlLifecycle(t *testing.T) {
	s := newTestServer(t)
	pub, key, _ := ed25519.GenerateKey(nil)
	dev := &store.Device{Name: "kiosk", PublicKey: pub}
	if err := s.db.CreateDevice(dev); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(s.Handler())
	defer srv.Close()
	ep := transport.Endpoint{URL: srv.URL, Pin: tlsconf.Fingerprint(srv.Certificate())}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	connect := func() (*transport.Conn, error) {
		c, err := transport.Dial(ctx, ep, protocol.PathAgentControl)
		if err != nil {
			return nil, err
		}
		m, err := c.ReadControl(ctx)
		if err != nil {
			c.CloseNow()
			return nil, err
		}
		sig := ed25519.Sign(key, protocol.AgentAuthMessage(m.Challenge, s.Fingerprint()))
		if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAuth, Version: protocol.Version, DeviceID: dev.ID, Signature: sig}); err != nil {
			c.CloseNow()
			return nil, err
		}
		if m, err = c.ReadControl(ctx); err != nil || m.Type != protocol.CtlWelcome {
			c.CloseNow()
			return nil, err
		}
		c.KeepAlive(ctx)
		return c, nil
	}
	// Like an agent, read until the connection ends; closed reports whether
	// it does within 5 s.
	reader := func(c *transport.Conn) chan error {
		ch := make(chan error, 1)
		go func() {
			for {
				if _, err := c.ReadMessage(ctx); err != nil {
					ch <- err
					return
				}
			}
		}()
		return ch
	}
	closed := func(ch chan error) bool {
		select {
		case <-ch:
			return true
		case <-time.After(5 * time.Second):
			return false
		}
	}

	c1, err := connect()
	if err != nil {
		t.Fatal(err)
	}
	defer c1.CloseNow()
	r1 := reader(c1)
	if !s.agents.Online(dev.ID) {
		t.Fatal("device not online after welcome")
	}
	c2, err := connect()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseNow()
	r2 := reader(c2)
	if !closed(r1) {
		t.Fatal("the replaced connection is still open")
	}
	if a := s.agents.Get(dev.ID); a == nil {
		t.Fatal("device offline after the replacement")
	}

	s.agents.CloseAll() // returns once every watcher has finished
	if s.agents.Online(dev.ID) {
		t.Fatal("device online after closeAll")
	}
	if !closed(r2) {
		t.Fatal("connection still open after closeAll")
	}
	if c3, err := connect(); err == nil {
		c3.CloseNow()
		t.Fatal("a new agent was welcomed after closeAll")
	}
}
