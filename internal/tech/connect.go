package tech

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"tether/internal/e2e"
	"tether/internal/ids"
	"tether/internal/protocol"
	"tether/internal/sanitize"
	"tether/internal/transport"
)

// ConnectOptions are the flags of `tech connect` and `tech session new`.
type ConnectOptions struct {
	Device string   // device name (unattended)
	Caps   []string // capabilities asked for; default shell
	Argv   []string // command to run; empty for an interactive shell
	PTY    bool     // force a PTY for a command (-t)
	Reason string   // reason or ticket, shown to the end user and audited
	// Attended asks for a join code instead of naming a device.
	Attended bool
	// Keepalive is how often an idle technician side sends a keepalive;
	// default 20 s. Keepalives are not human input.
	Keepalive time.Duration
	// Parent reuses the consent of a live session (tech cp --session).
	Parent string
	// Verify waits for the technician to confirm the security code the end
	// user reads out before anything runs.
	Verify bool
	// Raw passes the device's output to the terminal unfiltered (--raw).
	// Without it, output bound for a terminal goes through a
	// sanitize.TermFilter.
	Raw bool
}

// ExitError carries a remote command's exit status.
type ExitError struct{ Code int }

// Error describes the status.
func (e *ExitError) Error() string {
	return fmt.Sprintf("remote command exited with status %d", e.Code)
}

// defaultKeepalive is how often an idle technician side tells the agent it
// is still there.
const defaultKeepalive = 20 * time.Second

// Connect asks for a session, waits for the end user's consent, and runs the
// shell or command. It returns nil or *ExitError for a command's status.
func (c *Client) Connect(ctx context.Context, o ConnectOptions) error {
	sc, err := c.open(ctx, o)
	if err != nil {
		return err
	}
	defer sc.close()
	defer c.publishSession(sc.ch, sc.info.ID)()
	if o.Verify {
		if err := c.verifyCode(ctx, sc); err != nil {
			return err
		}
	}
	return newTerminal(c, sc.ch, sc.info, sc.granted).run(ctx, o)
}

// session is an open, consented session on the technician's side.
type session struct {
	conn    *transport.Conn
	ch      *transport.Channel
	info    *protocol.SessionInfo
	granted []string
}

// close ends the session (if still open) and closes the connection.
func (s *session) close() { s.conn.CloseNow() }

// end tells the agent the technician is done, so it ends the session
// through its one end path, then closes.
func (s *session) end(reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.ch.Send(ctx, protocol.InEnd, []byte(reason))
	s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlEnd, Reason: reason})
	s.conn.Close(reason)
}

// open asks the relay for a session, runs the handshake, shows the security
// code and waits for the end user's consent.
func (c *Client) open(ctx context.Context, o ConnectOptions) (*session, error) {
	ep, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	conn, err := transport.Dial(ctx, ep, protocol.PathTechSession)
	if err != nil {
		return nil, err
	}
	sc, err := c.negotiate(ctx, conn, o)
	if err != nil {
		conn.CloseNow()
		return nil, err
	}
	return sc, nil
}

// negotiate runs request → pairing → handshake → consent on conn.
func (c *Client) negotiate(ctx context.Context, conn *transport.Conn, o ConnectOptions) (*session, error) {
	req := &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: o.Device, Caps: o.Caps,
		Reason: o.Reason, Parent: ids.SessionID(o.Parent)}
	if o.Attended {
		req.Mode = "attended"
	}
	if err := conn.WriteControl(ctx, req); err != nil {
		return nil, fmt.Errorf("send session request: %w", err)
	}
	info, err := c.awaitPairing(ctx, conn)
	if err != nil {
		return nil, err
	}
	if err := c.checkDeviceKey(info, o); err != nil {
		return nil, err
	}
	ch, err := c.handshake(ctx, conn, info)
	if err != nil {
		return nil, err
	}
	if o.Parent != "" {
		if err := c.proveParent(ctx, ch, o.Parent, info.ID); err != nil {
			return nil, err
		}
	}
	granted, err := c.awaitConsent(ctx, ch, info)
	if err != nil {
		return nil, err
	}
	return &session{conn: conn, ch: ch, info: info, granted: granted}, nil
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
			code := sanitize.Display(m.Code, 32)
			fmt.Fprintln(c.Stdout, code)
			fmt.Fprintf(c.Stderr, "Join code: %s (valid 10 minutes, single use).\nAsk the person you are helping to run:\n  agent join %s --relay %s --ca-fingerprint %s\nWaiting for them to join…\n",
				code, code, c.st.Relay, c.st.Pin)
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

// handshake runs the end-to-end key exchange and shows the security code.
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
	ch, err := transport.Initiate(hctx, conn, p)
	if err != nil {
		return nil, sessionError(err)
	}
	fmt.Fprintf(c.Stderr, "Session %s with %s.\nSecurity code: %s (the person at the device sees the same code; ask them to read it to you)\nWaiting for the end user's consent…\n",
		sanitize.Display(info.ID.String(), 64), sanitize.Display(info.DeviceName, 80), ch.SecurityCode)
	return ch, nil
}

// awaitConsent waits for the end user's answer.
func (c *Client) awaitConsent(ctx context.Context, ch *transport.Channel, info *protocol.SessionInfo) ([]string, error) {
	t, p, err := ch.Recv(ctx)
	if err != nil {
		return nil, sessionError(err)
	}
	if t != protocol.InConsent {
		return nil, fmt.Errorf("protocol error: expected the consent answer, got message 0x%02x", byte(t))
	}
	var cs protocol.Consent
	if err := protocol.DecodeJSON(p, &cs); err != nil {
		return nil, err
	}
	if !cs.Granted {
		return nil, fmt.Errorf("the end user did not consent: %s", sanitize.Display(cs.Why, 200))
	}
	fmt.Fprintf(c.Stderr, "Consent granted for: %s\n", sanitize.Display(strings.Join(cs.Caps, ", "), 80))
	return cs.Caps, nil
}

// sessionError turns a session failure into one clear error.
func sessionError(err error) error {
	var ee *transport.EndError
	if errors.As(err, &ee) {
		return fmt.Errorf("session ended: %s", sanitize.Display(ee.Reason, 200))
	}
	return err
}

// terminal runs the interactive part of a session.
type terminal struct {
	c       *Client
	ch      *transport.Channel
	info    *protocol.SessionInfo
	granted []string
	// stdout and stderr receive the device's output streams: the client's
	// own, or filters in front of them.
	stdout, stderr io.Writer
	// rawTTY: the local terminal is in raw mode (lines end in CR LF).
	rawTTY bool
}

func newTerminal(c *Client, ch *transport.Channel, info *protocol.SessionInfo, granted []string) *terminal {
	return &terminal{c: c, ch: ch, info: info, granted: granted}
}

// run sends the start message, pumps input and output, and returns the
// command's exit status.
func (t *terminal) run(ctx context.Context, o ConnectOptions) error {
	in := t.c.Stdin
	isTTY := term.IsTerminal(int(in.Fd()))
	st := protocol.Start{Argv: o.Argv, PTY: len(o.Argv) == 0 || o.PTY, Term: os.Getenv("TERM")}
	if w, h, err := term.GetSize(int(in.Fd())); err == nil {
		st.Cols, st.Rows = uint16(w), uint16(h)
	}
	if st.PTY && isTTY {
		old, err := term.MakeRaw(int(in.Fd()))
		if err == nil {
			defer term.Restore(int(in.Fd()), old)
			t.rawTTY = true
		}
	}
	t.stdout = outputFor(t.c.Stdout, st.PTY, o.Raw)
	t.stderr = outputFor(t.c.Stderr, st.PTY, o.Raw)
	if err := t.ch.SendJSON(ctx, protocol.InStart, st); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go t.pumpInput(ctx, in, st.PTY)
	if st.PTY && isTTY {
		go t.forwardResizes(ctx, in)
	}
	go t.keepalive(ctx, o.Keepalive)
	return t.receive(ctx)
}

// outputFor returns where a device output stream bound for w is written.
// A PTY session's output is a terminal stream, and anything written to a
// terminal reaches one: both go through a sanitize.TermFilter so that the
// device can draw but not act on this machine (clipboard, reports, window
// operations). A command's output piped or redirected by the technician is
// passed byte for byte, as is everything with raw (--raw).
func outputFor(w io.Writer, pty, raw bool) io.Writer {
	if raw || (!pty && !isTerminal(w)) {
		return w
	}
	return sanitize.NewTermFilter(w)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// pumpInput sends local input to the device until EOF.
func (t *terminal) pumpInput(ctx context.Context, in io.Reader, ptyMode bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if t.ch.Send(ctx, protocol.InStdin, buf[:n]) != nil {
				return
			}
		}
		if err != nil {
			t.ch.Send(ctx, protocol.InStdinEOF, nil)
			return
		}
	}
}

// forwardResizes sends the terminal size whenever it changes.
func (t *terminal) forwardResizes(ctx context.Context, in *os.File) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGWINCH)
	defer signal.Stop(sig)
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			if w, h, err := term.GetSize(int(in.Fd())); err == nil {
				t.ch.SendMsg(ctx, protocol.AppendResize(nil, uint16(h), uint16(w)))
			}
		}
	}
}

// keepalive keeps the path warm; the agent does not count it as input.
func (t *terminal) keepalive(ctx context.Context, every time.Duration) {
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
			if t.ch.Send(ctx, protocol.InKeepalive, nil) != nil {
				return
			}
		}
	}
}

// receive writes the device's output until the session ends.
func (t *terminal) receive(ctx context.Context) error {
	code := -1
	for {
		typ, p, err := t.ch.Recv(ctx)
		if err != nil {
			return t.finish(err, code)
		}
		switch typ {
		case protocol.InStdout:
			t.stdout.Write(p)
		case protocol.InStderr:
			t.stderr.Write(p)
		case protocol.InExit:
			if v, err := protocol.ParseExit(p); err == nil {
				code = int(v)
			}
		case protocol.InScreenLock:
			t.c.printScreenLock(p, t.rawTTY)
		}
	}
}

// printScreenLock tells the technician, sanitized, what the device
// reported about its screen lock at the session's end.
func (c *Client) printScreenLock(p []byte, raw bool) {
	nl := "\n"
	if raw {
		nl = "\r\n"
	}
	var sl protocol.ScreenLock
	if err := protocol.DecodeJSON(p, &sl); err != nil {
		fmt.Fprintf(c.Stderr, "%stether: the device sent a malformed screen lock report%s", nl, nl)
		return
	}
	if sl.Locked {
		fmt.Fprintf(c.Stderr, "%stether: device reports: screen locked (%s)%s", nl, sanitize.Display(sl.Method, 80), nl)
		return
	}
	fmt.Fprintf(c.Stderr, "%stether: device reports: screen lock FAILED: %s%s", nl, sanitize.Display(sl.Error, 300), nl)
}

// finish reports how the session ended. The error is printed after the
// terminal has left raw mode.
func (t *terminal) finish(err error, code int) error {
	var ee *transport.EndError
	if code >= 0 && errors.As(err, &ee) {
		if code == 0 {
			return nil
		}
		return &ExitError{Code: code}
	}
	if errors.As(err, &ee) {
		return fmt.Errorf("session ended: %s", sanitize.Display(ee.Reason, 200))
	}
	return fmt.Errorf("session lost: %s", lostReason(err))
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
