package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/transport"
)

// JoinOptions says which attended session to join.
type JoinOptions struct {
	Code  string // the join code the technician read out
	Relay string // relay URL
	Pin   string // relay fingerprint; empty trusts on first use
	// OnFirstUse is called with the relay's fingerprint when Pin is empty.
	OnFirstUse func(fp string)
}

// Join joins one attended session in this terminal with a fresh,
// single-use session key, serves it, and returns when it ends. Cancelling
// ctx (Ctrl-C) ends the session through the one end path.
func Join(ctx context.Context, cfg Config, o JoinOptions) (string, error) {
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	cfg.AllowUnattended = false // somebody is at this terminal by definition
	live := newLiveSessions()
	ui := newConsole(cfg.In, cfg.Out, live)
	recoverLocks(cfg, ui, false)
	relay, err := transport.ParseRelayURL(o.Relay)
	if err != nil {
		return "", err
	}
	pin := ""
	if o.Pin != "" {
		if pin, err = tlsconf.ParseFingerprint(o.Pin); err != nil {
			return "", err
		}
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	c, err := transport.Dial(ctx, transport.Endpoint{URL: relay, Pin: pin, OnFirstUse: o.OnFirstUse}, protocol.PathAgentJoin)
	if err != nil {
		return "", err
	}
	host, _ := os.Hostname()
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlJoin, Code: o.Code, PublicKey: pub, Name: host}); err != nil {
		c.CloseNow()
		return "", fmt.Errorf("join: %w", err)
	}
	s := newDeviceSession(cfg, ui, live, key, c)
	return s.serveJoined(ctx)
}

// serveJoined runs an attended session; the returned string is why it ended.
func (s *deviceSession) serveJoined(ctx context.Context) (string, error) {
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.ui.Listen(sctx)
	// Ctrl-C during set-up cancels it (the session never starts); after
	// set-up it ends the session through the one end path. end never runs
	// while setup is still filling in the session.
	setupCtx, cancelSetup := context.WithCancel(sctx)
	defer cancelSetup()
	ready := make(chan bool, 1)
	go func() {
		select {
		case <-ctx.Done():
			cancelSetup()
			if <-ready {
				s.end("ended by the end user")
			}
		case <-sctx.Done():
		}
	}()
	defer s.conn.CloseNow()
	err := s.setup(setupCtx)
	ready <- err == nil
	if err != nil {
		s.refuse(sctx, err)
		return "", err
	}
	s.run(sctx)
	<-s.ended
	return s.endReason, nil
}
