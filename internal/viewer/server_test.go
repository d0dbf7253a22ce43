package viewer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tether-support/tether/internal/protocol"
)

// recStream is a Stream that records what the page sent through it.
type recStream struct {
	mu       sync.Mutex
	inputs   []protocol.ScreenInput
	refresh  int
	controls int
	got      chan struct{}
}

func newRecStream() *recStream { return &recStream{got: make(chan struct{}, 1000)} }

func (r *recStream) Input(ev protocol.ScreenInput) error {
	r.mu.Lock()
	r.inputs = append(r.inputs, ev)
	r.mu.Unlock()
	r.got <- struct{}{}
	return nil
}

func (r *recStream) Refresh() error {
	r.mu.Lock()
	r.refresh++
	r.mu.Unlock()
	r.got <- struct{}{}
	return nil
}

func (r *recStream) RequestControl(context.Context) error {
	r.mu.Lock()
	r.controls++
	r.mu.Unlock()
	r.got <- struct{}{}
	return nil
}

// wait waits for n more calls.
func (r *recStream) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.got:
		case <-time.After(5 * time.Second):
			t.Fatal("the stream was not called")
		}
	}
}

func (r *recStream) events() []protocol.ScreenInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]protocol.ScreenInput(nil), r.inputs...)
}

func newServer(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// get requests path on s with the given Host header.
func get(t *testing.T, s *Server, method, path, host string) *http.Response {
	t.Helper()
	u, _ := url.Parse(s.URL())
	req, err := http.NewRequest(method, "http://"+u.Host+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestServerRefusals(t *testing.T) {
	s := newServer(t, Options{Device: "pc"})
	u, _ := url.Parse(s.URL())
	port := u.Port()
	tok := strings.Trim(u.Path, "/")
	wrong := strings.Repeat("A", len(tok))
	cases := []struct {
		name, method, path, host string
		status                   int
		ctype, body              string
	}{
		{"page", "GET", "/" + tok + "/", u.Host, 200, "text/html", "viewer.js"},
		{"page via localhost", "GET", "/" + tok + "/", "localhost:" + port, 421, "", "only served as"},
		{"script", "GET", "/" + tok + "/viewer.js", u.Host, 200, "text/javascript", "WebSocket"},
		{"style", "GET", "/" + tok + "/viewer.css", u.Host, 200, "text/css", "#screen"},
		{"no slash", "GET", "/" + tok, u.Host, 301, "", ""},
		{"unknown file", "GET", "/" + tok + "/x.js", u.Host, 404, "", ""},
		{"wrong token", "GET", "/" + wrong + "/", u.Host, 403, "", "wrong or missing token"},
		{"token prefix", "GET", "/" + tok[:10] + "/", u.Host, 403, "", "wrong or missing token"},
		{"no token", "GET", "/", u.Host, 403, "", "wrong or missing token"},
		{"wrong token script", "GET", "/" + wrong + "/viewer.js", u.Host, 403, "", "token"},
		{"foreign host", "GET", "/" + tok + "/", "evil.example:" + port, 421, "", "Host"},
		{"foreign host same ip other port", "GET", "/" + tok + "/", "127.0.0.1:1", 421, "", "Host"},
		{"host without port", "GET", "/" + tok + "/", "127.0.0.1", 421, "", "Host"},
		{"rebinding name", "GET", "/" + tok + "/", "127.0.0.1.nip.io:" + port, 421, "", "Host"},
		{"post", "POST", "/" + tok + "/", u.Host, 405, "", ""},
		{"ws without upgrade", "GET", "/" + tok + "/ws", u.Host, 403, "", "origin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := get(t, s, c.method, c.path, c.host)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			h := resp.Header
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("CSP %q", csp)
			}
			if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", h)
			}
			if c.ctype != "" && !strings.HasPrefix(h.Get("Content-Type"), c.ctype) {
				t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), c.ctype)
			}
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), c.body) {
				t.Errorf("body %.200q does not contain %q", b, c.body)
			}
		})
	}
}

// TestNoInlineScriptOrStyle: the page works under its CSP only if nothing
// is inline.
func TestNoInlineScriptOrStyle(t *testing.T) {
	b, err := static.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, bad := range []string{"<style", "style=", "<script>", "onclick", "onload", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	js, _ := static.ReadFile("static/viewer.js")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("viewer.js uses %q", bad)
		}
	}
}

// dialWS opens the page's WebSocket with the given Origin.
func dialWS(t *testing.T, s *Server, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	u := strings.Replace(s.URL(), "http://", "ws://", 1) + "ws"
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
	if c != nil {
		c.SetReadLimit(64 << 20)
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

func origin(s *Server) string {
	return strings.TrimSuffix(strings.SplitAfterN(s.URL(), "/", 4)[2], "/")
}

func TestWebSocketRefusals(t *testing.T) {
	s := newServer(t, Options{Device: "pc"})
	own := "http://" + origin(s)
	port := own[strings.LastIndexByte(own, ':')+1:]
	cases := []struct{ name, origin string }{
		{"no origin", ""},
		{"foreign origin", "http://evil.example"},
		{"other port", "http://127.0.0.1:1"},
		{"https", "https://" + origin(s)},
		{"null", "null"},
		{"localhost for a 127.0.0.1 host", "http://localhost:" + port},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, resp, err := dialWS(t, s, c.origin)
			if err == nil {
				t.Fatal("WebSocket accepted")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("refusal %v, want 403", resp)
			}
		})
	}
}

func TestSecondViewerRefused(t *testing.T) {
	s := newServer(t, Options{Device: "pc"})
	own := "http://" + origin(s)
	first, _, err := dialWS(t, s, own)
	if err != nil {
		t.Fatal(err)
	}
	readStatus(t, first) // attached
	second, _, err := dialWS(t, s, own)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = second.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != reasonBusy {
		t.Fatalf("second viewer: %v, want a close with %q", err, reasonBusy)
	}
	// Once the first leaves, a page may attach again.
	first.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		third, _, err := dialWS(t, s, own)
		if err != nil {
			t.Fatal(err)
		}
		st, err := tryReadStatus(third)
		if err == nil && st.Device == "pc" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page could attach after the first left: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
