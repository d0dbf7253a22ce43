package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tether/internal/e2e"
	"tether/internal/protocol"
	"tether/internal/transport"
)

// startWait is how long the technician has to say what to run after consent.
const startWait = 30 * time.Second

// run serves an established, consented session until it ends.
func (s *session) run(ctx context.Context) {
	if s.parent == nil {
		m, err := openMarker(s.cfg.Home, pendingLock{Session: s.info.ID, Tech: s.info.TechUser, Started: time.Now().UTC()})
		if err != nil {
			s.log.Error("the screen will not be locked if the agent stops abruptly", "err", err)
		}
		s.marker = m
	}
	s.touch()
	s.console.sessionStarted(s)
	go s.watch(ctx)
	go s.receive(ctx)
}

// touch records human input now.
func (s *session) touch() { s.lastInput.Store(time.Now().UnixNano()) }

// watch enforces the idle timeout (human input only), the absolute limit
// and the deadline for the technician's start message.
func (s *session) watch(ctx context.Context) {
	idle := s.info.IdleTimeout
	if idle <= 0 {
		idle = protocol.DefaultIdleTimeout
	}
	limit := s.info.MaxDuration
	if limit <= 0 {
		limit = protocol.DefaultMaxSession
	}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(min(idle/4, time.Second))
	defer tick.Stop()
	startBy := time.Now().Add(startWait)
	for {
		select {
		case <-s.ended:
			return
		case <-ctx.Done():
			s.end(reasonStopped)
			return
		case <-deadline.C:
			s.end("absolute session limit reached")
			return
		case now := <-tick.C:
			if now.Sub(time.Unix(0, s.lastInput.Load())) >= idle {
				s.end(fmt.Sprintf("idle timeout: no input for %v", idle))
				return
			}
			if s.files.busy() {
				s.touch() // a transfer the technician started is not idleness
				continue
			}
			if s.currentProc() == nil && !s.used.Load() && now.After(startBy) {
				s.end("the technician did not start anything")
				return
			}
		}
	}
}

func (s *session) currentProc() *process {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	return s.proc
}

// receive handles messages from the technician until the session ends.
func (s *session) receive(ctx context.Context) {
	for {
		t, p, err := s.ch.Recv(ctx)
		if err != nil {
			s.end(endReason(err))
			return
		}
		if err := s.handle(ctx, t, p); err != nil {
			s.end(handleReason(err))
			return
		}
	}
}

// handle acts on one inner message.
func (s *session) handle(ctx context.Context, t protocol.InnerType, p []byte) error {
	switch t {
	case protocol.InStart:
		s.used.Store(true)
		return s.start(ctx, p)
	case protocol.InStdin:
		s.touch()
		if err := s.rec.inputEvent(p); err != nil {
			return fmt.Errorf("recording failed: %w", err)
		}
		if pr := s.currentProc(); pr != nil {
			pr.write(p)
		}
	case protocol.InStdinEOF:
		if pr := s.currentProc(); pr != nil {
			pr.closeStdin()
		}
	case protocol.InResize:
		rows, cols, err := protocol.ParseResize(p)
		if err != nil {
			return err
		}
		if pr := s.currentProc(); pr != nil {
			pr.resize(rows, cols)
		}
		if err := s.rec.resize(int(cols), int(rows)); err != nil {
			return fmt.Errorf("recording failed: %w", err)
		}
	case protocol.InKeepalive:
		// Not activity: the idle timeout counts human input only.
	case protocol.InCapRequest:
		s.touch()
		return s.requestCaps(ctx, p)
	case protocol.InFileOpen, protocol.InFileData, protocol.InFileDone:
		return s.handleFile(ctx, t, p)
	case protocol.InVerified:
		s.rec.marker("security code confirmed by the technician")
	case protocol.InClipboard:
		s.touch()
		return s.clipboard(ctx, p)
	default:
		return fmt.Errorf("protocol error: unexpected message 0x%02x from technician", byte(t))
	}
	return nil
}

// Clean end reasons for failures whose raw text (a network library's
// wording) means nothing to the people reading it.
const (
	reasonConnLost    = "connection to the relay lost"
	reasonBadMessage  = "protocol error: a message from the technician could not be read"
	reasonUnauthentic = "protocol error: a message failed end-to-end authentication"
)

// endReason turns a receive error into the reason the session ends. The
// peer's own words (an end message) are kept; failures of the connection
// or the channel get one clean reason each, never a library's error text.
func endReason(err error) string {
	var ee *transport.EndError
	var re *transport.RemoteError
	switch {
	case errors.As(err, &ee) && ee.Reason == "":
		return "ended by the relay"
	case errors.As(err, &ee):
		return ee.Reason
	case errors.As(err, &re):
		return "relay: " + re.Message
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return reasonStopped
	case errors.Is(err, protocol.ErrBadInner), errors.Is(err, protocol.ErrBadControl),
		errors.Is(err, protocol.ErrUnknownFrame), errors.Is(err, protocol.ErrEmptyFrame), errors.Is(err, protocol.ErrFrameTooBig):
		return reasonBadMessage
	case errors.Is(err, e2e.ErrAuthentication), errors.Is(err, e2e.ErrReplayed), errors.Is(err, e2e.ErrOutOfOrder),
		errors.Is(err, e2e.ErrTruncated), errors.Is(err, e2e.ErrExhausted):
		return reasonUnauthentic
	}
	return reasonConnLost
}

// handleReason turns a failure to handle a message into the end reason:
// a payload that does not parse gets the one clean reason (not a JSON
// decoder's wording); the agent's own refusals keep their words.
func handleReason(err error) string {
	if errors.Is(err, protocol.ErrBadInner) || errors.Is(err, protocol.ErrBadControl) {
		return reasonBadMessage
	}
	return err.Error()
}

// start launches what the technician asked for, if the shell was granted.
func (s *session) start(ctx context.Context, p []byte) error {
	if !s.hasCap(protocol.CapShell) {
		return errors.New("the end user did not grant the shell capability")
	}
	var st protocol.Start
	if err := protocol.DecodeJSON(p, &st); err != nil {
		return err
	}
	s.procMu.Lock()
	defer s.procMu.Unlock()
	if s.proc != nil {
		return errors.New("protocol error: a second start message")
	}
	pr, err := startProcess(st, newScope(s.info.ID, s.log))
	if err != nil {
		return fmt.Errorf("could not start: %w", err)
	}
	if st.Rows > 0 && st.Cols > 0 {
		s.rec.resize(int(st.Cols), int(st.Rows))
	}
	if pr.shell {
		s.rec.marker("start: interactive shell")
	} else {
		s.rec.marker("start: %q", st.Argv)
	}
	s.proc = pr
	s.log.Info("process started", "pty", pr.pty != nil, "command", st.Argv)
	go s.pumpOutput(ctx, pr)
	return nil
}

// pumpOutput streams the process's output to the technician, then reports
// its exit status and ends the session.
func (s *session) pumpOutput(ctx context.Context, pr *process) {
	done := make(chan struct{})
	pr.readOutputs(func(t protocol.InnerType, b []byte) error {
		if err := s.rec.output(b); err != nil {
			go s.end("recording failed: " + err.Error())
			return err
		}
		return s.ch.Send(ctx, t, b)
	}, done)
	code := pr.wait(done)
	if s.ending.Load() {
		return // killed by the end path, which reports its own reason
	}
	s.ch.SendMsg(ctx, protocol.AppendExit(nil, int32(code)))
	what := "command"
	if pr.shell {
		what = "shell"
	}
	s.end(fmt.Sprintf("%s exited with status %d", what, code))
}

// handleFile dispatches file transfer messages.
func (s *session) handleFile(ctx context.Context, t protocol.InnerType, p []byte) error {
	if s.files == nil {
		return errors.New("file transfer is not available on this device")
	}
	switch t {
	case protocol.InFileOpen:
		s.touch()
		s.used.Store(true)
		var o protocol.FileOpen
		if err := protocol.DecodeJSON(p, &o); err != nil {
			return err
		}
		return s.files.open(ctx, o)
	case protocol.InFileData:
		id, data, err := protocol.ParseFileData(p)
		if err != nil {
			return err
		}
		return s.files.data(id, data)
	default:
		var d protocol.FileDone
		if err := protocol.DecodeJSON(p, &d); err != nil {
			return err
		}
		return s.files.done(ctx, d)
	}
}
