// Package playback serves a loaded recording to a local browser: a desktop
// recording on a page with a timeline, play/pause, speed and its markers,
// drawing the framebuffer that internal/replay rebuilds; a terminal
// recording in the vendored asciinema-player (web/asciinema-player,
// Apache-2.0, see its VERSION file).
//
// The page is for this machine's user only: internal/localpage serves it
// (127.0.0.1, a random token in every path, the Host header checked, a
// strict Content-Security-Policy; the terminal player also needs
// 'wasm-unsafe-eval' for its WebAssembly terminal), everything is embedded
// (go:embed), and one page may be open at a time (a cookie ties the page's
// requests to it; a page silent for Idle, though it pings every few
// seconds, is gone). Decryption happened before: the browser only draws.
package playback

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/localpage"
	"github.com/tether-support/tether/internal/replay"
)

//go:embed web
var webFS embed.FS

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
	lp     *localpage.Server
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
	static, _ := fs.Sub(webFS, "web")
	s := &Server{rec: rec, opts: opts, static: static, opened: make(chan struct{})}
	if rec.Desktop {
		s.player = rec.NewPlayer()
	}
	lo := localpage.Options{Name: "playback"}
	if !rec.Desktop {
		lo.ScriptSrc = []string{"'wasm-unsafe-eval'"} // the terminal player's WebAssembly terminal
	}
	lp, err := localpage.Listen(lo)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.lp = lp
	lp.Serve(s.serve)
	return s, nil
}

// newToken is a fresh 256-bit secret for a page's cookie.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("playback: page cookie: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// URL returns the page's address, token included.
func (s *Server) URL() string { return s.lp.URL() }

// Opened is closed once a page has loaded (claimed the server) for the
// first time.
func (s *Server) Opened() <-chan struct{} { return s.opened }

// Close stops the server.
func (s *Server) Close() error {
	var err error
	if s.lp != nil {
		err = s.lp.Close()
	}
	s.mu.Lock()
	if s.player != nil {
		s.player.Close()
	}
	s.mu.Unlock()
	return err
}

// serve ties a request that passed localpage's checks to the one open
// page, then routes it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rest string) {
	if rest == "" {
		v, err := s.claim()
		if errors.Is(err, errBusy) {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: viewerCookie, Value: v, Path: s.lp.Path(),
			HttpOnly: true, SameSite: http.SameSiteStrictMode})
		s.openedOnce.Do(func() { close(s.opened) })
	} else if !s.touch(r) {
		http.Error(w, errBusy.Error(), http.StatusConflict)
		return
	}
	s.route(w, r, rest)
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
	v, err := newToken()
	if err != nil {
		return "", err
	}
	s.viewer, s.seen = v, time.Now()
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

func (s *Server) file(w http.ResponseWriter, r *http.Request, name string) {
	localpage.ServeFile(w, r, s.static, name)
}
