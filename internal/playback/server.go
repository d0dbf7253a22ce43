// Package playback serves a loaded recording to a local browser: a desktop
// recording on a page with a timeline, play/pause, speed and its markers,
// drawing the framebuffer that internal/replay rebuilds; a terminal
// recording in the vendored asciinema-player (web/asciinema-player,
// Apache-2.0, see its VERSION file).
//
// The page is for this machine's user only: the server listens on
// 127.0.0.1, every path starts with a random token, the Host header must be
// the listener's own address (no DNS rebinding), one page may be open at a
// time (a cookie ties the page's requests to it; a page silent for Idle,
// though it pings every few seconds, is gone), everything is embedded (go:embed) and served under a strict
// Content-Security-Policy (default-src 'self'; the terminal player also
// needs 'wasm-unsafe-eval' for its WebAssembly terminal). Decryption
// happened before: the browser only draws.
package playback

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/replay"
)

//go:embed web
var webFS embed.FS

// Security headers (see the package doc).
const (
	cspDesktop  = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	cspTerminal = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

// DefaultIdle is how long a page may stay silent before another may take
// its place (its tab was closed, or the browser restarted).
const DefaultIdle = 15 * time.Second

// Options configure a Server.
type Options struct {
	// Title names the recording on the page (sanitized by the caller).
	Title string
	// Speed is the initial playback speed; 0 means 1.
	Speed float64
	// Idle overrides DefaultIdle (tests).
	Idle time.Duration
}

// A Server serves one recording on 127.0.0.1.
type Server struct {
	rec    *replay.Recording
	opts   Options
	token  string
	ln     net.Listener
	host   string // "127.0.0.1:PORT", the only Host accepted
	srv    *http.Server
	static fs.FS

	mu     sync.Mutex
	player *replay.Player
	viewer string    // the open page's cookie value
	seen   time.Time // the open page's last request; zero: no page open

	opened     chan struct{} // closed when a page first loads
	openedOnce sync.Once
}

// viewerCookie names the cookie that ties a page's requests to it.
const viewerCookie = "tether-viewer"

// Serve starts serving rec on a new 127.0.0.1 port.
func Serve(rec *replay.Recording, opts Options) (*Server, error) {
	if opts.Speed <= 0 {
		opts.Speed = 1
	}
	if opts.Idle <= 0 {
		opts.Idle = DefaultIdle
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("playback: listen on 127.0.0.1: %w", err)
	}
	static, _ := fs.Sub(webFS, "web")
	s := &Server{rec: rec, opts: opts, token: newToken(), ln: ln, host: ln.Addr().String(), static: static,
		opened: make(chan struct{})}
	if rec.Desktop {
		s.player = rec.NewPlayer()
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// URL returns the page's address, token included.
func (s *Server) URL() string { return "http://" + s.host + "/p/" + s.token + "/" }

// Opened is closed once a page has loaded (claimed the server) for the
// first time.
func (s *Server) Opened() <-chan struct{} { return s.opened }

// Close stops the server.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.mu.Lock()
	if s.player != nil {
		s.player.Close()
	}
	s.mu.Unlock()
	return err
}

// ServeHTTP checks every request (method, Host, token, one page) before
// routing it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if s.rec.Desktop {
		h.Set("Content-Security-Policy", cspDesktop)
	} else {
		h.Set("Content-Security-Policy", cspTerminal)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Host != s.host {
		http.Error(w, "this page is only served as "+s.host, http.StatusMisdirectedRequest)
		return
	}
	rest, ok := s.checkToken(r.URL.Path)
	if !ok {
		http.Error(w, "unknown or wrong token: use the URL tech printed", http.StatusForbidden)
		return
	}
	if rest == "" {
		v, err := s.claim()
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: viewerCookie, Value: v, Path: "/p/" + s.token + "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode})
		s.openedOnce.Do(func() { close(s.opened) })
	} else if !s.touch(r) {
		http.Error(w, errBusy.Error(), http.StatusConflict)
		return
	}
	s.route(w, r, rest)
}

// checkToken splits "/p/TOKEN/rest" and compares the token in constant time.
func (s *Server) checkToken(path string) (string, bool) {
	p, ok := strings.CutPrefix(path, "/p/")
	if !ok {
		return "", false
	}
	tok, rest, ok := strings.Cut(p, "/")
	if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		return "", false
	}
	return rest, true
}

// errBusy refuses a second page while one is open.
var errBusy = errors.New("another page is already playing this recording (close it, or wait a few seconds after closing it)")

// claim lets a page open, with a new viewer cookie, unless another one is
// open and active.
func (s *Server) claim() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.seen.IsZero() && time.Since(s.seen) < s.opts.Idle {
		return "", errBusy
	}
	s.viewer, s.seen = newToken(), time.Now()
	if s.player != nil { // the new page draws from scratch
		s.player.Close()
		s.player = s.rec.NewPlayer()
	}
	return s.viewer, nil
}

// touch reports whether r comes from the open page (its cookie), and
// notes that it is active.
func (s *Server) touch(r *http.Request) bool {
	c, err := r.Cookie(viewerCookie)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || s.viewer == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.viewer)) != 1 {
		return false
	}
	s.seen = time.Now()
	return true
}

// route serves the page, its API and its static files.
func (s *Server) route(w http.ResponseWriter, r *http.Request, rest string) {
	switch rest {
	case "":
		page := "terminal.html"
		if s.rec.Desktop {
			page = "desktop.html"
		}
		s.file(w, r, page)
	case "api/info":
		s.info(w)
	case "api/ping":
		w.WriteHeader(http.StatusNoContent)
	case "api/frame":
		if !s.rec.Desktop {
			http.NotFound(w, r)
			return
		}
		s.frame(w, r)
	case "cast":
		s.cast(w)
	default:
		if strings.HasSuffix(rest, ".html") {
			http.NotFound(w, r) // pages only at their root, where the claim is made
			return
		}
		s.file(w, r, rest)
	}
}

// contentTypes are the only files served, by extension.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

func (s *Server) file(w http.ResponseWriter, r *http.Request, name string) {
	ext := name[strings.LastIndexByte(name, '.')+1:]
	ct, ok := contentTypes["."+ext]
	if !ok || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(s.static, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}
