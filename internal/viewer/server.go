package viewer

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
)

//go:embed static
var static embed.FS

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
	Ended   bool     `json:"ended"`
	Reason  string   `json:"reason,omitempty"` // why the session ended
}

// Server is the viewer's HTTP server. It is also the sink of the desktop
// stream: Update, Cursor, State, Caps and End feed the attached page.
type Server struct {
	opts  Options
	token string
	ln    net.Listener
	srv   *http.Server
	hosts [2]string // the Host values accepted

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

// New listens on 127.0.0.1 on a free port with a fresh 256-bit token. Call
// Close when done.
func New(opts Options) (*Server, error) {
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("viewer token: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("viewer: listen on 127.0.0.1: %w", err)
	}
	if opts.InputRate <= 0 {
		opts.InputRate = DefaultInputRate
	}
	if opts.InputBurst <= 0 {
		opts.InputBurst = DefaultInputBurst
	}
	if opts.Notef == nil {
		opts.Notef = func(string, ...any) {}
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	s := &Server{opts: opts, token: base64.RawURLEncoding.EncodeToString(tok), ln: ln,
		hosts: [2]string{"127.0.0.1:" + port, "localhost:" + port}, attached: make(chan struct{})}
	s.st = Status{Type: "status", Device: opts.Device, Code: opts.SecurityCode,
		Caps: append([]string{}, opts.Caps...), Input: opts.Stream != nil}
	s.stVer = 1 // a page has version 0: it gets the status first
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		MaxHeaderBytes: 16 << 10}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the page's address, token included. It is a secret: whoever has
// it may watch (and, with control granted, drive) the device's screen.
func (s *Server) URL() string { return "http://" + s.hosts[0] + "/" + s.token + "/" }

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
	if err := s.srv.Shutdown(sctx); err != nil {
		return s.srv.Close()
	}
	return nil
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

// ServeHTTP checks the Host header and the token, then serves the page, its
// assets and its WebSocket.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if !s.hostOK(r.Host) {
		http.Error(w, "forbidden: unexpected Host header", http.StatusForbidden)
		return
	}
	rest, ok := s.checkToken(r.URL.Path)
	if !ok {
		http.Error(w, "forbidden: wrong or missing token", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch rest {
	case "":
		http.Redirect(w, r, "/"+s.token+"/", http.StatusMovedPermanently)
	case "/":
		s.asset(w, "index.html", "text/html; charset=utf-8")
	case "/viewer.js":
		s.asset(w, "viewer.js", "text/javascript; charset=utf-8")
	case "/viewer.css":
		s.asset(w, "viewer.css", "text/css; charset=utf-8")
	case "/ws":
		s.serveWS(w, r)
	default:
		http.NotFound(w, r)
	}
}

// securityHeaders sets the headers every answer carries: a strict CSP (no
// inline script or style, nothing from elsewhere, no framing), no caching,
// no sniffing, no referrer.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
		"img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// hostOK reports whether host names this server exactly (DNS rebinding:
// a page from another site resolved to 127.0.0.1 carries its own name).
func (s *Server) hostOK(host string) bool {
	return host == s.hosts[0] || host == s.hosts[1]
}

// checkToken compares the path's first segment with the token in constant
// time and returns the rest of the path.
func (s *Server) checkToken(path string) (string, bool) {
	if !strings.HasPrefix(path, "/") {
		return "", false
	}
	seg, rest := path[1:], ""
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg, rest = seg[:i], seg[i:]
	}
	if subtle.ConstantTimeCompare([]byte(seg), []byte(s.token)) != 1 {
		return "", false
	}
	return rest, true
}

// asset writes one embedded file.
func (s *Server) asset(w http.ResponseWriter, name, ctype string) {
	b, err := static.ReadFile("static/" + name)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", ctype)
	_, _ = w.Write(b)
}

// errClosed is returned for a page arriving after Close.
var errClosed = errors.New("viewer closed")
