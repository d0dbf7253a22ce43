// Package browsertest drives a real headless Chromium for tests, through
// the Chrome DevTools Protocol over a WebSocket: open a page, evaluate
// script in it, take screenshots and send it trusted mouse and keyboard
// events (which the page sees like a user's).
//
//	b := browsertest.Start(t, 800, 600)
//	b.Navigate(url)
//	b.WaitTrue(`window.ready === true`, 10*time.Second)
//	img := b.Screenshot(screen.Rect{X: 0, Y: 0, W: 100, H: 100})
//
// Chromium missing: the test is skipped, naming the Debian package, or
// fails when TETHER_CI is set.
package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tether-support/tether/internal/screen"
)

// StartTimeout bounds how long Start waits for Chromium's DevTools.
var StartTimeout = 30 * time.Second

// Browser is one headless Chromium with one page attached over CDP.
type Browser struct {
	t    testing.TB
	cmd  *exec.Cmd
	ws   *websocket.Conn
	base string // DevTools HTTP address

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan reply
	events  chan event
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type event struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// Program returns the Chromium binary, skipping t (or failing it under
// TETHER_CI) when there is none.
func Program(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TETHER_CI") != "" {
		t.Fatal("chromium not installed (Debian package chromium)")
	}
	t.Skip("chromium not installed (Debian package chromium); skipping the browser test")
	return ""
}

var devtoolsLine = regexp.MustCompile(`DevTools listening on (ws://127\.0\.0\.1:\d+)/devtools/browser/`)

// Start launches headless Chromium with a width×height window, a fresh
// profile and the device scale factor 1, attaches to its page, and stops
// it when the test ends. extra are more Chromium switches (for example
// --host-resolver-rules to give a test name an address).
func Start(t testing.TB, width, height int, extra ...string) *Browser {
	t.Helper()
	prog := Program(t)
	args := []string{"--headless=new", "--disable-gpu", "--remote-debugging-port=0",
		"--remote-debugging-address=127.0.0.1",
		"--user-data-dir=" + t.TempDir(), fmt.Sprintf("--window-size=%d,%d", width, height),
		"--force-device-scale-factor=1", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--disable-renderer-backgrounding", "--disable-background-timer-throttling",
		"--disable-backgrounding-occluded-windows", "--mute-audio"}
	args = append(append(args, extra...), "about:blank")
	if os.Geteuid() == 0 {
		args = append([]string{"--no-sandbox"}, args...) // Chromium refuses to run as root otherwise
	}
	b := &Browser{t: t, waiting: map[int]chan reply{}, events: make(chan event, 256)}
	b.cmd = exec.Command(prog, args...)
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b.cmd.Env = append(os.Environ(), "DISPLAY=") // headless: never a real display
	stderr, err := b.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(b.stop)
	base, err := waitDevtools(stderr)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	b.base = base
	if err := b.attach(""); err != nil {
		t.Fatalf("chromium: attach to the page: %v", err)
	}
	b.setup()
	return b
}

// setup enables the domains the helpers use.
func (b *Browser) setup() {
	b.Call("Page.enable", nil)
	b.Call("Runtime.enable", nil)
	b.Call("Emulation.setFocusEmulationEnabled", map[string]any{"enabled": true})
}

// NewPage opens another page (a tab) in the same browser and attaches to it;
// it shares the browser's process.
func (b *Browser) NewPage() *Browser {
	b.t.Helper()
	r := b.Call("Target.createTarget", map[string]any{"url": "about:blank"})
	var res struct {
		TargetID string `json:"targetId"`
	}
	if err := json.Unmarshal(r, &res); err != nil {
		b.t.Fatal(err)
	}
	p := &Browser{t: b.t, cmd: nil, base: b.base, waiting: map[int]chan reply{}, events: make(chan event, 256)}
	if err := p.attach(res.TargetID); err != nil {
		b.t.Fatalf("chromium: attach to a new page: %v", err)
	}
	b.t.Cleanup(func() { p.ws.CloseNow() })
	p.setup()
	return p
}

// waitDevtools reads Chromium's stderr until it names its DevTools
// address, then keeps draining it.
func waitDevtools(r io.Reader) (string, error) {
	found := make(chan string, 1)
	var tail bytes.Buffer
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := devtoolsLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- strings.Replace(m[1], "ws://", "http://", 1):
				default:
				}
			}
			mu.Lock()
			if tail.Len() < 8<<10 {
				tail.WriteString(sc.Text() + "\n")
			}
			mu.Unlock()
		}
	}()
	select {
	case base := <-found:
		return base, nil
	case <-time.After(StartTimeout):
		mu.Lock()
		defer mu.Unlock()
		return "", fmt.Errorf("no DevTools address within %v; stderr:\n%s", StartTimeout, tail.String())
	}
}

// attach connects to the page target id, or to the first page when id is
// empty.
func (b *Browser) attach(id string) error {
	var targets []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	deadline := time.Now().Add(StartTimeout)
	for {
		resp, err := http.Get(b.base + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		for _, tg := range targets {
			if tg.Type == "page" && tg.WS != "" && (id == "" || tg.ID == id) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				ws, _, err := websocket.Dial(ctx, tg.WS, nil)
				if err != nil {
					return err
				}
				ws.SetReadLimit(256 << 20) // screenshots
				b.ws = ws
				go b.read()
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no page target (%v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// read dispatches CDP replies and events.
func (b *Browser) read() {
	for {
		_, data, err := b.ws.Read(context.Background())
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.waiting {
				close(ch)
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		var m struct {
			ID int `json:"id"`
			reply
			event
		}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		if m.ID == 0 {
			select {
			case b.events <- m.event:
			default:
			}
			continue
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

// CallErr sends one CDP command and returns its result.
func (b *Browser) CallErr(method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%s: DevTools connection lost", method)
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		return r.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no answer", method)
	}
}

// Call is CallErr failing the test on an error.
func (b *Browser) Call(method string, params any) json.RawMessage {
	b.t.Helper()
	r, err := b.CallErr(method, params)
	if err != nil {
		b.t.Fatal(err)
	}
	return r
}

// Navigate opens url in the page.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	r := b.Call("Page.navigate", map[string]any{"url": url})
	var res struct {
		ErrorText string `json:"errorText"`
	}
	_ = json.Unmarshal(r, &res)
	if res.ErrorText != "" {
		b.t.Fatalf("navigate to the page: %s", res.ErrorText)
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its value
// (returned by value) into out, if out is not nil.
func (b *Browser) Eval(expr string, out any) error {
	r, err := b.CallErr("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err != nil {
		return err
	}
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(r, &res); err != nil {
		return err
	}
	if res.Exception != nil {
		return fmt.Errorf("evaluate %q: %s", expr, res.Exception.Text)
	}
	if out == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

// WaitTrue polls a JavaScript expression until it is true, failing the
// test after timeout.
func (b *Browser) WaitTrue(expr string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := b.Eval("!!("+expr+")", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("page: %s not true within %v (%v)", expr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Screenshot captures r of the page (CSS pixels, scale 1) as an image.
func (b *Browser) Screenshot(r screen.Rect) image.Image {
	b.t.Helper()
	res := b.Call("Page.captureScreenshot", map[string]any{"format": "png",
		"clip": map[string]any{"x": r.X, "y": r.Y, "width": r.W, "height": r.H, "scale": 1}})
	var shot struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(res, &shot); err != nil {
		b.t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return img
}

// Mouse sends a trusted mouse event: typ is "mouseMoved", "mousePressed" or
// "mouseReleased"; button "none", "left", "middle" or "right"; buttons the
// pressed buttons afterwards (1 left, 2 right, 4 middle).
func (b *Browser) Mouse(typ string, x, y int, button string, buttons int) {
	b.t.Helper()
	p := map[string]any{"type": typ, "x": x, "y": y, "button": button, "buttons": buttons}
	if typ != "mouseMoved" {
		p["clickCount"] = 1
	}
	b.Call("Input.dispatchMouseEvent", p)
}

// Wheel sends a trusted wheel event at x, y scrolling by dx, dy pixels.
func (b *Browser) Wheel(x, y, dx, dy int) {
	b.t.Helper()
	b.Call("Input.dispatchMouseEvent", map[string]any{"type": "mouseWheel", "x": x, "y": y, "deltaX": dx, "deltaY": dy})
}

// Key sends a trusted key press and release: key and code as in
// KeyboardEvent, vk the Windows virtual key code, text what it types ("" for
// none).
func (b *Browser) Key(key, code string, vk int, text string) {
	b.t.Helper()
	down := map[string]any{"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk}
	if text != "" {
		down["text"] = text
	}
	b.Call("Input.dispatchKeyEvent", down)
	b.Call("Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": vk})
}

// stop ends the browser's process group.
func (b *Browser) stop() {
	if b.ws != nil {
		b.ws.CloseNow()
	}
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}
