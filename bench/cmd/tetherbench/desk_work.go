package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/x11"
)

// deskEnv is what the desktop workloads run on: the Xvfb, the marker, the
// driver's web server (the scrolled page, the noVNC viewer) and a work
// directory.
type deskEnv struct {
	display string
	xvfbPID int
	ps      *procs
	dir     string
	marker  *marker
	web     *deskWeb
	// chromium is the browser binary ("" when missing).
	chromium string
	// vncTLS puts TLS between noVNC and websockify.
	vncTLS bool
}

// deskWorkload is one synthetic desktop activity. setup starts what runs in
// the background for the whole workload (both contenders see the same);
// drive acts until the deadline, moving the marker with its changes when
// mark is set (the latency pass) and leaving it still otherwise (the
// throughput pass, so that the marker's own updates count nowhere).
type deskWorkload struct {
	// key names the workload in BENCH_DESK_WORKLOADS.
	key, name, desc string
	// overload marks the workload whose changes exceed what a viewer can
	// take: its lag growth is the queue-growth check.
	overload bool
	setup    func(ctx context.Context, e *deskEnv) (teardown func(), err error)
	drive    func(ctx context.Context, e *deskEnv, until time.Time, mark bool) error
}

// deskWorkloads lists the workloads in the order they run.
func deskWorkloads() []*deskWorkload {
	return []*deskWorkload{
		{key: "idle", name: "idle", desc: "idle desktop with a clock (text redrawn each second)", setup: noSetup, drive: driveIdle},
		{key: "typing", name: "typing", desc: "typing in an xterm (`cat`), 8 characters a second through XTEST", setup: setupTyping, drive: driveTyping},
		{key: "term", name: "terminal scroll", desc: "xterm filling 1908×1066 px, `cat` of a log in a loop at full speed", setup: setupScroll, drive: driveTicks},
		{key: "page", name: "page scroll", desc: "chromium --kiosk (on the Xvfb) scrolling a page of text and photos, 6 px a frame; how often the screen changes depends on how fast chromium renders", overload: true, setup: setupPage, drive: driveTicks},
		{key: "synth", name: "synthetic scroll", desc: "a screen-sized window of the driver's scrolling a pre-drawn page of photos and text 8 px every 1/60 s (CopyArea): a full-screen change 60 times a second, the overload", overload: true, setup: setupSynth, drive: driveTicks},
	}
}

func noSetup(context.Context, *deskEnv) (func(), error) { return func() {}, nil }

// everyTick runs f every period until until (or ctx ends), catching up on
// no ticks a slow machine delays.
func everyTick(ctx context.Context, period time.Duration, until time.Time, f func() error) error {
	t := time.NewTicker(period)
	defer t.Stop()
	for time.Now().Before(until) {
		if err := f(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// mark moves the marker when on is set.
func (e *deskEnv) mark(on bool) error {
	if !on {
		return nil
	}
	return e.marker.tick()
}

// driveTicks moves the marker ten times a second (when mark is set): for
// workloads that change the screen by themselves.
func driveTicks(ctx context.Context, e *deskEnv, until time.Time, mark bool) error {
	return everyTick(ctx, 100*time.Millisecond, until, func() error { return e.mark(mark) })
}

// driveIdle redraws the clock once a second, with the marker.
func driveIdle(ctx context.Context, e *deskEnv, until time.Time, mark bool) error {
	c, err := newClock(e.display)
	if err != nil {
		return err
	}
	defer c.close()
	return everyTick(ctx, time.Second, until, func() error {
		c.draw(time.Now())
		return e.mark(mark)
	})
}

// startXterm runs xterm with args on the Xvfb and waits until it shows.
func startXterm(e *deskEnv, args ...string) (*bgProc, error) {
	p, err := e.ps.start([]string{"DISPLAY=" + e.display}, "xterm", args...)
	if err != nil {
		return nil, fmt.Errorf("xterm (Debian package xterm): %w", err)
	}
	time.Sleep(1500 * time.Millisecond) // xterm maps its window at once; let it draw
	select {
	case <-p.done:
		return nil, fmt.Errorf("xterm exited: %s", tail(p.Output(), 300))
	default:
	}
	return p, nil
}

// setupTyping starts an xterm running cat and puts the pointer in it (the
// server's focus follows the pointer: no window manager).
func setupTyping(ctx context.Context, e *deskEnv) (func(), error) {
	p, err := startXterm(e, "-geometry", "120x40+100+100", "-e", "cat")
	if err != nil {
		return nil, err
	}
	return func() { p.stop() }, nil
}

// typingText is what driveTyping types: lower case and spaces (one keysym
// each, no Shift), a Return every line.
const typingText = "the printer in room four shows an error after the update so we restart the spooler and try again\n"

// driveTyping types typingText at 8 characters a second through XTEST,
// moving the marker after each key (when mark is set).
func driveTyping(ctx context.Context, e *deskEnv, until time.Time, mark bool) error {
	d, err := x11.Open(e.display, "")
	if err != nil {
		return err
	}
	defer d.Close()
	in, err := d.Injector()
	if err != nil {
		return err
	}
	defer in.Close()
	if err := in.Pointer(ctx, 400, 300, 0); err != nil {
		return err
	}
	i := 0
	err = everyTick(ctx, 125*time.Millisecond, until, func() error {
		ch := typingText[i%len(typingText)]
		i++
		sym := uint32(ch)
		if ch == '\n' {
			sym = 0xff0d // Return
		}
		if err := in.Key(ctx, sym, true); err != nil {
			return err
		}
		if err := in.Key(ctx, sym, false); err != nil {
			return err
		}
		return e.mark(mark)
	})
	in.ReleaseAll(ctx)
	return err
}

// setupScroll writes a build-log-like text file and starts a screen-sized
// xterm printing it in a loop as fast as it can.
func setupScroll(ctx context.Context, e *deskEnv) (func(), error) {
	path := filepath.Join(e.dir, "scroll.log")
	if err := os.WriteFile(path, []byte(logText(4000)), 0o644); err != nil {
		return nil, err
	}
	p, err := startXterm(e, "-geometry", "318x82+0+0", "-e", "sh", "-c", "while :; do cat "+path+"; done")
	if err != nil {
		return nil, err
	}
	return func() { p.stop() }, nil
}

// logText returns n lines that look like a build log.
func logText(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("compiling linking internal agent relay tech screen tilecodec x11 recorder transport " +
		"ok FAIL warning: error: note: -O2 -race main.go session.go desktop.go 0.31s 1.2s cached")
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[%05d] %02d:%02d:%02d", i, 10+r.IntN(8), r.IntN(60), r.IntN(60))
		for range 4 + r.IntN(18) {
			b.WriteString(" " + words[r.IntN(len(words))])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// setupPage starts chromium in kiosk mode on the Xvfb showing the driver's
// generated page, which scrolls itself (requestAnimationFrame, 6 px a
// frame, back to the top at the end).
func setupPage(ctx context.Context, e *deskEnv) (func(), error) {
	if e.chromium == "" {
		return nil, fmt.Errorf("chromium not installed (Debian package chromium)")
	}
	p, err := e.ps.start([]string{"DISPLAY=" + e.display}, e.chromium, append(chromiumFlags(filepath.Join(e.dir, "kiosk-profile")),
		"--kiosk", "--ozone-platform=x11", "--window-position=0,0", fmt.Sprintf("--window-size=%d,%d", deskW, deskH),
		e.web.url+"/page.html")...)
	if err != nil {
		return nil, err
	}
	time.Sleep(5 * time.Second) // the browser starts, loads and begins scrolling
	select {
	case <-p.done:
		return nil, fmt.Errorf("chromium exited: %s", tail(p.Output(), 500))
	default:
	}
	return func() { killGroup(p) }, nil
}

// chromiumFlags are the flags every chromium the driver starts gets: a
// throwaway profile, no sandbox (the driver runs as root), no first-run UI,
// no throttling of background timers.
func chromiumFlags(profile string) []string {
	return []string{"--no-sandbox", "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check",
		"--disable-gpu", "--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--disable-background-timer-throttling", "--disable-renderer-backgrounding",
		"--disable-backgrounding-occluded-windows", "--password-store=basic", "--noerrdialogs"}
}
