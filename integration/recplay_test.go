package integration

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/x11/x11test"
)

// servePlay starts `tech recordings play … --no-browser` and returns the
// page URL it prints on stdout; the process is interrupted at cleanup and
// must then exit 0.
func (e *env) servePlay(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin.tech, append([]string{"--config", e.tech, "recordings", "play"}, args...)...)
	cmd.Dir = e.dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, out)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("play exited with %v after Ctrl-C; stderr %q", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("play did not stop at Ctrl-C")
		}
	})
	select {
	case u := <-lines:
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Fatalf("play printed %q, want the page URL", u)
		}
		return u
	case err := <-done:
		t.Fatalf("play exited early (%v): %s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("play printed no URL; stderr %q", stderr.String())
	}
	return ""
}

// chromiumDOM loads url in headless Chromium and returns the DOM after its
// scripts ran for a while.
func chromiumDOM(t *testing.T, url string) string {
	t.Helper()
	x11test.NeedProgram(t, "chromium", "chromium")
	chromium, _ := exec.LookPath("chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000",
		"--dump-dom", url).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}

// pageShows loads the page at u in Chromium until its DOM holds every
// string of want, and returns the URL of the page that did. Chromium's
// virtual time does not wait for the player's WebAssembly to compile on a
// loaded machine, so it tries up to three times, each with a new `tech
// recordings play` started with args (one page per server).
func (e *env) pageShows(t *testing.T, u string, args []string, want ...string) string {
	t.Helper()
	var dom, missing string
	for try := range 3 {
		if try > 0 {
			u = e.servePlay(t, args...)
		}
		dom, missing = chromiumDOM(t, u), ""
		for _, w := range want {
			if !strings.Contains(dom, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return u
		}
	}
	t.Fatalf("the played page lacks %q:\n%s", missing, dom)
	return ""
}

// TestTerminalRecordingPlaysInBrowser: a terminal recording plays in the
// embedded asciinema-player in real headless Chromium, under the page's
// CSP; the page refuses a foreign Host, a wrong token and a second page.
func TestTerminalRecordingPlaysInBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	marker := "PLAYED-IN-BROWSER-5c1"
	id := e.recordEcho(d, marker)

	u := e.servePlay(t, id, "--identity", e.reviewer, "--browser", "--no-browser")
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url, host string
		want            int
	}{
		{"foreign host", u, "attacker.example", http.StatusMisdirectedRequest},
		{"wrong token", strings.Replace(u, "127.0.0.1:"+pu.Port()+"/", "127.0.0.1:"+pu.Port()+"/0", 1), "", http.StatusForbidden},
	} {
		req, _ := http.NewRequest("GET", tc.url, nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	u = e.pageShows(t, u, []string{id, "--identity", e.reviewer, "--browser", "--no-browser"},
		`data-ready="1"`, "ap-player", marker, "consent granted: shell")
	resp, err := http.Get(u) // the Chromium page pings: it is still the open one
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("a second page while Chromium's was open: %d, want 409", resp.StatusCode)
	}

	t.Run("png export of a terminal recording", func(t *testing.T) {
		out := filepath.Join(e.dir, "screen.png")
		r := e.techRun("", "recordings", "export", id, "--identity", e.reviewer, "--format", "png", "-o", out)
		if r.code == 0 || !strings.Contains(r.stderr, "terminal recording") {
			t.Fatalf("got code %d stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatal("a file was written")
		}
	})
}
