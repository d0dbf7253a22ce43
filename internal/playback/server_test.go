package playback

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/replay"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tilecodec"
	"github.com/tether-support/tether/internal/x11/x11test"
	"github.com/tether-support/tether/recordings"
)

var start = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// desktopRecording records two frames of a 150×100 screen: red, then with
// a green tile about a second later, and a marker between them.
func desktopRecording(t *testing.T, cut bool) *replay.Recording {
	t.Helper()
	var buf bytes.Buffer
	cw, err := recordings.NewCastWriter(&buf, recordings.CastHeader{Width: 80, Height: 24}, start)
	if err != nil {
		t.Fatal(err)
	}
	cw.Marker(start, "consent granted: screen-view")
	dw, err := cw.Desktop()
	if err != nil {
		t.Fatal(err)
	}
	f, _ := screen.NewFrame(150, 100)
	for i := 0; i < len(f.Pix); i += 4 {
		f.Pix[i+2] = 0xff // red
	}
	enc := tilecodec.NewEncoder(tilecodec.Options{Lossless: true})
	defer enc.Close()
	// The second update comes at 1000.7 ms, the recording's last moment:
	// the page's last millisecond must reach it.
	for i, at := range []time.Duration{0, time.Second + 700*time.Microsecond} {
		if i == 1 {
			dw.Marker(start.Add(500*time.Millisecond), "paused by the user <b>")
			for y := 64; y < 100; y++ {
				for x := 64; x < 128; x++ {
					copy(f.Pix[y*f.Stride+x*4:], []byte{0, 0xff, 0})
				}
			}
		}
		u, err := enc.Encode(f, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range u.Chunks {
			dw.Record(start.Add(at), recordings.RecUpdate, c)
		}
	}
	var r io.Reader = &buf
	if cut {
		r = io.MultiReader(&buf, errReader{recordings.ErrTruncated})
	}
	rec, err := replay.Load(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func terminalRecording(t *testing.T) *replay.Recording {
	t.Helper()
	var buf bytes.Buffer
	cw, _ := recordings.NewCastWriter(&buf, recordings.CastHeader{Width: 80, Height: 24}, start)
	cw.Marker(start, "start: interactive shell")
	cw.Output(start.Add(100*time.Millisecond), []byte("tether-playback-check\r\n"))
	rec, err := replay.Load(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func serve(t *testing.T, rec *replay.Recording, opts Options) *Server {
	t.Helper()
	s, err := Serve(rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// get fetches url with the Host and cookie given.
func get(t *testing.T, method, url, host string, cookie *http.Cookie) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestSafetyRefusals: a wrong token, a foreign Host, another method and a
// second page are refused; the open page's requests need its cookie.
func TestSafetyRefusals(t *testing.T) {
	s := serve(t, desktopRecording(t, false), Options{Idle: time.Hour})
	u := s.URL()
	base := "http://" + s.lp.Host()
	tok := strings.Trim(strings.TrimPrefix(u, base), "/")
	select {
	case <-s.Opened():
		t.Fatal("Opened before any page loaded")
	default:
	}
	resp, _ := get(t, "GET", u, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("the page: %d", resp.StatusCode)
	}
	select {
	case <-s.Opened():
	default:
		t.Fatal("Opened not closed once the page loaded")
	}
	cookie := resp.Cookies()[0]
	for _, tc := range []struct {
		name, method, url, host string
		cookie                  *http.Cookie
		want                    int
	}{
		{"wrong token", "GET", base + "/" + strings.Repeat("0", 43) + "/", "", nil, 403},
		{"wrong token API", "GET", base + "/" + strings.Repeat("0", 43) + "/api/info", "", cookie, 403},
		{"no token", "GET", base + "/", "", nil, 403},
		{"token prefix", "GET", base + "/" + tok[:10] + "/", "", nil, 403},
		{"foreign host", "GET", u, "evil.example", nil, 421},
		{"localhost name", "GET", u + "api/info", "localhost:" + strings.Split(s.lp.Host(), ":")[1], cookie, 421},
		{"post", "POST", u + "api/info", "", cookie, 405},
		{"second page", "GET", u, "", nil, 409},
		{"API without the cookie", "GET", u + "api/info", "", nil, 409},
		{"API with another cookie", "GET", u + "api/info", "", &http.Cookie{Name: viewerCookie, Value: "x"}, 409},
		{"page file directly", "GET", u + "desktop.html", "", cookie, 404},
		{"unknown file", "GET", u + "asciinema-player/VERSION", "", cookie, 404},
		{"traversal", "GET", u + "../server.go", "", cookie, 404},
		{"the page's API", "GET", u + "api/info", "", cookie, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, tc.method, tc.url, tc.host, tc.cookie)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %q, want %d", resp.StatusCode, body, tc.want)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") {
				t.Fatalf("CSP %q", csp)
			}
		})
	}
}

// TestIdlePageReplaced: a page silent for Idle may be replaced; its cookie
// then no longer works.
func TestIdlePageReplaced(t *testing.T) {
	s := serve(t, desktopRecording(t, false), Options{Idle: 50 * time.Millisecond})
	resp, _ := get(t, "GET", s.URL(), "", nil)
	old := resp.Cookies()[0]
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ = get(t, "GET", s.URL(), "", nil)
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second page was still refused: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, _ := get(t, "GET", s.URL()+"api/info", "", old); resp.StatusCode != 409 {
		t.Fatalf("the replaced page's cookie: %d, want 409", resp.StatusCode)
	}
}

// TestFrameAPI: the page gets the rebuilt framebuffer in full, then only
// the tiles that changed; info lists the markers and the cut.
func TestFrameAPI(t *testing.T) {
	rec := desktopRecording(t, true)
	s := serve(t, rec, Options{Title: "t"})
	resp, _ := get(t, "GET", s.URL(), "", nil)
	c := resp.Cookies()[0]
	_, b := get(t, "GET", s.URL()+"api/info", "", c)
	var in Info
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	if !in.Desktop || in.DurationMS != 1000 || len(in.Markers) != 2 || in.Markers[1].Label != "paused by the user <b>" ||
		!strings.Contains(in.Incomplete, "cut short") {
		t.Fatalf("info %+v", in)
	}
	_, b = get(t, "GET", s.URL()+"api/frame?t=0", "", c)
	w, h, rects := parseFrame(t, b)
	if w != 150 || h != 100 || len(rects) != 1 || rects[0].W != 150 {
		t.Fatalf("first answer: %dx%d, rects %v; want the whole 150x100", w, h, rects)
	}
	_, b = get(t, "GET", s.URL()+"api/frame?t=1000", "", c)
	_, _, rects = parseFrame(t, b)
	if len(rects) != 1 || rects[0] != (screen.Rect{X: 64, Y: 64, W: 64, H: 36}) {
		t.Fatalf("second answer: rects %v, want the one green tile", rects)
	}
	if resp, _ := get(t, "GET", s.URL()+"api/frame?t=-5", "", c); resp.StatusCode != 400 {
		t.Fatalf("negative time: %d", resp.StatusCode)
	}
}

// parseFrame reads an api/frame answer's size and rectangles.
func parseFrame(t *testing.T, b []byte) (w, h int, rects []screen.Rect) {
	t.Helper()
	w, h = int(binary.BigEndian.Uint16(b)), int(binary.BigEndian.Uint16(b[2:]))
	o := 13
	o += 2 + int(binary.BigEndian.Uint16(b[o:]))
	n := int(binary.BigEndian.Uint16(b[o:]))
	o += 2
	for range n {
		r := screen.Rect{X: int(binary.BigEndian.Uint16(b[o:])), Y: int(binary.BigEndian.Uint16(b[o+2:])),
			W: int(binary.BigEndian.Uint16(b[o+4:])), H: int(binary.BigEndian.Uint16(b[o+6:]))}
		o += 8 + r.W*r.H*4
		rects = append(rects, r)
	}
	if o != len(b) {
		t.Fatalf("frame answer of %d bytes, parsed %d", len(b), o)
	}
	return w, h, rects
}

// TestStaticTypes: the vendored player and the page's files are served
// with their types.
func TestStaticTypes(t *testing.T) {
	s := serve(t, terminalRecording(t), Options{})
	resp, _ := get(t, "GET", s.URL(), "", nil)
	c := resp.Cookies()[0]
	for path, want := range map[string]string{
		"asciinema-player/asciinema-player.min.js": "text/javascript",
		"asciinema-player/asciinema-player.css":    "text/css",
		"terminal.js":                              "text/javascript",
		"player.css":                               "text/css",
	} {
		resp, b := get(t, "GET", s.URL()+path, "", c)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) || len(b) == 0 {
			t.Errorf("%s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	_, b := get(t, "GET", s.URL()+"cast", "", c)
	if _, n, err := recordings.ParseCast(bytes.NewReader(b)); err != nil || n != 2 {
		t.Fatalf("cast: %d events, %v", n, err)
	}
	if resp, _ := get(t, "GET", s.URL()+"api/frame?t=0", "", c); resp.StatusCode != 404 {
		t.Fatalf("a terminal recording's frame API: %d", resp.StatusCode)
	}
}

// chromiumDOM loads url in headless Chromium and returns the DOM after the
// page's scripts ran for a while.
func chromiumDOM(t *testing.T, url string) string {
	t.Helper()
	x11test.NeedProgram(t, "chromium", "chromium")
	bin, _ := exec.LookPath("chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=3000", "--dump-dom", url).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}

// pageShows loads a fresh server's page in Chromium until its DOM holds
// every string of want. Chromium's virtual time does not wait for the
// player's WebAssembly to compile on a loaded machine, so it tries up to
// three times, each with a new server (one page per server).
func pageShows(t *testing.T, rec *replay.Recording, want ...string) {
	t.Helper()
	var dom, missing string
	for range 3 {
		s := serve(t, rec, Options{})
		dom, missing = chromiumDOM(t, s.URL()), ""
		for _, w := range want {
			if !strings.Contains(dom, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
	}
	t.Fatalf("the page's DOM lacks %q:\n%s", missing, dom)
}

// TestChromiumDesktopPage: the desktop page runs under its CSP in real
// headless Chromium, lists the markers as text and draws frames.
func TestChromiumDesktopPage(t *testing.T) {
	pageShows(t, desktopRecording(t, false), `data-ready="1"`, `data-drawn="`, "paused by the user &lt;b&gt;")
}

// TestChromiumDrawsTheScreen: a screenshot of the desktop page in
// headless Chromium shows the recorded screen at its start: exactly the
// 150×100 red pixels of the first frame.
func TestChromiumDrawsTheScreen(t *testing.T) {
	x11test.NeedProgram(t, "chromium", "chromium")
	bin, _ := exec.LookPath("chromium")
	rec := desktopRecording(t, false)
	red := 0
	for range 3 {
		s := serve(t, rec, Options{})
		shot := filepath.Join(t.TempDir(), "page.png")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--user-data-dir="+t.TempDir(), "--virtual-time-budget=3000", "--window-size=900,700",
			"--force-device-scale-factor=1", "--screenshot="+shot, s.URL()).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("chromium: %v: %s", err, out)
		}
		if red = countRGB(t, shot, 0xff, 0, 0); red == 150*100 {
			return
		}
	}
	t.Fatalf("the screenshot has %d pure red pixels, want the 15000 of the recorded screen", red)
}

// countRGB counts the pixels of a PNG file with exactly the colour r, g, b.
func countRGB(t *testing.T, path string, r, g, b uint8) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if uint8(cr>>8) == r && uint8(cg>>8) == g && uint8(cb>>8) == b {
				n++
			}
		}
	}
	return n
}

// TestChromiumTerminalPage: the vendored asciinema-player loads under the
// terminal page's CSP (its WebAssembly terminal included: without
// 'wasm-unsafe-eval' the text never shows) and shows the recording.
func TestChromiumTerminalPage(t *testing.T) {
	pageShows(t, terminalRecording(t), `data-ready="1"`, "ap-player", "start: interactive shell", "tether-playback-check")
}
