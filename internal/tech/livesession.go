package tech

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/direct"
	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/transport"
)

// SessionRequest says which session to ask the relay for.
type SessionRequest struct {
	Device string   // device name (unattended)
	Caps   []string // capabilities asked for
	Reason string   // reason or ticket, shown to the end user and audited
	// Attended asks for a join code instead of naming a device.
	Attended bool
	// Parent reuses the consent of a live session of this client's
	// (tech cp --session).
	Parent string
	// Path says whether to move the session to the direct peer-to-peer
	// path once consent is given: PathAuto (default), PathRelay or
	// PathDirect.
	Path string
}

// LiveSession is the technician's side of one live session with a device:
// its connection to the relay and the end-to-end channel through it.
// Get one from Client.Dial or Client.Open; Close it when done.
type LiveSession struct {
	c       *Client
	conn    *transport.Conn
	ch      *transport.Channel
	info    *protocol.SessionInfo
	mu      sync.Mutex // guards granted and pathErr
	granted []string
	// link runs the direct path (nil when not tried); directStop ends it;
	// pathErr is why --path direct ended the session.
	link           *direct.Link
	directStop     context.CancelFunc
	pathErr        error
	directRequired bool // --path direct: Run waits for the direct path
}

// ID is the session's ID.
func (s *LiveSession) ID() ids.SessionID { return s.info.ID }

// DeviceName is the device's name, as the relay sent it.
func (s *LiveSession) DeviceName() string { return s.info.DeviceName }

// SecurityCode is the code derived from the handshake; the end user sees
// the same one.
func (s *LiveSession) SecurityCode() string { return s.ch.SecurityCode }

// Features is the optional protocol features both ends understand,
// negotiated in the handshake.
func (s *LiveSession) Features() protocol.Features { return s.ch.Features() }

// Granted is the capabilities the end user granted (nil before consent),
// as the device last said: at consent, at an answer to a capability
// request, at a revocation (see HandleCapMessage). The caller owns the
// result.
func (s *LiveSession) Granted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.granted)
}

// setGranted records what the device says is granted now.
func (s *LiveSession) setGranted(caps []string) {
	s.mu.Lock()
	s.granted = caps
	s.mu.Unlock()
}

// Close closes the connection at once.
func (s *LiveSession) Close() {
	s.stopDirect()
	s.conn.CloseNow()
}

// End tells the agent the technician is done, so it ends the session
// through its one end path, then closes.
func (s *LiveSession) End(reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.ch.Closing()
	s.ch.Send(ctx, protocol.InEnd, []byte(reason))
	s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlEnd, Reason: reason})
	s.conn.Close(reason)
	s.stopDirect()
}

// Open asks for a session, runs the handshake and waits for the end
// user's consent: Dial, then AwaitConsent.
func (c *Client) Open(ctx context.Context, r SessionRequest) (*LiveSession, error) {
	if err := checkPathMode(r.Path); err != nil {
		return nil, err
	}
	s, err := c.Dial(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := s.AwaitConsent(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.startDirect(r.Path); err != nil {
		s.End(err.Error())
		return nil, err
	}
	return s, nil
}

// Dial asks the relay for a session and runs the end-to-end handshake
// (and, with r.Parent, proves this client holds that session). The
// security code is known when it returns; the end user has not answered
// yet (AwaitConsent).
func (c *Client) Dial(ctx context.Context, r SessionRequest) (*LiveSession, error) {
	ep, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	conn, err := transport.Dial(ctx, ep, protocol.PathTechSession)
	if err != nil {
		return nil, err
	}
	if err := c.learnNextPin(conn.ResponseHeader()); err != nil {
		conn.CloseNow()
		return nil, err
	}
	s, err := c.negotiate(ctx, conn, r)
	if err != nil {
		conn.CloseNow()
		return nil, err
	}
	return s, nil
}

// negotiate runs request → pairing → handshake (→ parent proof) on conn.
func (c *Client) negotiate(ctx context.Context, conn *transport.Conn, r SessionRequest) (*LiveSession, error) {
	req := &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: r.Device, Caps: r.Caps,
		Reason: r.Reason, Parent: ids.SessionID(r.Parent)}
	if r.Attended {
		req.Mode = "attended"
	}
	if err := conn.WriteControl(ctx, req); err != nil {
		return nil, fmt.Errorf("send session request: %w", err)
	}
	info, err := c.awaitPairing(ctx, conn)
	if err != nil {
		return nil, err
	}
	if err := c.checkDeviceKey(info, r); err != nil {
		return nil, err
	}
	c.emit(SessionOpened{ID: info.ID, DeviceName: info.DeviceName, Mode: info.Mode})
	ch, err := c.handshake(ctx, conn, info)
	if err != nil {
		return nil, err
	}
	if r.Parent != "" {
		if err := c.proveParent(ctx, ch, r.Parent, info.ID); err != nil {
			return nil, err
		}
	}
	return &LiveSession{c: c, conn: conn, ch: ch, info: info}, nil
}

// awaitPairing reads control messages until the agent side is attached.
func (c *Client) awaitPairing(ctx context.Context, conn *transport.Conn) (*protocol.SessionInfo, error) {
	for {
		m, err := conn.ReadControl(ctx)
		if err != nil {
			return nil, sessionError(err)
		}
		switch m.Type {
		case protocol.CtlJoinCode:
			pin, _ := c.pins()
			c.emit(JoinCode{Code: m.Code, Relay: c.st.Relay, Pin: pin})
		case protocol.CtlPaired:
			if m.Session == nil {
				return nil, errors.New("relay sent an empty pairing")
			}
			return m.Session, nil
		case protocol.CtlEnd:
			return nil, fmt.Errorf("session ended: %s", sanitize.Display(m.Reason, 200))
		}
	}
}

// handshake runs the end-to-end key exchange and reports the security code.
func (c *Client) handshake(ctx context.Context, conn *transport.Conn, info *protocol.SessionInfo) (*transport.Channel, error) {
	var p e2e.Params
	id, err := info.ID.Bytes()
	if err != nil {
		return nil, errors.New("relay sent a malformed session ID")
	}
	p.SessionID = id
	p.TechID, p.TechUser, p.DeviceKey = info.TechID, info.TechUser, info.DeviceKey
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ch, err := transport.InitiateWith(hctx, conn, p, transport.Supported())
	if err != nil {
		return nil, sessionError(err)
	}
	if err := c.sendTechAuth(hctx, ch, id[:]); err != nil {
		return nil, sessionError(err)
	}
	c.emit(SecurityCode{SessionID: info.ID, DeviceName: info.DeviceName, Code: ch.SecurityCode})
	return ch, nil
}

// AwaitConsent waits for the end user's answer; a refusal is an error.
func (s *LiveSession) AwaitConsent(ctx context.Context) error {
	t, p, err := s.ch.Recv(ctx)
	if err != nil {
		return sessionError(err)
	}
	if t != protocol.InConsent {
		return fmt.Errorf("protocol error: expected the consent answer, got message 0x%02x", byte(t))
	}
	var cs protocol.Consent
	if err := protocol.DecodeJSON(p, &cs); err != nil {
		return err
	}
	s.c.emit(ConsentAnswered{Granted: cs.Granted, Caps: cs.Caps, Why: cs.Why})
	if !cs.Granted {
		return fmt.Errorf("the end user did not consent: %s", sanitize.Display(cs.Why, 200))
	}
	s.setGranted(knownCaps(cs.Caps))
	return nil
}

// ErrCodeMismatch is returned (wrapped) by Verify when the typed code is
// not the session's: the session has been ended.
var ErrCodeMismatch = errors.New("security code mismatch")

// Verify checks the security code the end user read out (typed: any
// characters besides the digits are ignored). If it matches, it tells the
// agent the code was confirmed; if not, it ends the session and returns
// an error wrapping ErrCodeMismatch.
func (s *LiveSession) Verify(ctx context.Context, typed string) error {
	if normCode(typed) != normCode(s.ch.SecurityCode) {
		s.End("the security codes did not match")
		return fmt.Errorf("%w: the end user's screen does not show %s — someone may be intercepting the session; it was ended", ErrCodeMismatch, s.ch.SecurityCode)
	}
	return s.ch.Send(ctx, protocol.InVerified, nil)
}

// normCode keeps only the digits of a typed code.
func normCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// sessionError turns a session failure into one clear error.
func sessionError(err error) error {
	var ee *transport.EndError
	if errors.As(err, &ee) {
		return fmt.Errorf("session ended: %s", sanitize.Display(ee.Reason, 200))
	}
	return err
}
