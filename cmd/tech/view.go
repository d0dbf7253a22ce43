package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/viewer"
)

// viewOptions are tech view's flags.
type viewOptions struct {
	Device    string
	Control   bool
	NoBrowser bool
	Path      string
	Reason    string
}

func newViewCmd(g *globals) *cobra.Command {
	var o viewOptions
	cmd := &cobra.Command{
		Use:   "view DEVICE [--control] [--no-browser] [--path auto|relay|direct]",
		Short: "See a device's screen (and with --control, drive it) in a local browser page",
		Long: `view asks the relay for a session with DEVICE for screen-view (with --control,
screen-control too), shows the security code and waits for the end user's
consent. Then it serves the remote desktop on a page at 127.0.0.1 (a random
port and a random token in the address; one browser tab at a time) and opens
it with your default browser ($BROWSER, else xdg-open) through a private
temporary file that forwards to the page, so that the address is never on
a command line other local users can read. tech does all the
cryptography; the page only draws the screen and sends your keyboard and
mouse, which tech checks and rate-limits before sealing them. The page
shows the security code, what the end user granted, a button to ask for
control, "paused by the user" while they pause, and why the session ended.

The page's address is a secret: whoever opens it first watches the screen.
With --no-browser it is printed on stdout (the only line there) for you to
open yourself. Ctrl+C ends the session.`,
		Example: `  tech view clinic-pc-7
  tech view clinic-pc-7 --control
  tech view clinic-pc-7 --no-browser      # prints the page's address on stdout`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Device = args[0]
			return g.view(cmd, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Control, "control", false, "ask for screen-control too (keyboard and mouse), not only screen-view")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "do not start a browser; print the page's address on stdout")
	f.StringVar(&o.Path, "path", tech.PathAuto, "auto: move to a direct peer-to-peer path when the device can be reached (the relay stays the fallback); relay: never; direct: end the session if no direct path can be set up")
	f.StringVar(&o.Reason, "reason", "", "reason or ticket, shown to the end user and audited")
	return cmd
}

// checkPath accepts the --path values.
func checkPath(path string) error {
	switch path {
	case tech.PathAuto, tech.PathRelay, tech.PathDirect:
		return nil
	}
	return fmt.Errorf("--path must be auto, relay or direct, not %q", sanitize.Display(path, 40))
}

// view runs tech view: session, consent, desktop stream, page.
func (g *globals) view(cmd *cobra.Command, o viewOptions) error {
	if err := checkPath(o.Path); err != nil {
		return err
	}
	c, p, err := g.sessionClient(cmd)
	if err != nil {
		return err
	}
	warnIfNoRoot(p.stderr, c)
	caps := []string{protocol.CapScreenView}
	if o.Control {
		caps = append(caps, protocol.CapScreenControl)
	}
	ctx := cmd.Context()
	s, err := c.Open(ctx, tech.SessionRequest{Device: o.Device, Caps: caps, Reason: o.Reason, Path: o.Path})
	if err != nil {
		return err
	}
	defer s.Close()
	ref := &streamRef{}
	v, err := viewer.New(viewer.Options{Device: s.DeviceName(), SecurityCode: s.SecurityCode(),
		Caps: s.Granted(), Stream: ref, Notef: func(format string, args ...any) {
			fmt.Fprintf(p.stderr, "viewer: %s\n", sanitize.Display(fmt.Sprintf(format, args...), 300))
		}})
	if err != nil {
		s.End("the technician's viewer could not start")
		return err
	}
	ds, err := s.StartDesktop(ctx, viewSink{v})
	if err != nil {
		_ = v.Close(context.Background())
		s.End("the technician's viewer could not start the desktop")
		return err
	}
	ref.p.Store(ds)
	p.followPath(func(e tech.PathChanged) { v.Path(e.Path, e.Why) })
	return runView(ctx, s, ds, v, o, cmd.OutOrStdout(), p.stderr)
}

// runView shows the page and waits for the session to end: by the device
// (the error says why) or by the technician (Ctrl+C: no error).
func runView(ctx context.Context, s *tech.LiveSession, ds *tech.DesktopStream, v *viewer.Server, o viewOptions, stdout, stderr io.Writer) error {
	if o.NoBrowser {
		fmt.Fprintln(stdout, v.URL())
	} else if cleanup, err := openBrowser(v.URL(), v.Attached()); err != nil {
		fmt.Fprintf(stderr, "Could not start a browser (%v); open this address yourself: %s\n", err, v.URL())
	} else {
		defer cleanup()
		fmt.Fprintln(stderr, "The remote desktop is open in your browser.")
	}
	fmt.Fprintln(stderr, "Press Ctrl+C to end the session.")
	ended := make(chan error, 1)
	go func() { ended <- ds.Wait() }()
	var err error
	select {
	case err = <-ended:
	case <-ctx.Done():
		s.End("the technician ended the session")
		<-ended
	}
	reason := "the technician ended the session"
	if err != nil {
		reason = err.Error()
	}
	v.End(reason)
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = v.Close(cctx)
	return err
}

// viewSink feeds the desktop stream to the viewer page.
type viewSink struct{ v *viewer.Server }

func (k viewSink) Update(u *tech.DesktopUpdate) {
	k.v.Update(viewer.Update{ID: u.ID, Frame: u.Frame, Rects: u.Rects, Drawn: u.Drawn})
}
func (k viewSink) Cursor(c protocol.ScreenCursor)    { k.v.Cursor(c) }
func (k viewSink) State(st protocol.ScreenState)     { k.v.State(st) }
func (k viewSink) Caps(granted []string, why string) { k.v.Caps(granted, why) }

// streamRef is the viewer's stream before StartDesktop has returned it.
type streamRef struct {
	p atomic.Pointer[tech.DesktopStream]
}

var errNotStarted = errors.New("the desktop stream has not started yet")

func (r *streamRef) Input(ev protocol.ScreenInput) error {
	if d := r.p.Load(); d != nil {
		return d.Input(ev)
	}
	return errNotStarted
}

func (r *streamRef) Refresh() error {
	if d := r.p.Load(); d != nil {
		return d.Refresh()
	}
	return errNotStarted
}

func (r *streamRef) RequestControl(ctx context.Context) error {
	if d := r.p.Load(); d != nil {
		return d.RequestControl(ctx)
	}
	return errNotStarted
}
