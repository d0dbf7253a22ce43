package tech

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/transport"
)

// ExitError carries a remote command's exit status.
type ExitError struct{ Code int }

// Error describes the status.
func (e *ExitError) Error() string {
	return fmt.Sprintf("remote command exited with status %d", e.Code)
}

// defaultKeepalive is how often an idle technician side tells the agent it
// is still there.
const defaultKeepalive = 20 * time.Second

// WindowSize is a terminal's size in characters.
type WindowSize struct{ Cols, Rows uint16 }

// RunOptions say what to run in a session and where its bytes come from
// and go to.
type RunOptions struct {
	Argv []string // command to run; empty for an interactive shell
	PTY  bool     // run it in a PTY
	Term string   // the PTY's TERM
	Size WindowSize
	// Stdin is sent to the device until EOF (nil: nothing, EOF at once).
	// Stdout and Stderr receive the device's output streams as sent (nil:
	// discarded); anything that shows them to a person must filter them
	// (sanitize.TermFilter).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Resize, if not nil, carries new sizes of the PTY.
	Resize <-chan WindowSize
	// Keepalive is how often to tell the agent the technician is still
	// there; default 20 s. Keepalives are not human input.
	Keepalive time.Duration
}

// Run starts the shell or command, moves bytes both ways until the session
// ends, and returns nil, an *ExitError with a command's non-zero status,
// or why the session ended otherwise. It reports ScreenLockReport and,
// last, Exited.
//
// With --path direct (SessionRequest.Path PathDirect) nothing starts
// before the session is on the direct path; if it cannot be, the session
// ends and Run returns an error wrapping ErrNoDirect.
func (s *LiveSession) Run(ctx context.Context, o RunOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stdout, stderr := orDiscard(o.Stdout), orDiscard(o.Stderr)
	if !s.directRequired {
		if err := s.start(ctx, o); err != nil {
			return err
		}
		return s.receive(ctx, stdout, stderr)
	}
	// The signalling is read by the receive loop: run it while waiting.
	done := make(chan error, 1)
	go func() { done <- s.receive(ctx, stdout, stderr) }()
	select {
	case <-s.link.Done():
	case err := <-done:
		return err
	}
	if s.link.Err() == nil {
		if err := s.start(ctx, o); err != nil {
			return err
		}
	}
	return <-done // on a failure requireDirect ends the session
}

// start sends the start message and starts the input pumps.
func (s *LiveSession) start(ctx context.Context, o RunOptions) error {
	st := protocol.Start{Argv: o.Argv, PTY: o.PTY, Term: o.Term, Cols: o.Size.Cols, Rows: o.Size.Rows}
	if err := s.ch.SendJSON(ctx, protocol.InStart, st); err != nil {
		return err
	}
	if o.Stdin == nil {
		s.ch.Send(ctx, protocol.InStdinEOF, nil)
	} else {
		go s.pumpInput(ctx, o.Stdin)
	}
	if o.Resize != nil {
		go s.forwardResizes(ctx, o.Resize)
	}
	go s.keepalive(ctx, o.Keepalive)
	return nil
}

// orDiscard is w, or io.Discard for nil.
func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// pumpInput sends local input to the device until EOF.
func (s *LiveSession) pumpInput(ctx context.Context, in io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if s.ch.Send(ctx, protocol.InStdin, buf[:n]) != nil {
				return
			}
		}
		if err != nil {
			s.ch.Send(ctx, protocol.InStdinEOF, nil)
			return
		}
	}
}

// forwardResizes sends each new PTY size.
func (s *LiveSession) forwardResizes(ctx context.Context, sizes <-chan WindowSize) {
	for {
		select {
		case <-ctx.Done():
			return
		case ws, ok := <-sizes:
			if !ok {
				return
			}
			s.ch.SendMsg(ctx, protocol.AppendResize(nil, ws.Rows, ws.Cols))
		}
	}
}

// keepalive keeps the path warm; the agent does not count it as input.
func (s *LiveSession) keepalive(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = defaultKeepalive
	}
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			if s.ch.Send(ctx, protocol.InKeepalive, nil) != nil {
				return
			}
		}
	}
}

// receive writes the device's output until the session ends.
func (s *LiveSession) receive(ctx context.Context, stdout, stderr io.Writer) error {
	code := -1
	for {
		typ, p, err := s.ch.Recv(ctx)
		if err != nil {
			return s.finish(err, code)
		}
		switch typ {
		case protocol.InStdout:
			stdout.Write(p)
		case protocol.InStderr:
			stderr.Write(p)
		case protocol.InExit:
			if v, err := protocol.ParseExit(p); err == nil {
				code = int(v)
			}
		case protocol.InScreenLock:
			var r ScreenLockReport
			r.Malformed = protocol.DecodeJSON(p, &r.ScreenLock) != nil
			s.c.emit(r)
		}
	}
}

// finish reports how the session ended (Exited) and returns its error.
func (s *LiveSession) finish(err error, code int) error {
	if perr := s.pathError(); perr != nil {
		s.c.emit(Exited{Code: code, Reason: perr.Error(), Lost: true})
		return perr
	}
	var ee *transport.EndError
	if !errors.As(err, &ee) {
		reason := lostReason(err)
		s.c.emit(Exited{Code: code, Reason: reason, Lost: true})
		return fmt.Errorf("session lost: %s", reason)
	}
	s.c.emit(Exited{Code: code, Reason: ee.Reason})
	switch {
	case code == 0:
		return nil
	case code > 0:
		return &ExitError{Code: code}
	}
	return fmt.Errorf("session ended: %s", sanitize.Display(ee.Reason, 200))
}

// lostReason says why a session was lost without a network library's
// wording: a channel or protocol failure keeps its text; any other
// failure to read is the connection to the relay being lost.
func lostReason(err error) string {
	var re *transport.RemoteError
	switch {
	case errors.As(err, &re):
		return "relay: " + sanitize.Display(re.Message, 200)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, e2e.ErrAuthentication), errors.Is(err, e2e.ErrReplayed), errors.Is(err, e2e.ErrOutOfOrder),
		errors.Is(err, e2e.ErrTruncated), errors.Is(err, protocol.ErrBadInner), errors.Is(err, protocol.ErrBadControl),
		errors.Is(err, protocol.ErrUnknownFrame):
		return err.Error()
	}
	return "connection to the relay lost"
}
