package x11test

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jezek/xgb"

	"github.com/tether-support/tether/internal/x11"
)

// StartTimeout bounds how long StartXvfb waits for the server.
var StartTimeout = 20 * time.Second

// Xvfb is one private virtual X server.
type Xvfb struct {
	// Display is the display name, ":N".
	Display string
	// Number is N.
	Number int
	// XAuthority is the Xauthority file holding the server's cookie, empty
	// when the server was started without authorization.
	XAuthority string
	// Width and Height are the screen size the server started with.
	Width, Height int

	cmd *exec.Cmd
}

// Options configures StartXvfbOpts.
type Options struct {
	// Width and Height of screen 0 (depth 24).
	Width, Height int
	// Auth starts the server with a random MIT-MAGIC-COOKIE-1 (in a
	// temporary Xauthority file); without it any local client may connect.
	Auth bool
	// Depth of screen 0; 0 means 24.
	Depth int
	// DisableExtensions names extensions the server must not offer
	// ("MIT-SHM"), to exercise fallbacks.
	DisableExtensions []string
	// RunAs runs the server under this uid and gid (the test must be
	// root), like a rootless Xorg owned by the desktop user; 0 keeps the
	// test's own.
	RunAs int
}

// NeedProgram skips t when name is not installed, or fails it when
// TETHER_CI is set. pkg names the Debian package that provides it.
func NeedProgram(t testing.TB, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("TETHER_CI") != "" {
			t.Fatalf("%s not installed (Debian package %s)", name, pkg)
		}
		t.Skipf("%s not installed (Debian package %s); skipping the real X server test", name, pkg)
	}
}

// StartXvfb starts Xvfb with one width×height×24 screen, no TCP, and no
// authorization; see StartXvfbOpts.
func StartXvfb(t testing.TB, width, height int) *Xvfb {
	t.Helper()
	return StartXvfbOpts(t, Options{Width: width, Height: height})
}

// StartXvfbOpts starts Xvfb on a free display number, waits until it
// accepts connections and stops it when the test ends. The root window is
// black (-br) and the server does not reset when its last client leaves
// (-noreset: a reset drops connections being opened meanwhile). The server picks
// the number itself (-displayfd: it takes the first display whose lock
// file /tmp/.X<N>-lock it can create), so parallel tests never collide.
func StartXvfbOpts(t testing.TB, o Options) *Xvfb {
	t.Helper()
	NeedProgram(t, "Xvfb", "xvfb")
	x := &Xvfb{Width: o.Width, Height: o.Height}
	depth := o.Depth
	if depth == 0 {
		depth = 24
	}
	args := []string{"-displayfd", "3", "-br", "-noreset", "-screen", "0",
		fmt.Sprintf("%dx%dx%d", o.Width, o.Height, depth), "-nolisten", "tcp"}
	for _, ext := range o.DisableExtensions {
		args = append(args, "-extension", ext)
	}
	var cookie []byte
	if o.Auth {
		cookie = make([]byte, 16)
		_, _ = rand.Read(cookie)
		x.XAuthority = filepath.Join(t.TempDir(), "Xauthority")
		// The server reads the file once a client connects; the display
		// number is unknown yet, so the entry matches any number.
		if err := x11.WriteXauthority(x.XAuthority, "", cookie); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-auth", x.XAuthority)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x.cmd = exec.Command("Xvfb", args...)
	x.cmd.ExtraFiles = []*os.File{w}
	x.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if o.RunAs != 0 {
		if os.Geteuid() != 0 {
			t.Skip("x11test: running Xvfb as another user needs root")
		}
		x.cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(o.RunAs), Gid: uint32(o.RunAs)}
		if x.XAuthority != "" {
			_ = os.Chown(x.XAuthority, o.RunAs, o.RunAs)
			_ = os.Chown(filepath.Dir(x.XAuthority), o.RunAs, o.RunAs)
		}
	}
	if err := x.cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(x.stop)
	n, err := readDisplayNumber(r, StartTimeout)
	if err != nil {
		t.Fatalf("Xvfb: %v", err)
	}
	x.Number, x.Display = n, ":"+strconv.Itoa(n)
	if err := x.waitAccepting(StartTimeout); err != nil {
		t.Fatalf("Xvfb %s: %v", x.Display, err)
	}
	return x
}

// readDisplayNumber reads the number Xvfb writes to -displayfd when it is
// ready.
func readDisplayNumber(r *os.File, timeout time.Duration) (int, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		defer r.Close()
		line, err := bufio.NewReader(r).ReadString('\n')
		ch <- result{strings.TrimSpace(line), err}
	}()
	select {
	case res := <-ch:
		n, err := strconv.Atoi(res.line)
		if err != nil {
			return 0, fmt.Errorf("did not report a display number (%q, %v)", res.line, res.err)
		}
		return n, nil
	case <-time.After(timeout):
		return 0, errors.New("did not report its display number in time")
	}
}

// waitAccepting connects until the server completes an X handshake.
func (x *Xvfb) waitAccepting(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := x.Conn()
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Conn opens a raw xgb connection to the server (with its cookie); the
// caller closes it.
func (x *Xvfb) Conn() (*xgb.Conn, error) {
	return x11.Dial(x.Display, x.XAuthority)
}

// stop kills the server's process group and waits for it.
func (x *Xvfb) stop() {
	if x.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-x.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = x.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-x.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Env returns DISPLAY (and XAUTHORITY) settings for a child process.
func (x *Xvfb) Env() []string {
	env := []string{"DISPLAY=" + x.Display}
	if x.XAuthority != "" {
		env = append(env, "XAUTHORITY="+x.XAuthority)
	}
	return env
}
