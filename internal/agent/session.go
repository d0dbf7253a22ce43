package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/direct"
	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screenlock"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// deviceSession is the device side of one session: the agent serving one
// technician, from pairing to the screen lock. Every way it can end goes
// through end, which runs exactly once.
type deviceSession struct {
	cfg  Config
	ui   EndUser
	live *liveSessions
	key  ed25519.PrivateKey
	conn *transport.Conn
	log  *slog.Logger
	// policies verifies the signed policy before the session; nil when
	// the device pins no trust root.
	policies *policySource
	// policyVersion is the signed policy version verified for this
	// session (0: none), which its consent receipts carry.
	policyVersion uint64
	// headErr is why the audit head offered with the session was refused
	// (headWatch.accept), nil when it passed.
	headErr error

	info protocol.SessionInfo
	// trusted is the pinned trust root, if any, as followed at connect;
	// cert is the technician's certificate, verified against the root the
	// signed policy was verified against (trusted's without a policy).
	trusted sessionTrust
	cert    *trust.TechCertBody
	// certRaw is the verified certificate's document, nil without one.
	certRaw []byte
	pol     policy // decided from info once the handshake is done
	ch      *transport.Channel
	rec     *recorder // nil until the handshake is done
	// link answers the technician's direct-path attempts; directStop ends
	// it (nil when the feature was not negotiated).
	link       *direct.Link
	directStop context.CancelFunc

	// The capability handlers, by inner message type; shell and files are
	// also reached directly by the session's watch and revoke.
	caps    capHandlers
	shell   *shellHandler
	files   *filesHandler
	desktop *desktopHandler

	capMu    sync.Mutex
	granted  []string
	grants   grantSet                      // granted, for reads without capMu, and the revocation hooks
	revision int                           // consent receipts issued so far
	parent   atomic.Pointer[deviceSession] // the live session whose consent this one reuses
	children []*deviceSession              // sessions reusing this one's consent

	capPending bool      // a capability request awaits the end user
	capAsked   int       // capability requests admitted so far
	capLast    time.Time // when the last one was admitted or answered

	lastInput atomic.Int64 // unix nanos of the last human input
	used      atomic.Bool  // the technician started something (a process, a transfer)
	endOnce   sync.Once
	ending    atomic.Bool // set as soon as end starts
	ended     chan struct{}
	endReason string // set once, before ended is closed
	locks     atomic.Int32
	marker    *lockMarker // this session's lock journal entry; nil for a child
}

func newDeviceSession(cfg Config, ui EndUser, live *liveSessions, key ed25519.PrivateKey, c *transport.Conn) *deviceSession {
	s := &deviceSession{cfg: cfg, ui: ui, live: live, key: key, conn: c, log: cfg.Logger, ended: make(chan struct{})}
	s.shell, s.files, s.desktop = &shellHandler{s: s}, &filesHandler{s: s}, newDesktopHandler(s)
	// Cleaned up in this order at the end: the technician's held keys and
	// buttons are released and the indicator closed first, transfers stop
	// before the process is killed.
	s.caps = newCapHandlers(s.desktop, s.files, s.shell, &clipboardHandler{s: s})
	return s
}

// reasonStopped is the end reason when the agent itself is stopped.
const reasonStopped = "the agent was stopped on the device"

// serve runs the session from pairing to its end. Once started, the
// session outlives ctx: ctx's end (the agent being stopped) ends it
// through the one end path, which locks the screen, and serve returns
// only when that is done.
func (s *deviceSession) serve(ctx context.Context) {
	defer s.conn.CloseNow()
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go s.conn.KeepAlive(sctx)
	if err := s.setup(ctx); err != nil {
		s.log.Warn("session not started", "err", err)
		rctx, rcancel := context.WithTimeout(sctx, 2*time.Second)
		defer rcancel()
		s.refuse(rctx, err)
		return
	}
	s.run(sctx)
	stop := context.AfterFunc(ctx, func() { s.end(reasonStopped) })
	defer stop()
	<-s.ended
}

// setup waits for pairing, runs the handshake and asks for consent. No
// process exists until it returns nil.
func (s *deviceSession) setup(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, protocol.JoinCodeTTL)
	defer cancel()
	m, err := s.conn.ReadControl(sctx)
	if err != nil {
		return fmt.Errorf("waiting for the technician: %w", err)
	}
	if m.Type != protocol.CtlPaired || m.Session == nil {
		return fmt.Errorf("unexpected %q message from relay", m.Type)
	}
	s.info = *m.Session
	s.log = s.cfg.Logger.With("session", s.info.ID)
	p, err := s.params()
	if err != nil {
		return err
	}
	hctx, hcancel := context.WithTimeout(ctx, 30*time.Second)
	defer hcancel()
	if s.ch, err = transport.Respond(hctx, s.conn, p, s.key); err != nil {
		return err
	}
	// Decided after the handshake, so that a refusal reaches the
	// technician end to end. The root the policy is verified against is
	// the one the certificate is checked against.
	if s.headErr != nil { // the relay's audit head, checked as offered
		s.log.Error("refusing the session: the relay's audit log", "err", s.headErr)
		return s.headErr
	}
	signed, err := s.policies.fetch(ctx)
	if err != nil {
		return err
	}
	if signed != nil {
		s.policyVersion = signed.version
	}
	if s.cert, err = s.techAuth(hctx, s.trusted.withPolicyRoot(signed)); err != nil {
		return err
	}
	if err := checkCert(s.certRaw, signed, time.Now()); err != nil {
		return err
	}
	if s.pol, err = decidePolicy(s.info, s.cfg, signed); err != nil {
		return err
	}
	if s.pol, err = limitToCert(s.pol, s.cert); err != nil {
		return err
	}
	// The technician offers a direct path only after consent; with a
	// signed policy, its direct-path switch applies whatever the relay says.
	if err := s.startDirect(signed != nil && !signed.body.DirectPath); err != nil {
		return err
	}
	if s.rec, err = newRecorder(s.conn, s.info.ID, s.pol.recipients, s.pol.recordInput); err != nil {
		return err
	}
	return s.askConsent(ctx)
}

// params builds the handshake parameters. The device key is always this
// agent's own, whatever the relay claims.
func (s *deviceSession) params() (e2e.Params, error) {
	var p e2e.Params
	id, err := s.info.ID.Bytes()
	if err != nil {
		return p, fmt.Errorf("malformed session ID from relay")
	}
	p.SessionID = id
	p.TechID, p.TechUser = s.info.TechID, s.info.TechUser
	p.DeviceKey = s.key.Public().(ed25519.PublicKey)
	return p, nil
}

// errRefused wraps a refusal by the end user (or for lack of one).
var errRefused = errors.New("consent refused")

// askConsent asks the end user and tells the technician and relay the answer.
func (s *deviceSession) askConsent(ctx context.Context) error {
	d, auto := s.autoConsent(ctx)
	if !auto {
		d = s.ask(ctx, s.consentRequest(s.pol.requested))
	}
	s.setGranted(ctx, d.Capabilities, d.Granted, d.Why)
	if err := s.ch.SendJSON(ctx, protocol.InConsent, protocol.Consent{Granted: d.Granted, Caps: d.Capabilities, Why: d.Why}); err != nil {
		return err
	}
	if !d.Granted {
		s.rec.marker("consent refused: %s", d.Why)
		s.markCaps(s.pol.requested, "refused: "+d.Why)
		return fmt.Errorf("%w: %s", errRefused, d.Why)
	}
	s.rec.marker("consent granted: %s", capsLabel(d.Capabilities))
	s.markCaps(d.Capabilities, "granted")
	s.log.Info("consent granted", "caps", d.Capabilities)
	err := s.files.open()
	if err != nil && (protocol.Covers(d.Capabilities, protocol.CapFilesTo) || protocol.Covers(d.Capabilities, protocol.CapFilesFrom)) {
		return err
	}
	return nil
}

// ask asks the end user through the consent command, the EndUser (the
// terminal), or, without a terminal, a window on the agent's X display;
// with none of them it refuses. A grant of screen-control includes
// screen-view.
func (s *deviceSession) ask(ctx context.Context, req consent.Request) consent.Decision {
	d := s.askOnce(ctx, req)
	if d.Granted {
		d.Capabilities = protocol.NormalizeCaps(d.Capabilities)
	}
	return d
}

// askOnce is ask without the normalisation.
func (s *deviceSession) askOnce(ctx context.Context, req consent.Request) consent.Decision {
	if s.cfg.ConsentCmd != "" {
		d, err := consent.Command{Cmd: s.cfg.ConsentCmd, Timeout: s.cfg.ConsentTimeout}.Ask(ctx, req)
		if err != nil {
			s.log.Warn("consent command failed", "err", err)
		}
		return d
	}
	if s.ui.CanAsk() {
		return s.ui.AskConsent(ctx, req, s.cfg.ConsentTimeout)
	}
	if display, xauth, ok := consentDesktop(); ok {
		return s.askDesktop(ctx, display, xauth, req, s.cfg.ConsentTimeout)
	}
	return consent.Decision{Why: whyNoWayToAsk}
}

// refuse tells the relay why the session did not start and closes.
func (s *deviceSession) refuse(ctx context.Context, err error) {
	reason := "refused by the device: " + err.Error()
	if errors.Is(err, errRefused) {
		reason = err.Error()
	}
	s.rec.close(reason)
	if s.ch != nil {
		s.ch.Send(ctx, protocol.InEnd, []byte(reason))
	}
	s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlEnd, Reason: reason})
	s.conn.Close(reason)
	if s.directStop != nil {
		s.directStop()
	}
}

// end is the one end path: kill the process group, lock the screen exactly
// once, tell the technician, the relay and the end user why it ended and
// what became of the lock, close. Safe to call from any goroutine, any
// number of times.
func (s *deviceSession) end(reason string) {
	s.endOnce.Do(func() {
		s.ending.Store(true)
		if s.ch != nil {
			// The last words (lock result, end) go on the relay path,
			// after whatever the direct path had not delivered.
			s.ch.Closing()
		}
		s.caps.closeAll()
		for _, c := range s.takeChildren() {
			// Closing (not c.end) is safe while the child is still being
			// set up; the child then ends through its own end path.
			c.conn.CloseNow()
		}
		var lock *LockResult
		if p := s.parent.Load(); p == nil {
			lock = s.lock()
		} else {
			s.log.Info("screen lock left to the parent session", "parent", p.info.ID)
		}
		if lock != nil {
			s.reportLock(lock)
		}
		if err := s.rec.close(reason); err != nil {
			s.log.Error("recording could not be finished", "err", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if s.ch != nil {
			s.ch.Send(ctx, protocol.InEnd, []byte(reason))
		}
		s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlEnd, Reason: reason})
		s.conn.Close(reason)
		if s.directStop != nil {
			s.directStop()
		}
		if s.live.remove(s) {
			s.ui.SessionEnded(reason, lock)
		}
		s.log.Info("session ended", "reason", reason)
		s.marker.remove()
		s.endReason = reason
		close(s.ended)
	})
}

// lockBudget bounds all of a session end's lock attempts together.
const lockBudget = 12 * time.Second

// lock locks the screen; it is called once per session, from end.
func (s *deviceSession) lock() *LockResult {
	s.locks.Add(1)
	return lockScreen(s.cfg, s.log)
}

// lockScreen locks the screen with the configured command or the
// platform's methods and logs the result.
func lockScreen(cfg Config, log *slog.Logger) *LockResult {
	ctx, cancel := context.WithTimeout(context.Background(), lockBudget)
	defer cancel()
	method, err := screenlock.Locker{Cmd: cfg.LockCmd, Logger: log}.Lock(ctx)
	r := &LockResult{Method: method, Err: err}
	if err != nil {
		log.Error("screen lock failed", "err", err)
	} else {
		log.Info("screen locked", "method", method)
	}
	return r
}

// reportLock tells the recording, the technician (end to end) and the
// relay (for its audit log) what became of the lock, before the end.
func (s *deviceSession) reportLock(r *LockResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.rec.marker("%s", r)
	msg := protocol.ScreenLock{Locked: r.Err == nil, Method: r.Method}
	mode := protocol.ScreenLocked
	if r.Err != nil {
		msg.Error, mode = screenlock.Reason(r.Err), protocol.ScreenLockFailed
	}
	if s.ch != nil {
		if err := s.ch.SendJSON(ctx, protocol.InScreenLock, msg); err != nil {
			s.log.Warn("could not tell the technician the lock result", "err", err)
		}
	}
	if err := s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlScreenLock, Mode: mode, Reason: r.String()}); err != nil {
		s.log.Warn("could not tell the relay the lock result", "err", err)
	}
}
