package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// procs remembers every long-running process the driver started so that
// stopAll can end each one by its PID.
type procs struct {
	mu   sync.Mutex
	list []*bgProc
}

// bgProc is a background process with its combined output kept in memory.
type bgProc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *bgProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out.Len() < 1<<20 { // keep the first MiB: enough to diagnose
		p.out.Write(b)
	}
	return len(b), nil
}

// Output returns what the process printed so far.
func (p *bgProc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// PID returns the process ID.
func (p *bgProc) PID() int { return p.cmd.Process.Pid }

// start runs name in the background, in its own process group.
func (ps *procs) start(env []string, name string, args ...string) (*bgProc, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	return ps.startCmd(cmd)
}

// startCmd runs a prepared command in the background, in its own process
// group, keeping its output.
func (ps *procs) startCmd(cmd *exec.Cmd) (*bgProc, error) {
	p := &bgProc{name: cmd.Path, cmd: cmd, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// stop ends p: SIGTERM to its PID, SIGKILL after a grace period.
func (p *bgProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(p.PID(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(p.PID(), syscall.SIGKILL)
		<-p.done
	}
}

// stopAll stops every process started, newest first.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].stop()
	}
}

// runOut runs a command to completion and returns its stdout; stderr is
// included in the error.
func runOut(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return so.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(se.String()))
	}
	return so.String(), nil
}

// ptyRun is a command running on a pseudo-terminal that the driver reads
// and types into, like a person at a terminal.
type ptyRun struct {
	cmd  *exec.Cmd
	tty  *os.File
	done chan struct{}
	data chan []byte // output, once reader has started
}

// startPTY starts argv on a new 50x200 PTY.
func startPTY(env []string, argv ...string) (*ptyRun, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		return nil, err
	}
	r := &ptyRun{cmd: cmd, tty: f, done: make(chan struct{})}
	go func() { cmd.Wait(); close(r.done) }()
	return r, nil
}

// close kills the command by PID (if still running) and closes the PTY.
func (r *ptyRun) close() {
	select {
	case <-r.done:
	default:
		syscall.Kill(r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
	}
	r.tty.Close()
}

// countOutput reads the PTY until it ends (EIO when the last holder of the
// slave side is gone) and returns the bytes read and the time from the first
// byte to the last. A run longer than limit is killed.
func (r *ptyRun) countOutput(limit time.Duration) (int64, time.Duration, error) {
	buf := make([]byte, 256<<10)
	var n int64
	var first, last time.Time
	var timedOut atomic.Bool
	kill := time.AfterFunc(limit, func() { timedOut.Store(true); syscall.Kill(r.cmd.Process.Pid, syscall.SIGKILL) })
	defer kill.Stop()
	for {
		k, err := r.tty.Read(buf)
		if k > 0 {
			last = time.Now()
			if n == 0 {
				first = last
			}
			n += int64(k)
		}
		if err != nil {
			if timedOut.Load() {
				return n, last.Sub(first), fmt.Errorf("timed out after %v with %d bytes", limit, n)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.EIO) {
				return n, last.Sub(first), nil
			}
			return n, last.Sub(first), err
		}
	}
}

// reader starts copying the PTY's output to r.data (once).
func (r *ptyRun) reader() chan []byte {
	if r.data == nil {
		r.data = make(chan []byte, 1024)
		go func() {
			defer close(r.data)
			for {
				b := make([]byte, 4096)
				n, err := r.tty.Read(b)
				if n > 0 {
					r.data <- b[:n]
				}
				if err != nil {
					return
				}
			}
		}()
	}
	return r.data
}

// expect reads until the output contains s.
func (r *ptyRun) expect(s string, limit time.Duration) (string, error) {
	data := r.reader()
	timeout := time.After(limit)
	var got []byte
	for !bytes.Contains(got, []byte(s)) {
		select {
		case b, ok := <-data:
			if !ok {
				return string(got), fmt.Errorf("waiting for %q: terminal closed (screen: %q)", s, tail(string(got), 300))
			}
			got = append(got, b...)
		case <-timeout:
			return string(got), fmt.Errorf("waiting for %q: timed out (screen: %q)", s, tail(string(got), 300))
		}
	}
	return string(got), nil
}

// drain discards output until none arrives for quiet.
func (r *ptyRun) drain(quiet time.Duration) {
	data := r.reader()
	for {
		select {
		case <-data:
		case <-time.After(quiet):
			return
		}
	}
}

// echoLatency times n single-byte round trips: write one byte, read until it
// comes back. The remote end must echo each byte as is (raw mode, cat).
func (r *ptyRun) echoLatency(n int) ([]time.Duration, error) {
	data := r.reader()
	out := make([]time.Duration, 0, n)
	for i := range n {
		b := byte('a' + i%26)
		t0 := time.Now()
		if _, err := r.tty.Write([]byte{b}); err != nil {
			return out, err
		}
		timeout := time.NewTimer(10 * time.Second)
		for seen := false; !seen; {
			select {
			case in, ok := <-data:
				if !ok {
					return out, fmt.Errorf("echo %d: terminal closed", i)
				}
				seen = bytes.IndexByte(in, b) >= 0
			case <-timeout.C:
				return out, fmt.Errorf("echo %d: no echo within 10s", i)
			}
		}
		out = append(out, time.Since(t0))
		timeout.Stop()
	}
	return out, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
