package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

// presenter shows a tech client's session events to the technician: the
// join code on stdout (for scripts), everything else for people on
// stderr. Every string the relay or the device chose goes through the
// sanitize package first.
type presenter struct {
	stdout, stderr io.Writer
	// bars: stderr is a terminal, so file copies show progress bars.
	bars bool
	// rawTTY: the local terminal is in raw mode (lines end in CR LF).
	rawTTY bool
	bar    *progressbar.ProgressBar

	pathMu   sync.Mutex
	lastPath *tech.PathChanged      // the latest path change, for a late follower
	pathSink func(tech.PathChanged) // also told each path change (the viewer page)
}

// newPresenter writes to stdout and stderr.
func newPresenter(stdout, stderr io.Writer) *presenter {
	return &presenter{stdout: stdout, stderr: stderr, bars: isTerminal(stderr)}
}

// Observe prints one event.
func (p *presenter) Observe(e tech.Event) {
	switch e := e.(type) {
	case tech.JoinCode:
		code := sanitize.Display(e.Code, 32)
		fmt.Fprintln(p.stdout, code)
		fmt.Fprintf(p.stderr, "Join code: %s (valid 10 minutes, single use).\nAsk the person you are helping to run:\n  agent join %s --relay %s --ca-fingerprint %s\nWaiting for them to join…\n",
			code, code, e.Relay, e.Pin)
	case tech.SecurityCode:
		fmt.Fprintf(p.stderr, "Session %s with %s.\nSecurity code: %s (the person at the device sees the same code; ask them to read it to you)\nWaiting for the end user's consent…\n",
			sanitize.Display(e.SessionID.String(), 64), sanitize.Display(e.DeviceName, 80), e.Code)
	case tech.ConsentAnswered:
		if e.Granted { // a refusal is the error the command returns
			fmt.Fprintf(p.stderr, "Consent granted for: %s\n", sanitize.Display(strings.Join(e.Caps, ", "), 80))
		}
	case tech.CapRevoked:
		fmt.Fprintf(p.stderr, "tech: the end user revoked: %s\n", sanitize.Display(e.Why, 200))
	case tech.CapAnswered:
		if e.Granted {
			fmt.Fprintf(p.stderr, "Granted now: %s\n", sanitize.Display(strings.Join(e.Caps, ", "), 120))
		} else {
			fmt.Fprintf(p.stderr, "tech: request refused: %s\n", sanitize.Display(e.Why, 200))
		}
	case tech.Progress:
		p.progress(e)
	case tech.FileSkipped:
		fmt.Fprintf(p.stderr, "tech: skipping %s (not a regular file)\n", e.Path)
	case tech.FileCopied:
		p.fileCopied(e)
	case tech.ScreenLockReport:
		p.screenLock(e)
	case tech.PathChanged:
		p.pathChanged(e)
	}
}

// pathChanged tells the technician which path the session uses and why.
func (p *presenter) pathChanged(e tech.PathChanged) {
	nl := "\n"
	if p.rawTTY {
		nl = "\r\n"
	}
	fmt.Fprintf(p.stderr, "Session path: %s (%s)%s", sanitize.Display(e.Path, 16), sanitize.Display(e.Why, 200), nl)
	p.pathMu.Lock()
	defer p.pathMu.Unlock()
	p.lastPath = &e
	if p.pathSink != nil {
		p.pathSink(e)
	}
}

// followPath tells f each path change from now on, starting with the
// latest one if the session already reported one.
func (p *presenter) followPath(f func(tech.PathChanged)) {
	p.pathMu.Lock()
	defer p.pathMu.Unlock()
	p.pathSink = f
	if p.lastPath != nil {
		f(*p.lastPath)
	}
}

// progress draws a file's progress bar when stderr is a terminal.
func (p *presenter) progress(e tech.Progress) {
	if !p.bars {
		return
	}
	if e.Done == 0 || p.bar == nil {
		p.bar = progressbar.NewOptions64(e.Size, progressbar.OptionSetWriter(p.stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription(e.Name), progressbar.OptionShowTotalBytes(true), progressbar.OptionThrottle(100e6),
			progressbar.OptionClearOnFinish(), progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth())
	}
	p.bar.Set64(e.Done)
}

// fileCopied reports one verified file.
func (p *presenter) fileCopied(e tech.FileCopied) {
	dev := sanitize.Display(e.DeviceName, 63)
	if e.Upload {
		fmt.Fprintf(p.stderr, "%s → %s:%s (%d bytes, sha256 %s)\n", e.Local, dev, sanitize.Display(e.Remote, 0), e.Size, e.SHA256)
		return
	}
	fmt.Fprintf(p.stderr, "%s → %s (%d bytes, sha256 %s)\n", dev, sanitize.Display(e.Local, 0), e.Size, e.SHA256)
}

// screenLock tells the technician what the device reported about its
// screen lock at the session's end.
func (p *presenter) screenLock(e tech.ScreenLockReport) {
	nl := "\n"
	if p.rawTTY {
		nl = "\r\n"
	}
	switch {
	case e.Malformed:
		fmt.Fprintf(p.stderr, "%stether: the device sent a malformed screen lock report%s", nl, nl)
	case e.Locked:
		fmt.Fprintf(p.stderr, "%stether: device reports: screen locked (%s)%s", nl, sanitize.Display(e.Method, 80), nl)
	default:
		fmt.Fprintf(p.stderr, "%stether: device reports: screen lock FAILED: %s%s", nl, sanitize.Display(e.Error, 300), nl)
	}
}
