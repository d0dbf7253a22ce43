package x11_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
	"github.com/tether-support/tether/internal/x11/x11test"
)

func TestOpenWithXauthority(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfbOpts(t, x11test.Options{Width: 160, Height: 120, Auth: true})
	// The right cookie, named explicitly (not through the environment).
	d, err := x11.Open(x.Display, x.XAuthority)
	if err != nil {
		t.Fatalf("open with the server's cookie: %v", err)
	}
	d.Close()
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := x11.WriteXauthority(wrong, "", bytes.Repeat([]byte{0x42}, 16)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, xauth, want string }{
		{"wrong cookie", wrong, "authentication refused"},
		{"missing file", wrong + ".missing", "no such file"},
	} {
		if _, err := x11.Open(x.Display, c.xauth); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Open = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestOpenNoServer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ display, want string }{
		{":6543", "x11: no X server at :6543"},
		{"", "no display given"},
		{"nonsense", "bad display name"},
	} {
		if _, err := x11.Open(c.display, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", c.display, err, c.want)
		}
	}
}

// TestFindSessionRealProcess: a desktop process on a real Xvfb (here a
// sleep with the session's DISPLAY and XAUTHORITY) is found in /proc, and
// what is found opens the display and captures it.
func TestFindSessionRealProcess(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfbOpts(t, x11test.Options{Width: 160, Height: 120, Auth: true})
	win := x11test.NewWindow(t, x, screen.Rect{X: 10, Y: 10, W: 50, H: 40})
	win.Pattern(2, 10)
	child := exec.Command("sleep", "60")
	child.Env = append(os.Environ(), x.Env()...)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	f := x11.DefaultSessionFinder()
	cands, err := f.Candidates()
	if err != nil {
		t.Fatal(err)
	}
	var found *x11.Candidate
	for i, c := range cands {
		if c.PID == child.Process.Pid {
			found = &cands[i]
		}
	}
	if found == nil || found.Display != x.Display || found.XAuthority != x.XAuthority || found.UID != os.Getuid() {
		t.Fatalf("child %d not found as %s/%s among %d candidates: %+v", child.Process.Pid, x.Display, x.XAuthority, len(cands), found)
	}
	d, err := x11.Open(found.Display, found.XAuthority)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	src, err := d.Source(x11.SourceOptions{CursorPoll: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fr, err := src.Capture(nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := x11test.Diff(x11test.Sub(fr, win.Rect()), win.Model()); diff != "" {
		t.Fatal(diff)
	}
}

func TestSourceClosesWithDisplay(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 160, 120)
	d, err := x11.Open(x.Display, "")
	if err != nil {
		t.Fatal(err)
	}
	src, err := d.Source(x11.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Source(x11.SourceOptions{}); err == nil {
		t.Fatal("a second active Source was allowed")
	}
	d.Close()
	for range src.Changes() {
	}
	if _, err := src.Capture(nil); err == nil {
		t.Fatal("Capture on a closed display succeeded")
	}
	src.Close()
}
