package integration

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyProc is a process on a pseudo-terminal, driven like a person would.
type ptyProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	buf  strings.Builder
	done chan struct{}
	eof  chan struct{} // closed when the terminal has nothing more to read
}

// startPTY starts name on a new 24x80 PTY.
func startPTY(t *testing.T, dir string, name string, args ...string) *ptyProc {
	t.Helper()
	return startPTYEnv(t, dir, nil, name, args...)
}

// startPTYEnv is startPTY with extra environment variables.
func startPTYEnv(t *testing.T, dir string, env []string, name string, args ...string) *ptyProc {
	t.Helper()
	p := &ptyProc{t: t, cmd: exec.Command(name, args...), done: make(chan struct{}), eof: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = append(append(os.Environ(), "TERM=xterm"), env...)
	f, err := pty.StartWithSize(p.cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatalf("start %s on a pty: %v", name, err)
	}
	p.tty = f
	go p.read()
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		f.Close()
		if t.Failed() {
			t.Logf("screen of %s:\n%s", name, p.screen())
		}
	})
	return p
}

func (p *ptyProc) read() {
	defer close(p.eof)
	b := make([]byte, 4096)
	for {
		n, err := p.tty.Read(b)
		p.mu.Lock()
		p.buf.Write(b[:n])
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// screen returns everything printed so far.
func (p *ptyProc) screen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// expect waits until the screen contains s.
func (p *ptyProc) expect(s string, limit time.Duration) {
	p.t.Helper()
	eventually(p.t, "screen to show "+strings.TrimSpace(s), limit, func() bool { return strings.Contains(p.screen(), s) })
}

// mark returns how much has been printed, for expectSince.
func (p *ptyProc) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.Len()
}

// expectSince waits until what was printed after mark contains s.
func (p *ptyProc) expectSince(mark int, s string, limit time.Duration) {
	p.t.Helper()
	eventually(p.t, "screen to show "+strings.TrimSpace(s), limit, func() bool { return strings.Contains(p.screen()[mark:], s) })
}

// send types s.
func (p *ptyProc) send(s string) {
	p.t.Helper()
	if _, err := p.tty.Write([]byte(s)); err != nil {
		p.t.Fatalf("type %q: %v", s, err)
	}
}

// exitCode waits for the process to exit and returns its status.
func (p *ptyProc) exitCode(limit time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		select { // let the last output arrive
		case <-p.eof:
		case <-time.After(2 * time.Second):
		}
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		p.t.Fatalf("process did not exit within %v", limit)
		return -1
	}
}
