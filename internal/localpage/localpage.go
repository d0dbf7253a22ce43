// Package localpage provides a safe local page server: an HTTP server on
// 127.0.0.1 for a page that only this machine's user, holding the URL tech
// printed, may open. The live viewer (internal/viewer) and recording
// playback (internal/playback) are built on it.
//
// Every request passes the same checks, in this order, before the page's
// own handler sees it:
//
//   - Host must be exactly the listener's "127.0.0.1:PORT" (a page from
//     another site resolved to 127.0.0.1, DNS rebinding, carries its own
//     name): 421 Misdirected Request.
//   - The path's first segment must be the 256-bit random token, compared
//     in constant time: 403 Forbidden. "/TOKEN" alone is redirected to
//     "/TOKEN/".
//   - An Origin header, when present, must be the page's own origin (a
//     WebSocket handler demands one with RequireOrigin): 403 Forbidden.
//   - Only GET and HEAD: 405 Method Not Allowed.
//
// Every answer, refusals included, carries a strict Content-Security-Policy
// (default-src 'self', no inline script or style, no framing, no plugins),
// no-store caching, nosniff, no referrer and same-origin opener and
// resource policies. A page that needs more script sources (the terminal
// player's 'wasm-unsafe-eval') names them in Options.ScriptSrc.
// Pages, scripts and styles are served from an embedded file system by
// ServeFile.
package localpage

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Handler serves a request that passed every check. rest is the path after
// "/TOKEN/" ("" for the page itself).
type Handler func(w http.ResponseWriter, r *http.Request, rest string)

// Options configures a Server.
type Options struct {
	// Name names the page in errors ("viewer", "playback").
	Name string
	// ScriptSrc adds sources to the CSP's script-src after 'self', such
	// as "'wasm-unsafe-eval'".
	ScriptSrc []string
}

// Server is a local page server: it listens from Listen, serves from Serve
// and stops at Close or Shutdown.
type Server struct {
	token  string
	host   string // "127.0.0.1:PORT", the only Host accepted
	csp    string
	ln     net.Listener
	handle Handler // set once by Serve, before the first request
	srv    *http.Server
}

// Listen listens on 127.0.0.1 on a free port with a fresh 256-bit token.
// Call Serve to serve, and Close or Shutdown in any case.
func Listen(opts Options) (*Server, error) {
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("%s: page token: %w", opts.Name, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("%s: listen on 127.0.0.1: %w", opts.Name, err)
	}
	s := &Server{token: base64.RawURLEncoding.EncodeToString(tok),
		host: "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port),
		csp:  csp(opts.ScriptSrc), ln: ln}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		MaxHeaderBytes: 16 << 10}
	return s, nil
}

// Serve starts serving in the background: h gets every request that passed
// the checks. Call it once. The handler may use the Server (Path, for a
// cookie's path), which is why serving starts only here.
func (s *Server) Serve(h Handler) {
	s.handle = h
	go func() { _ = s.srv.Serve(s.ln) }()
}

// csp is the Content-Security-Policy with extra script sources.
func csp(scriptSrc []string) string {
	script := strings.Join(append([]string{"'self'"}, scriptSrc...), " ")
	return "default-src 'self'; script-src " + script + "; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// URL is the page's address, token included. It is a secret: whoever has
// it may open the page.
func (s *Server) URL() string { return "http://" + s.host + s.Path() }

// Path is the path every page request starts with: "/TOKEN/".
func (s *Server) Path() string { return "/" + s.token + "/" }

// Host is the only Host header accepted, "127.0.0.1:PORT".
func (s *Server) Host() string { return s.host }

// Close stops the server at once, closing every connection.
func (s *Server) Close() error { return errors.Join(s.srv.Close(), s.closeListener()) }

// Shutdown stops the server gracefully until ctx ends, then closes it.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return errors.Join(err, s.srv.Close(), s.closeListener())
	}
	return s.closeListener()
}

// closeListener closes the listener, which the http.Server does not own
// when Serve was never called.
func (s *Server) closeListener() error {
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close listener: %w", err)
	}
	return nil
}

// ServeHTTP checks the request (see the package doc) and hands it to the
// page's handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	SecurityHeaders(w.Header(), s.csp)
	if r.Host != s.host {
		http.Error(w, "unexpected Host header: this page is only served as "+s.host, http.StatusMisdirectedRequest)
		return
	}
	rest, slash, ok := s.checkToken(r.URL.Path)
	if !ok {
		http.Error(w, "forbidden: wrong or missing token: use the URL tech printed", http.StatusForbidden)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !originOK(r) {
		http.Error(w, "forbidden: request from another origin", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !slash {
		http.Redirect(w, r, s.Path(), http.StatusMovedPermanently)
		return
	}
	s.handle(w, r, rest)
}

// checkToken compares the path's first segment with the token in constant
// time; it returns the rest after "/TOKEN/" and whether that slash is there.
func (s *Server) checkToken(path string) (rest string, slash, ok bool) {
	p, found := strings.CutPrefix(path, "/")
	if !found {
		return "", false, false
	}
	tok, rest, slash := strings.Cut(p, "/")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		return "", false, false
	}
	return rest, slash, true
}

// SecurityHeaders sets the headers every answer carries (see the package
// doc) with the given Content-Security-Policy.
func SecurityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// originOK reports whether r's Origin is the page's own: "http://" and the
// Host header, which ServeHTTP has checked.
func originOK(r *http.Request) bool {
	return r.Header.Get("Origin") == "http://"+r.Host
}

// RequireOrigin reports whether r carries the page's own Origin, and
// otherwise answers 403. A WebSocket handler calls it: browsers always send
// Origin there, and a page of another origin may open WebSockets anywhere.
func RequireOrigin(w http.ResponseWriter, r *http.Request) bool {
	if !originOK(r) {
		http.Error(w, "forbidden: WebSocket from another origin", http.StatusForbidden)
		return false
	}
	return true
}
