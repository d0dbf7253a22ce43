package integration

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// pngFrame reads a PNG export as a BGRX frame.
func pngFrame(t *testing.T, path string) *screen.Frame {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	f, err := screen.NewFrame(r.Dx(), r.Dy())
	if err != nil {
		t.Fatal(err)
	}
	for y := range f.Height {
		for x := range f.Width {
			cr, cg, cb, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
			copy(f.Pix[y*f.Stride+4*x:], []byte{byte(cb >> 8), byte(cg >> 8), byte(cr >> 8)})
		}
	}
	return f
}

// pageFrame asks a playback page for its framebuffer at ms, in full, as
// the page would draw it (RGBA rectangles), and returns it as BGRX.
func pageFrame(t *testing.T, url string, cookie *http.Cookie, ms int64) *screen.Frame {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"api/frame?full=1&t="+strconv.FormatInt(ms, 10), nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(b) < 17 {
		t.Fatalf("api/frame: %d %q", resp.StatusCode, b)
	}
	w, h := int(binary.BigEndian.Uint16(b)), int(binary.BigEndian.Uint16(b[2:]))
	o := 13
	o += 2 + int(binary.BigEndian.Uint16(b[o:]))
	if n := binary.BigEndian.Uint16(b[o:]); n != 1 {
		t.Fatalf("a full frame answer with %d rectangles", n)
	}
	o += 2 + 8
	f, err := screen.NewFrame(w, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < w*h; i++ {
		p := b[o+4*i:]
		copy(f.Pix[4*i:], []byte{p[2], p[1], p[0]})
	}
	return f
}

// TestDesktopRecordingPlaysBack: a desktop session on Xvfb is recorded as
// the viewer received it; the recording's last screen, exported as PNG and
// served by the playback page, is exactly the framebuffer tech rebuilt
// live (JPEG tiles included: the same chunks decode the same); the page
// lists the markers and plays in headless Chromium; and the recording cut
// short still plays, up to the cut, saying so.
func TestDesktopRecordingPlaysBack(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 640, 360)
	win := x11test.NewWindow(t, x, screen.Rect{X: 64, Y: 64, W: 256, H: 192})
	win.Pattern(3, 8)
	win.Photo(screen.Rect{X: 0, Y: 128, W: 256, H: 64}, 7)
	win.Sync()
	e := newEnv(t)
	d := e.desktopAgent("desk-rec", x, "exit 0", "TETHER_AGENT_TEST_FLUSH_EVERY=100ms")
	s, ds, sink := e.openView(t, d.name, protocol.CapScreenView)
	cells := func() bool { // the lossless part; the photo goes as JPEG
		f, _, _ := sink.snapshot()
		return f != nil && x11test.Diff(x11test.Sub(f, screen.Rect{X: 64, Y: 64, W: 256, H: 128}),
			x11test.Sub(win.Model(), screen.Rect{W: 256, H: 128})) == ""
	}
	eventually(t, "the test window", 20*time.Second, cells)
	win.Pattern(5, 8)
	win.Sync()
	eventually(t, "the redrawn window", 20*time.Second, func() bool { return sink.shows(win) })
	live, _, _ := sink.snapshot()
	s.End("done")
	ds.Wait()
	id := e.onlyRecording("complete")

	if r := e.techRun("", "recordings", "verify", id, "--identity", e.reviewer); r.code != 0 {
		t.Fatalf("verify: %s", r.stderr)
	}
	out := filepath.Join(e.dir, "end.png")
	if r := e.techRun("", "recordings", "export", id, "--identity", e.reviewer, "--format", "png", "-o", out); r.code != 0 {
		t.Fatalf("export --format png: %s", r.stderr)
	}
	if diff := x11test.Diff(pngFrame(t, out), live); diff != "" {
		t.Fatalf("the recording's last screen differs from the live one: %s", diff)
	}
	if r := e.techRun("", "recordings", "export", id, "--identity", e.reviewer, "-o", filepath.Join(e.dir, "x.cast")); r.code == 0 ||
		!strings.Contains(r.stderr, "desktop recording") {
		t.Fatalf("asciicast export of a desktop recording: code %d %q", r.code, r.stderr)
	}

	u := e.servePlay(t, id, "--identity", e.reviewer, "--no-browser")
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Cookies()[0]
	req, _ := http.NewRequest("GET", u+"api/info", nil)
	req.AddCookie(cookie)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Desktop    bool  `json:"desktop"`
		DurationMS int64 `json:"duration_ms"`
		Markers    []struct {
			Label string `json:"label"`
		} `json:"markers"`
		Incomplete string `json:"incomplete"`
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if !info.Desktop || info.Incomplete != "" || len(info.Markers) == 0 || !strings.Contains(info.Markers[0].Label, "screen-view") {
		t.Fatalf("page info %+v", info)
	}
	if diff := x11test.Diff(pageFrame(t, u, cookie, info.DurationMS), live); diff != "" {
		t.Fatalf("the page's last screen differs from the live one: %s", diff)
	}

	t.Run("cut in half", func(t *testing.T) {
		file := filepath.Join(e.dir, "data", "recordings", id+".rec")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// Without its last 100 bytes: the final chunk and maybe the end
		// of the one before.
		if err := os.WriteFile(file, b[:len(b)-100], 0o600); err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(e.dir, "cut.png")
		r := e.techRun("", "recordings", "export", id, "--identity", e.reviewer, "--format", "png", "-o", cut)
		if r.code != 0 || !strings.Contains(r.stderr, "incomplete") {
			t.Fatalf("export of the cut recording: code %d %q", r.code, r.stderr)
		}
		f := pngFrame(t, cut)
		if f.Width != 640 || f.Height != 360 {
			t.Fatalf("the cut recording's screen is %dx%d", f.Width, f.Height)
		}
		if r := e.techRun("", "recordings", "verify", id, "--identity", e.reviewer); r.code == 0 || !strings.Contains(r.stderr, "incomplete") {
			t.Fatalf("verify of the cut recording: code %d %q", r.code, r.stderr)
		}
		// The cut may fall anywhere, even inside an update or while the
		// window was being redrawn (internal/replay's tests pin what a
		// cut shows); the page shows the same screen as the export.
		args := []string{id, "--identity", e.reviewer, "--no-browser"}
		u := e.servePlay(t, args...)
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if diff := x11test.Diff(pageFrame(t, u, resp.Cookies()[0], 1<<40), f); diff != "" {
			t.Fatalf("the page's last screen of the cut recording differs from its export: %s", diff)
		}
		e.pageShows(t, e.servePlay(t, args...), args, `data-ready="1"`, `data-drawn="`, "ends early", "screen-view")
	})
}
