package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tether-support/tether/internal/viewer"
)

func TestCheckPath(t *testing.T) {
	cases := []struct {
		path, err string
	}{
		{"auto", ""},
		{"relay", ""},
		{"direct", ""},
		{"", "--path must be auto, relay or direct"},
		{"p2p\x1b[2J", `--path must be auto, relay or direct, not "p2p"`},
	}
	for _, c := range cases {
		err := checkPath(c.path)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("checkPath(%q) = %v, want %q", c.path, err, c.err)
		}
	}
}

// browserScript writes a fake browser that records its argv, one argument
// a line, into the file it returns (renamed into place when complete).
func browserScript(t *testing.T) (script, out string) {
	t.Helper()
	dir := t.TempDir()
	out = filepath.Join(dir, "argv")
	script = filepath.Join(dir, "browser")
	body := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + out + ".tmp && mv " + out + ".tmp " + out + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, out
}

// waitFile polls until path exists (or, with gone, until it does not).
func waitFile(t *testing.T, path string, gone bool) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if (err == nil) != gone {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still waiting (gone=%v): %v", path, gone, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenBrowser: $BROWSER's first command that starts gets the redirect
// file, in place of %s or appended; never the page's address.
func TestOpenBrowser(t *testing.T) {
	script, out := browserScript(t)
	const page = "http://127.0.0.1:1/SECRETTOKEN/"
	cases := []struct{ env, prefix string }{
		{t.TempDir() + "/missing:" + script, ""},
		{script + " --new-window %s", "--new-window\n"},
	}
	for _, c := range cases {
		os.Remove(out)
		t.Setenv("BROWSER", c.env)
		cleanup, err := openBrowser(page, make(chan struct{}))
		if err != nil {
			t.Fatalf("BROWSER=%q: %v", c.env, err)
		}
		got := string(waitFile(t, out, false))
		if !strings.HasPrefix(got, c.prefix+"file:///") || strings.Count(got, "\n") != strings.Count(c.prefix, "\n")+1 {
			t.Fatalf("BROWSER=%q: argv %q, want %q then one file URL", c.env, got, c.prefix)
		}
		if strings.Contains(got, "SECRETTOKEN") {
			t.Fatalf("BROWSER=%q: the token is on the browser's command line: %q", c.env, got)
		}
		file := strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(got, c.prefix)), "file://")
		if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), `location.replace("`+page+`")`) {
			t.Fatalf("redirect file %s: %v, %q", file, err, b)
		}
		cleanup()
		cleanup()
		if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
			t.Fatalf("cleanup left %s: %v", filepath.Dir(file), err)
		}
	}
}

// TestOpenBrowserNone: with no browser that starts, the error says so and
// no redirect file is left behind.
func TestOpenBrowserNone(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("BROWSER", tmp+"/missing")
	t.Setenv("PATH", tmp)
	if _, err := openBrowser("http://127.0.0.1:1/t/", make(chan struct{})); err == nil {
		t.Fatal("openBrowser with no browser succeeded")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("left behind in TMPDIR: %v", left)
	}
}

// TestBrowserRedirectToViewer: against a real viewer page server, the
// launched browser's command line carries no token; the 0600 file (in a
// 0700 directory) it got leads to the page; the file is gone once the page
// attaches. A second run where no page attaches removes it after
// redirectBound.
func TestBrowserRedirectToViewer(t *testing.T) {
	script, out := browserScript(t)
	t.Setenv("BROWSER", script)
	v, err := viewer.New(viewer.Options{Device: "pc"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close(context.Background())
	u, _ := url.Parse(v.URL())
	token := strings.Trim(u.Path, "/")
	if len(token) < 40 {
		t.Fatalf("token %q too short to test", token)
	}
	cleanup, err := openBrowser(v.URL(), v.Attached())
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	argv := strings.TrimSpace(string(waitFile(t, out, false)))
	if strings.Contains(argv, token) || strings.Contains(argv, u.Host) {
		t.Fatalf("browser command line %q names the page", argv)
	}
	fileURL, err := url.Parse(argv)
	if err != nil || fileURL.Scheme != "file" {
		t.Fatalf("browser got %q, want a file URL", argv)
	}
	file := fileURL.Path
	checkMode(t, file, 0o600)
	checkMode(t, filepath.Dir(file), 0o700|os.ModeDir)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`location\.replace\("([^"]+)"\)`).FindSubmatch(b)
	r := regexp.MustCompile(`http-equiv="refresh" content="0; url=([^"]+)"`).FindSubmatch(b)
	if m == nil || r == nil || string(m[1]) != v.URL() || html.UnescapeString(string(r[1])) != v.URL() {
		t.Fatalf("redirect file does not lead to %s:\n%s", v.URL(), b)
	}
	resp, err := http.Get(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "viewer.js") {
		t.Fatalf("the redirect's target answered %d:\n%s", resp.StatusCode, page)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("redirect file gone before the page attached: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{"Origin": {"http://" + u.Host}}
	ws, _, err := websocket.Dial(ctx, "ws://"+u.Host+"/"+token+"/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	waitFile(t, filepath.Dir(file), true)

	old := redirectBound
	redirectBound = 50 * time.Millisecond
	defer func() { redirectBound = old }()
	os.Remove(out)
	if _, err := openBrowser(v.URL(), make(chan struct{})); err != nil {
		t.Fatal(err)
	}
	fileURL, _ = url.Parse(strings.TrimSpace(string(waitFile(t, out, false))))
	waitFile(t, filepath.Dir(fileURL.Path), true)
}

// checkMode fails unless path's mode is want.
func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Fatalf("%s: mode %v, want %v", path, fi.Mode(), want)
	}
}
