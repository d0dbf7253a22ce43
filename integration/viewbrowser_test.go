package integration

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/viewer/browsertest"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// TestViewBrowserCommandLine: `tech view` (without --no-browser) starts
// $BROWSER — here a script that records its argv, as /proc/PID/cmdline
// shows it to every local user — without the page's token on the command
// line: it gets a file:// URL of a 0600 file in a 0700 directory. That
// file, opened in real headless Chromium, leads to the page, which draws
// the remote screen; once the page has attached, the file is gone.
func TestViewBrowserCommandLine(t *testing.T) {
	t.Parallel()
	browsertest.Program(t)
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 40, Y: 40, W: 96, H: 64})
	win.Pattern(1, 16)
	win.Sync()
	e := newEnv(t)
	d := e.desktopAgent("desk-argv", x, "exit 0")
	argvFile := filepath.Join(e.dir, "browser-argv")
	script := filepath.Join(e.dir, "browser")
	body := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argvFile + ".tmp && mv " + argvFile + ".tmp " + argvFile + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	v := e.startViewEnv(t, []string{"BROWSER=" + script + " --new-window", "TMPDIR=" + tmp}, d.name)
	const wait = 30 * time.Second
	var argv []string
	eventually(t, "the browser script's argv", 60*time.Second, func() bool {
		b, err := os.ReadFile(argvFile)
		argv = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		return err == nil
	})
	if out := v.stdout.Output(); out != "" {
		t.Fatalf("tech view printed %q on stdout without --no-browser", out)
	}
	if len(argv) != 2 || argv[0] != "--new-window" {
		t.Fatalf("browser argv %q, want --new-window and one file URL", argv)
	}
	u, err := url.Parse(argv[1])
	if err != nil || u.Scheme != "file" || !strings.HasPrefix(u.Path, tmp+"/") {
		t.Fatalf("browser got %q, want a file URL under TMPDIR %s", argv[1], tmp)
	}
	for p, want := range map[string]os.FileMode{u.Path: 0o600, filepath.Dir(u.Path): 0o700 | os.ModeDir} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode() != want {
			t.Fatalf("%s: %v, %v; want mode %v", p, fi, err, want)
		}
	}
	page, err := os.ReadFile(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(page), `location.replace("http://127.0.0.1:`)
	if i < 0 {
		t.Fatalf("the redirect file does not lead to a page on 127.0.0.1:\n%s", page)
	}
	target := strings.SplitN(string(page)[i+len(`location.replace("`):], `"`, 2)[0]
	token := strings.Trim(strings.SplitN(strings.TrimPrefix(target, "http://"), "/", 2)[1], "/")
	if len(token) < 40 || strings.Contains(strings.Join(argv, " "), token) {
		t.Fatalf("token %q on the browser's command line %q", token, argv)
	}

	b := browsertest.Start(t, 640, 480)
	b.Navigate(argv[1])
	b.WaitTrue(`window.tetherViewer && tetherViewer.updates > 0`, wait)
	b.WaitTrue(`location.href === `+jsQuote(target), wait)
	eventually(t, "the redirect file removed once the page attached", wait, func() bool {
		_, err := os.Stat(filepath.Dir(u.Path))
		return os.IsNotExist(err)
	})
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("left in TMPDIR: %v", left)
	}
}

// jsQuote quotes s (URL characters only) as a JavaScript string.
func jsQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
