package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

// connectOptions are the flags of `tech connect` and `tech session new`.
type connectOptions struct {
	tech.SessionRequest
	Argv []string // command to run; empty for an interactive shell
	PTY  bool     // force a PTY for a command (-t)
	// Keepalive is how often an idle technician side sends a keepalive;
	// default 20 s. Keepalives are not human input.
	Keepalive time.Duration
	// Verify waits for the technician to confirm the security code the end
	// user reads out before anything runs.
	Verify bool
	// Raw passes the device's output to the terminal unfiltered (--raw).
	// Without it, output bound for a terminal goes through a
	// sanitize.TermFilter.
	Raw bool
}

// connect asks for a session, waits for the end user's consent, and runs
// the shell or command on this terminal. It returns nil or
// *tech.ExitError for a command's status.
func (g *globals) connect(cmd *cobra.Command, o connectOptions) error {
	c, p, err := g.sessionClient(cmd)
	if err != nil {
		return err
	}
	warnIfNoRoot(p.stderr, c)
	ctx := cmd.Context()
	s, err := c.Open(ctx, o.SessionRequest)
	if err != nil {
		return err
	}
	defer s.Close()
	defer s.Publish()()
	if o.Verify {
		if err := verifyCode(ctx, s, os.Stdin, p.stderr); err != nil {
			return err
		}
	}
	return runTerminal(ctx, s, p, os.Stdin, o)
}

// verifyCode asks the technician to type the code the end user reads out
// and refuses to go on unless it matches the session's.
func verifyCode(ctx context.Context, s *tech.LiveSession, in io.Reader, stderr io.Writer) error {
	fmt.Fprintf(stderr, "Ask the end user to read the security code shown on their screen, and type it here: ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("no security code typed; session abandoned")
	}
	err = s.Verify(ctx, line)
	if errors.Is(err, tech.ErrCodeMismatch) {
		return err
	}
	fmt.Fprintln(stderr, "Security code confirmed.")
	return err
}

// runTerminal runs the session's shell or command with in as its input
// and the presenter's streams as its output: a PTY session on a terminal
// puts the terminal in raw mode and follows its size.
func runTerminal(ctx context.Context, s *tech.LiveSession, p *presenter, in *os.File, o connectOptions) error {
	isTTY := term.IsTerminal(int(in.Fd()))
	ro := tech.RunOptions{Argv: o.Argv, PTY: len(o.Argv) == 0 || o.PTY, Term: os.Getenv("TERM"), Stdin: in, Keepalive: o.Keepalive}
	if w, h, err := term.GetSize(int(in.Fd())); err == nil {
		ro.Size = tech.WindowSize{Cols: uint16(w), Rows: uint16(h)}
	}
	if ro.PTY && isTTY {
		old, err := term.MakeRaw(int(in.Fd()))
		if err == nil {
			defer term.Restore(int(in.Fd()), old)
			p.rawTTY = true
		}
	}
	ro.Stdout = outputFor(p.stdout, ro.PTY, o.Raw)
	ro.Stderr = outputFor(p.stderr, ro.PTY, o.Raw)
	if ro.PTY && isTTY {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ro.Resize = watchResizes(rctx, in)
	}
	return s.Run(ctx, ro)
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

// watchResizes sends the terminal's size whenever it changes, until ctx
// ends.
func watchResizes(ctx context.Context, in *os.File) <-chan tech.WindowSize {
	out := make(chan tech.WindowSize, 1)
	sig := make(chan os.Signal, 1)
	notifyResize(sig)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				if w, h, err := term.GetSize(int(in.Fd())); err == nil {
					select {
					case out <- tech.WindowSize{Cols: uint16(w), Rows: uint16(h)}:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	return out
}
