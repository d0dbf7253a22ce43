package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/viewer"
)

// tetherViewer is Tether's side: the desktop stream of a session with the
// agent on the Xvfb, through the internal/tech library (what `tech view`
// is built on), in this process, connected to the relay through a
// counting proxy. An update counts as drawn when it is decoded into the
// framebuffer and the marker read from it; then it is acknowledged. The
// library does not paint: a browser's canvas work is not included.
type tetherViewer struct {
	agentPID int
	proxy    *countProxy
	s        *tech.LiveSession
	d        *tech.DesktopStream

	// snap, with BENCH_DESK_DEBUG=DIR, keeps a copy of the last frame,
	// written to DIR as a PNG at close.
	snapDir string
	snap    *screen.Frame

	// With the page (BENCH_DESK_VIEWER=page), updates go on to the real
	// `tech view` page (internal/viewer) in headless chromium and count as
	// drawn when the page says it painted them.
	page   *viewer.Server
	chrome *bgProc

	mu      sync.Mutex
	updates int
	seen    []markSeen
	last    int
	ended   error
	paused  bool
}

// startTetherViewer opens a screen-view session with device and starts
// its desktop stream.
func startTetherViewer(ctx context.Context, te *tetherEnv, device string, agentPID int) (v *tetherViewer, err error) {
	tok, err := os.ReadFile(filepath.Join(te.techHome, "token"))
	if err != nil {
		return nil, err
	}
	v = &tetherViewer{agentPID: agentPID, last: -1, snapDir: os.Getenv("BENCH_DESK_DEBUG")}
	if v.proxy, err = startCountProxy(strings.TrimPrefix(te.url, "https://")); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			v.close()
		}
	}()
	c, err := tech.NewWithToken("https://"+v.proxy.addr(), te.fp, strings.TrimSpace(string(tok)))
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if v.s, err = c.Open(octx, tech.SessionRequest{Device: device, Caps: []string{protocol.CapScreenView}, Reason: "benchmark",
		// Through the relay: the proxy counts the bytes there (the direct
		// path would take the session off the counted connection).
		Path: tech.PathRelay}); err != nil {
		return nil, err
	}
	var sink tech.DesktopSink = v
	if pageMode {
		if sink, err = v.startPage(te, octx); err != nil {
			return nil, err
		}
	}
	if v.d, err = v.s.StartDesktop(octx, sink); err != nil {
		return nil, err
	}
	go func() {
		err := v.d.Wait()
		v.mu.Lock()
		v.ended = err
		v.mu.Unlock()
	}()
	return v, nil
}

// Update reads the marker from the decoded framebuffer, counts the update
// and acknowledges it.
func (v *tetherViewer) Update(u *tech.DesktopUpdate) {
	v.drawn(u, frameMarker(u.Frame))
	u.Drawn()
}

// drawn counts an update drawn now, showing the marker code.
func (v *tetherViewer) drawn(u *tech.DesktopUpdate, code int) {
	now := time.Now()
	v.mu.Lock()
	v.updates++
	if code >= 0 && code != v.last {
		v.last = code
		v.seen = append(v.seen, markSeen{code: code, at: now})
	}
	if v.snapDir != "" {
		f := *u.Frame
		f.Pix = append([]byte(nil), u.Frame.Pix...)
		v.snap = &f
	}
	v.mu.Unlock()
}

// pageMode: Tether's updates are drawn by the real viewer page in headless
// chromium (default when chromium is installed) rather than only decoded.
var pageMode = os.Getenv("BENCH_DESK_VIEWER") != "go"

// pageSink passes the stream to the viewer page; an update counts when
// the page has painted it (the viewer's Drawn), then it is acknowledged.
type pageSink struct {
	v    *tetherViewer
	page *viewer.Server
}

func (k pageSink) Update(u *tech.DesktopUpdate) {
	code := frameMarker(u.Frame) // before the page may draw: the frame is stable until Drawn
	k.page.Update(viewer.Update{ID: u.ID, Frame: u.Frame, Rects: u.Rects, Drawn: func() {
		k.v.drawn(u, code)
		u.Drawn()
	}})
}

func (k pageSink) Cursor(c protocol.ScreenCursor) { k.page.Cursor(c) }

func (k pageSink) State(st protocol.ScreenState) {
	k.v.State(st)
	k.page.State(st)
}

func (k pageSink) Caps(granted []string, why string) { k.page.Caps(granted, why) }

// startPage starts the viewer's server and a headless chromium on its
// page.
func (v *tetherViewer) startPage(te *tetherEnv, ctx context.Context) (tech.DesktopSink, error) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return nil, errors.New("chromium not installed (Debian package chromium); BENCH_DESK_VIEWER=go measures without the page")
	}
	if v.page, err = viewer.New(viewer.Options{Device: "desk"}); err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp(te.dir, "viewer-page-")
	if err != nil {
		return nil, err
	}
	v.chrome, err = te.ps.start(nil, chromium, append(chromiumFlags(profile), "--headless=new",
		fmt.Sprintf("--window-size=%d,%d", deskW, deskH), v.page.URL())...)
	if err != nil {
		return nil, err
	}
	return pageSink{v: v, page: v.page}, nil
}

// frameMarker reads the marker's code from a frame: -1 unless four points
// inside it agree.
func frameMarker(f *screen.Frame) int {
	if f == nil || f.Width < markerX+markerSize || f.Height < markerY+markerSize {
		return -1
	}
	code := -1
	for _, p := range [][2]int{{16, 16}, {48, 16}, {16, 48}, {48, 48}} {
		o := (markerY+p[1])*f.Stride + (markerX+p[0])*screen.BytesPerPixel
		c := markerCode(f.Pix[o+2], f.Pix[o+1], f.Pix[o])
		if code >= 0 && c != code {
			return -1
		}
		code = c
	}
	return code
}

func (v *tetherViewer) Cursor(protocol.ScreenCursor) {}

func (v *tetherViewer) State(st protocol.ScreenState) {
	v.mu.Lock()
	v.paused = st.Paused
	v.mu.Unlock()
}

func (v *tetherViewer) Caps([]string, string) {}

func (v *tetherViewer) counts() (int, int64, int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.updates, v.proxy.down.Load(), v.proxy.up.Load()
}

func (v *tetherViewer) takeSeen() []markSeen {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.seen
	v.seen = nil
	return s
}

func (v *tetherViewer) serverPID() int { return v.agentPID }

func (v *tetherViewer) check() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ended != nil {
		return v.ended
	}
	if v.paused {
		return errors.New("the desktop stream is paused")
	}
	return nil
}

func (v *tetherViewer) close() {
	if v.s != nil {
		v.s.End("benchmark done")
		if v.d != nil {
			ended := make(chan struct{})
			go func() { v.d.Wait(); close(ended) }()
			select {
			case <-ended:
			case <-time.After(10 * time.Second):
				logf("desktop: the session did not end within 10 s of End; closing it")
			}
		}
		v.s.Close()
	}
	if v.proxy != nil {
		v.proxy.close()
	}
	if v.chrome != nil {
		killGroup(v.chrome)
	}
	if v.page != nil {
		v.page.Close(context.Background())
	}
	if v.snap != nil {
		if err := writePNG(filepath.Join(v.snapDir, time.Now().Format("tether-150405.png")), v.snap); err != nil {
			logf("snapshot: %v", err)
		}
	}
}
