package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// Agent serves sessions for one enrolled device. Create it with New.
type Agent struct {
	cfg  Config
	st   *State
	key  ed25519.PrivateKey
	ui   EndUser
	live *liveSessions
	// root is the pinned trust root as last followed (nil when none is
	// pinned); sessions check technician certificates against it.
	root atomic.Pointer[trust.Root]
	// serving counts the sessions being served; Run waits for them.
	serving sync.WaitGroup
	// unreported are lock results for sessions an earlier run left
	// unfinished, waiting to be reported to the relay.
	unreported []staleMarker
	// policyMu serialises the signed policy's highest-version file.
	policyMu sync.Mutex
	// headMu serialises the remembered audit head's file.
	headMu sync.Mutex
	// stMu guards st's pins and the writes of agent.json (relaypin.go).
	stMu sync.Mutex
}

// New loads the device's enrollment from cfg.Home.
func New(cfg Config) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, key, err := loadState(cfg.Home)
	if err != nil {
		return nil, err
	}
	live := newLiveSessions()
	a := &Agent{cfg: cfg, st: st, key: key, ui: newConsole(cfg.In, cfg.Out, live), live: live}
	if cfg.RePin != "" {
		if err := a.rePin(cfg.RePin); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Backoff bounds for reconnecting to the relay.
const (
	backoffMin = time.Second
	backoffMax = time.Minute
	stableConn = 30 * time.Second
)

// ShutdownGrace bounds how long Run waits, once ctx ends, for live
// sessions to end and lock the screen. A session still not finished then
// is locked at the agent's next start.
const ShutdownGrace = 30 * time.Second

// Run stays connected to the relay, reconnecting with capped exponential
// backoff and jitter, and serves every session offered until ctx ends. It
// first locks the screen for any session an earlier run left unfinished.
// When ctx ends, every live session is ended (and the screen locked)
// before Run returns, within ShutdownGrace. It returns early only for
// errors that retrying cannot fix (a changed relay key, a device the relay
// no longer knows).
func (a *Agent) Run(ctx context.Context) error {
	a.ui.Listen(ctx)
	a.unreported = recoverLocks(a.cfg, a.ui, true)
	if a.st.TrustRoot == "" {
		a.cfg.Logger.Warn(NoRootWarning)
	}
	// However Run returns, live sessions end (cancel) and lock before it
	// does (waitSessions); deferred calls run last-in, first-out.
	ctx, cancel := context.WithCancel(ctx)
	defer a.waitSessions()
	defer cancel()
	delay := backoffMin
	for {
		start := time.Now()
		err := a.connectOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if fatal(err) {
			return err
		}
		if time.Since(start) > stableConn {
			delay = backoffMin
		}
		wait := delay/2 + rand.N(delay/2+1)
		a.cfg.Logger.Warn("disconnected from relay; retrying", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		delay = min(delay*2, backoffMax)
	}
}

// waitSessions waits, within ShutdownGrace, for the sessions being served
// to end (the agent's ctx has ended, which ends them and locks).
func (a *Agent) waitSessions() {
	done := make(chan struct{})
	go func() { a.serving.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(ShutdownGrace):
		a.cfg.Logger.Error("sessions still ending after the shutdown grace; their screen lock is left to the next start", "grace", ShutdownGrace)
	}
}

// reportRecovered tells the relay, for its audit log, the lock results of
// sessions an earlier run left unfinished; each marker is removed once
// reported.
func (a *Agent) reportRecovered(ctx context.Context, c *transport.Conn) {
	var left []staleMarker
	for _, m := range a.unreported {
		mode := protocol.ScreenLocked
		if !m.p.Locked {
			mode = protocol.ScreenLockFailed
		}
		err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlScreenLock, SessionID: m.p.Session, Mode: mode,
			Reason: "the agent stopped during the session; at its next start: " + m.p.Result})
		if err != nil {
			left = append(left, m)
			continue
		}
		os.Remove(m.path)
	}
	a.unreported = left
}

// fatal reports whether err cannot be cured by reconnecting.
func fatal(err error) bool {
	var pe *tlsconf.PinError
	var re *transport.RemoteError
	var te *TrustError
	return errors.As(err, &pe) || errors.As(err, &re) || errors.As(err, &te)
}

// endpoint returns how to reach the relay this device enrolled with.
func (a *Agent) endpoint() transport.Endpoint {
	pin, next := a.pins()
	return transport.Endpoint{URL: a.st.Relay, Pin: pin, NextPin: next, OnNextPin: a.nextPinInUse}
}

// connectOnce opens the control connection, authenticates, and serves
// offers until the connection drops.
func (a *Agent) connectOnce(ctx context.Context) error {
	if err := a.checkRoot(ctx); err != nil {
		return err
	}
	c, err := transport.Dial(ctx, a.endpoint(), protocol.PathAgentControl)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if err := a.authenticate(ctx, c); err != nil {
		return err
	}
	a.cfg.Logger.Info("connected to relay", "relay", a.st.Relay, "device", a.st.Name)
	a.reportRecovered(ctx, c)
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.KeepAlive(kctx)
	for {
		m, err := c.ReadControl(ctx)
		if err != nil {
			return err
		}
		if m.Type == protocol.CtlNextPin {
			if err := a.learnNextPin(m.Pin); err != nil {
				a.cfg.Logger.Error("certificate rotation", "err", err)
			}
			continue
		}
		if m.Type == protocol.CtlOffer && m.Session != nil {
			a.serving.Add(1)
			trusted := a.sessionTrust()
			src := a.policySource()
			// Checked here, in the order the relay sent its offers, so
			// concurrent sessions never see their heads out of order.
			headErr := a.headWatch().accept(m.AuditHead)
			go func() {
				defer a.serving.Done()
				a.acceptOffer(ctx, m.Session, m.AttachToken, trusted, src, headErr)
			}()
		}
	}
}

// authenticate answers the relay's challenge with the device key.
func (a *Agent) authenticate(ctx context.Context, c *transport.Conn) error {
	actx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	m, err := c.ReadControl(actx)
	if err != nil {
		return fmt.Errorf("authenticate to relay: %w", err)
	}
	if m.Type != protocol.CtlChallenge || len(m.Challenge) < 16 {
		return fmt.Errorf("authenticate to relay: unexpected %q message", m.Type)
	}
	// Bound to the key this connection was verified against: the pin, or
	// the next pin once the relay switched to it.
	fp := c.PeerFingerprint()
	if fp == "" {
		fp, _ = a.pins()
	}
	sig := ed25519.Sign(a.key, protocol.AgentAuthMessage(m.Challenge, fp))
	if err := c.WriteControl(actx, &protocol.Control{Type: protocol.CtlAuth, Version: protocol.Version, DeviceID: a.st.DeviceID, Signature: sig}); err != nil {
		return err
	}
	m, err = c.ReadControl(actx)
	if err != nil {
		return fmt.Errorf("authenticate to relay: %w", err)
	}
	if m.Type != protocol.CtlWelcome {
		return fmt.Errorf("authenticate to relay: unexpected %q message", m.Type)
	}
	return nil
}

// acceptOffer opens the session connection for an offer and serves it;
// trusted is the pinned root as followed at connect and src (nil without a
// pinned root) fetches the chain again and verifies the signed policy;
// the root src reaches is the one the technician's certificate is checked
// against. headErr refuses the session when the relay's audit head did
// not pass.
func (a *Agent) acceptOffer(ctx context.Context, info *protocol.SessionInfo, attach string, trusted sessionTrust, src *policySource, headErr error) {
	log := a.cfg.Logger.With("session", info.ID)
	c, err := transport.Dial(ctx, a.endpoint(), protocol.PathAgentSession)
	if err != nil {
		log.Error("cannot open session connection", "err", err)
		return
	}
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAttach, SessionID: info.ID, AttachToken: attach}); err != nil {
		log.Error("attach failed", "err", err)
		c.CloseNow()
		return
	}
	s := newDeviceSession(a.cfg, a.ui, a.live, a.key, c)
	s.trusted = trusted
	s.policies = src
	s.headErr = headErr
	s.serve(ctx)
}
