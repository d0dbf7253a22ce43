package viewer

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/localpage"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
)

//go:embed static
var static embed.FS

// staticFS is the page's files: index.html, viewer.js, viewer.css.
var staticFS, _ = fs.Sub(static, "static")

// Stream is the desktop stream a page drives; tech.DesktopStream is one.
type Stream interface {
	// Input sends one input event to the device.
	Input(ev protocol.ScreenInput) error
	// Refresh asks for a full update.
	Refresh() error
	// RequestControl asks the end user for screen-control.
	RequestControl(ctx context.Context) error
}

// Options configures a Server.
type Options struct {
	// Device, SecurityCode and Caps (the grants at the start) are shown on
	// the page.
	Device       string
	SecurityCode string
	Caps         []string
	// Stream receives the page's input and requests; nil makes a view-only
	// page (input and requests are dropped).
	Stream Stream
	// Notef, when set, receives one-line notes for the technician (a page
	// attached or left, a second page refused, input refused).
	Notef func(format string, args ...any)
	// InputRate and InputBurst bound the page's pointer motion and wheel
	// events (a token bucket); zero means DefaultInputRate and
	// DefaultInputBurst.
	InputRate, InputBurst int
}

// Page motion limits: a browser reports pointer motion at its frame rate
// (60–120 a second); beyond the bucket, motion and wheel events are
// dropped. They sit below tech.DesktopStream's own limit (300 a second,
// bursts of 200), leaving room there for keys and buttons.
const (
	DefaultInputRate  = 200
	DefaultInputBurst = 100
)

// Update is one screen update to draw: Frame is the whole framebuffer
// (BGRX), read-only until Drawn is called; Rects are the rectangles that
// changed. The Server calls Drawn once a page has drawn the update.
type Update struct {
	ID    uint32
	Frame *screen.Frame
	Rects []screen.Rect
	Drawn func()
}

// Status is the session as the page shows it (sent as JSON on every
// change). Every string in it is shown as text, never as HTML.
type Status struct {
	Type    string   `json:"type"` // "status"
	Device  string   `json:"device"`
	Code    string   `json:"code"`
	Caps    []string `json:"caps"`
	Width   int      `json:"width"`
	Height  int      `json:"height"`
	Paused  bool     `json:"paused"`
	Why     string   `json:"why,omitempty"` // why paused, in the device's words
	Control bool     `json:"control"`
	Input   bool     `json:"input"`            // this page may send input (a stream is attached)
	Notice  string   `json:"notice,omitempty"` // the latest grant answer, revocation or refusal
	Path    string   `json:"path,omitempty"`   // the session's path and why: "direct (LAN, 0.4 ms)", "relay (no route)"
	Ended   bool     `json:"ended"`
	Reason  string   `json:"reason,omitempty"` // why the session ended
}

// Server is the viewer's HTTP server. It is also the sink of the desktop
// stream: Update, Cursor, State, Caps and End feed the attached page.
type Server struct {
	opts Options
	lp   *localpage.Server // serves the page

	mu        sync.Mutex
	st        Status
	stVer     int
	cur       protocol.ScreenCursor // position and flags
	curVer    int
	shape     protocol.ScreenCursor // the last shape, Pix owned
	shapeVer  int
	pending   *Update // not yet drawn by a page
	sentTo    *pageConn
	everDrawn bool
	page      *pageConn // the attached page; reserved while it connects
	closed    bool

	attached   chan struct{} // closed when a page first attaches
	attachOnce sync.Once
}

// New listens on 127.0.0.1 on a free port with a fresh 256-bit token (see
// internal/localpage for the checks every request passes). Call Close when
// done.
func New(opts Options) (*Server, error) {
	if opts.InputRate <= 0 {
		opts.InputRate = DefaultInputRate
	}
	if opts.InputBurst <= 0 {
		opts.InputBurst = DefaultInputBurst
	}
	if opts.Notef == nil {
		opts.Notef = func(string, ...any) {}
	}
	s := &Server{opts: opts, attached: make(chan struct{})}
	s.st = Status{Type: "status", Device: opts.Device, Code: opts.SecurityCode,
		Caps: append([]string{}, opts.Caps...), Input: opts.Stream != nil}
	s.stVer = 1 // a page has version 0: it gets the status first
	lp, err := localpage.Listen(localpage.Options{Name: "viewer"})
	if err != nil {
		return nil, err
	}
	s.lp = lp
	lp.Serve(s.route)
	return s, nil
}

// URL is the page's address, token included. It is a secret: whoever has
// it may watch (and, with control granted, drive) the device's screen.
func (s *Server) URL() string { return s.lp.URL() }

// Attached is closed once a page has attached (its WebSocket accepted)
// for the first time.
func (s *Server) Attached() <-chan struct{} { return s.attached }

// Close ends the page's connection and stops the server, first giving the
// attached page until ctx is done to receive the latest status (the end
// reason).
func (s *Server) Close(ctx context.Context) error {
	s.flush(ctx)
	s.mu.Lock()
	s.closed = true
	p := s.page
	s.mu.Unlock()
	if p != nil {
		p.close("tech closed the viewer")
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return s.lp.Shutdown(sctx)
}

// flush waits until the attached page has the latest status, or ctx ends.
func (s *Server) flush(ctx context.Context) {
	for {
		s.mu.Lock()
		p, ver := s.page, s.stVer
		s.mu.Unlock()
		if p == nil || p.statusSent() >= ver {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// route serves the page, its assets and its WebSocket; the request has
// passed localpage's checks.
func (s *Server) route(w http.ResponseWriter, r *http.Request, rest string) {
	switch rest {
	case "":
		localpage.ServeFile(w, r, staticFS, "index.html")
	case "viewer.js", "viewer.css":
		localpage.ServeFile(w, r, staticFS, rest)
	case "ws":
		s.serveWS(w, r)
	default:
		http.NotFound(w, r)
	}
}

// errClosed is returned for a page arriving after Close.
var errClosed = errors.New("viewer closed")
