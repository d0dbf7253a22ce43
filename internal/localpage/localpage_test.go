package localpage

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// echo is a handler that writes the rest of the path.
func echo(w http.ResponseWriter, r *http.Request, rest string) {
	_, _ = io.WriteString(w, "rest="+rest)
}

// serve starts a Server with handler h (nil: echo).
func serve(t *testing.T, opts Options, h Handler) *Server {
	t.Helper()
	s, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if h == nil {
		h = echo
	}
	s.Serve(h)
	return s
}

// do sends one request with the Host and Origin given ("" leaves them as
// the client sets them), not following redirects.
func do(t *testing.T, s *Server, method, path, host, origin string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Host()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	c := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestChecks(t *testing.T) {
	s := serve(t, Options{Name: "test"}, nil)
	u, _ := url.Parse(s.URL())
	port := u.Port()
	tok := strings.Trim(u.Path, "/")
	if len(tok) != 43 || u.Path != s.Path() || u.Host != "127.0.0.1:"+port {
		t.Fatalf("URL %q, path %q", s.URL(), s.Path())
	}
	wrong := strings.Repeat("A", len(tok))
	own := "http://" + s.Host()
	cases := []struct {
		name, method, path, host, origin string
		status                           int
		body                             string
	}{
		{"page", "GET", "/" + tok + "/", "", "", 200, "rest="},
		{"file", "GET", "/" + tok + "/a/b.js", "", "", 200, "rest=a/b.js"},
		{"head", "HEAD", "/" + tok + "/", "", "", 200, ""},
		{"own origin", "GET", "/" + tok + "/x", "", own, 200, "rest=x"},
		{"no slash after the token", "GET", "/" + tok, "", "", 301, ""},
		{"wrong token", "GET", "/" + wrong + "/", "", "", 403, "wrong or missing token"},
		{"wrong token no slash", "GET", "/" + wrong, "", "", 403, "wrong or missing token"},
		{"token prefix", "GET", "/" + tok[:10] + "/", "", "", 403, "wrong or missing token"},
		{"token and more", "GET", "/" + tok + "x/", "", "", 403, "wrong or missing token"},
		{"token later in the path", "GET", "/p/" + tok + "/", "", "", 403, "wrong or missing token"},
		{"no token", "GET", "/", "", "", 403, "wrong or missing token"},
		{"foreign host", "GET", "/" + tok + "/", "evil.example:" + port, "", 421, "unexpected Host header"},
		{"localhost", "GET", "/" + tok + "/", "localhost:" + port, "", 421, "only served as 127.0.0.1:" + port},
		{"same ip other port", "GET", "/" + tok + "/", "127.0.0.1:1", "", 421, "unexpected Host header"},
		{"host without port", "GET", "/" + tok + "/", "127.0.0.1", "", 421, "unexpected Host header"},
		{"rebinding name", "GET", "/" + tok + "/", "127.0.0.1.nip.io:" + port, "", 421, "unexpected Host header"},
		{"foreign host with a wrong token", "GET", "/" + wrong + "/", "evil.example", "", 421, "unexpected Host header"},
		{"foreign origin", "GET", "/" + tok + "/", "", "http://evil.example", 403, "another origin"},
		{"null origin", "GET", "/" + tok + "/", "", "null", 403, "another origin"},
		{"https origin", "GET", "/" + tok + "/", "", "https://" + s.Host(), 403, "another origin"},
		{"localhost origin", "GET", "/" + tok + "/", "", "http://localhost:" + port, 403, "another origin"},
		{"post", "POST", "/" + tok + "/", "", "", 405, "method not allowed"},
		{"put", "PUT", "/" + tok + "/", "", "", 405, "method not allowed"},
		{"post with a wrong token", "POST", "/" + wrong + "/", "", "", 403, "wrong or missing token"},
		{"post from a foreign host", "POST", "/" + tok + "/", "evil.example", "", 421, "unexpected Host header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, s, c.method, c.path, c.host, c.origin)
			if resp.StatusCode != c.status || !strings.Contains(body, c.body) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, c.status, c.body)
			}
			if c.status == 301 && resp.Header.Get("Location") != s.Path() {
				t.Fatalf("redirect to %q, want %q", resp.Header.Get("Location"), s.Path())
			}
			checkHeaders(t, resp.Header, "script-src 'self';")
		})
	}
}

// checkHeaders checks the security headers every answer carries.
func checkHeaders(t *testing.T, h http.Header, script string) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self';", script, "style-src 'self';", "object-src 'none'",
		"base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "*") {
		t.Fatalf("CSP %q", csp)
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store",
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Resource-Policy": "same-origin"} {
		if h.Get(k) != v {
			t.Fatalf("%s %q, want %q", k, h.Get(k), v)
		}
	}
}

func TestScriptSrcOption(t *testing.T) {
	s := serve(t, Options{Name: "test", ScriptSrc: []string{"'wasm-unsafe-eval'"}}, nil)
	resp, _ := do(t, s, "GET", s.Path(), "", "")
	checkHeaders(t, resp.Header, "script-src 'self' 'wasm-unsafe-eval';")
	resp, _ = do(t, s, "GET", "/", "", "") // refusals carry it too
	checkHeaders(t, resp.Header, "script-src 'self' 'wasm-unsafe-eval';")
}

// TestTokensDiffer: every server has its own token and port.
func TestTokensDiffer(t *testing.T) {
	a, b := serve(t, Options{}, nil), serve(t, Options{}, nil)
	if a.Path() == b.Path() || a.Host() == b.Host() {
		t.Fatalf("two servers share %q %q", a.URL(), b.URL())
	}
	if resp, _ := do(t, a, "GET", b.Path(), "", ""); resp.StatusCode != 403 {
		t.Fatalf("another server's token: %d, want 403", resp.StatusCode)
	}
}

func TestRequireOrigin(t *testing.T) {
	s := serve(t, Options{}, func(w http.ResponseWriter, r *http.Request, rest string) {
		if RequireOrigin(w, r) {
			_, _ = io.WriteString(w, "ok")
		}
	})
	own := "http://" + s.Host()
	for _, c := range []struct {
		name, origin string
		status       int
	}{
		{"own", own, 200},
		{"none", "", 403},
		{"foreign", "http://evil.example", 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, s, "GET", s.Path()+"ws", "", c.origin)
			if resp.StatusCode != c.status {
				t.Fatalf("got %d %q, want %d", resp.StatusCode, body, c.status)
			}
		})
	}
}

func TestServeFile(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html": {Data: []byte("<p>page")},
		"a.js":       {Data: []byte("js")},
		"a.css":      {Data: []byte("css")},
		"VERSION":    {Data: []byte("1")},
		"x.wasm":     {Data: []byte("w")},
	}
	s := serve(t, Options{}, func(w http.ResponseWriter, r *http.Request, rest string) { ServeFile(w, r, fsys, rest) })
	for _, c := range []struct {
		name, file, ctype string
		status            int
	}{
		{"html", "index.html", "text/html; charset=utf-8", 200},
		{"script", "a.js", "text/javascript; charset=utf-8", 200},
		{"style", "a.css", "text/css; charset=utf-8", 200},
		{"no extension", "VERSION", "", 404},
		{"other type", "x.wasm", "", 404},
		{"missing", "b.js", "", 404},
		{"traversal", "../a.js", "", 404},
		{"dot segment", "./a.js", "", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := do(t, s, "GET", s.Path()+c.file, "", "")
			if resp.StatusCode != c.status || (c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("Content-Type"), c.status, c.ctype)
			}
		})
	}
}

// TestCloseWithoutServe: a Server closed before Serve frees its port.
func TestCloseWithoutServe(t *testing.T) {
	s, err := Listen(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(s.URL()); err == nil {
		t.Fatal("a closed server answered")
	}
}
