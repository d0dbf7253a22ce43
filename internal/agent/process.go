package agent

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"

	"github.com/tether-support/tether/internal/protocol"
)

// process is what runs in a session: a shell or command, in a PTY or with
// pipes, always in a session and process group of its own and in the
// session's scope (scope_linux.go), so the end path can kill it whole,
// with everything it started.
type process struct {
	cmd    *exec.Cmd
	scope  *scope
	shell  bool
	pty    *os.File
	stdin  io.WriteCloser
	outs   []output
	exited chan struct{}
	code   int
	wmu    sync.Mutex
}

// output is one stream of the process's output and the message type it
// travels as.
type output struct {
	r io.ReadCloser
	t protocol.InnerType
}

// startProcess starts st: the user's login shell in a PTY when Argv is
// empty; otherwise Argv (one argument is a shell command line, as with ssh;
// several are run as they are), in a PTY if asked.
func startProcess(st protocol.Start, sc *scope) (*process, error) {
	pr := &process{exited: make(chan struct{}), scope: sc, shell: len(st.Argv) == 0}
	st.PTY = st.PTY || pr.shell
	pr.cmd = command(st, sc)
	err := pr.startIO(st)
	if err != nil && sc.withoutCgroup() {
		pr.cmd = command(st, sc) // once more, tracked without a cgroup
		err = pr.startIO(st)
	}
	if err != nil {
		sc.kill()
		return nil, err
	}
	sc.started(pr.cmd.Process.Pid)
	go pr.reap()
	return pr, nil
}

// command builds the command for st, prepared for its scope.
func command(st protocol.Start, sc *scope) *exec.Cmd {
	sh := loginShell()
	var cmd *exec.Cmd
	switch {
	case len(st.Argv) == 0:
		cmd = exec.Command(sh)
		cmd.Args = []string{"-" + filepath.Base(sh)} // a login shell
	case len(st.Argv) == 1:
		cmd = exec.Command(sh, "-c", st.Argv[0])
	default:
		cmd = exec.Command(st.Argv[0], st.Argv[1:]...)
	}
	cmd.Env = sessionEnv(st.Term)
	if home, err := os.UserHomeDir(); err == nil {
		cmd.Dir = home
	}
	sc.prepare(cmd, !st.PTY)
	return cmd
}

// startIO starts the command in a PTY or with pipes.
func (pr *process) startIO(st protocol.Start) error {
	if st.PTY {
		return pr.startPTY(st.Rows, st.Cols)
	}
	return pr.startPipes()
}

// startPTY starts the command on a new PTY (a new session and process group).
func (pr *process) startPTY(rows, cols uint16) error {
	if rows == 0 || cols == 0 {
		rows, cols = 24, 80
	}
	f, err := pty.StartWithSize(pr.cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		return err
	}
	if f, err = pollable(f); err != nil {
		pr.cmd.Process.Kill()
		return err
	}
	pr.pty, pr.stdin = f, f
	pr.outs = []output{{r: f, t: protocol.InStdout}}
	return nil
}

// startPipes starts the command with pipes (scope.prepare gave it a
// session and process group of its own).
func (pr *process) startPipes() error {
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return err
	}
	pr.cmd.Stdin, pr.cmd.Stdout, pr.cmd.Stderr = inR, outW, errW
	err = pr.cmd.Start()
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return err
	}
	pr.stdin = inW
	pr.outs = []output{{r: outR, t: protocol.InStdout}, {r: errR, t: protocol.InStderr}}
	return nil
}

// reap waits for the process and records its exit status as a shell would
// report it (128+signal when killed).
func (pr *process) reap() {
	err := pr.cmd.Wait()
	pr.scope.waited(pr.cmd.Process.Pid)
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			pr.code = 128 + int(ws.Signal())
		} else {
			pr.code = ee.ExitCode()
		}
	default:
		pr.code = 255
	}
	close(pr.exited)
}

// readOutputs copies every output stream to send until each ends; done is
// closed when all have.
func (pr *process) readOutputs(send func(protocol.InnerType, []byte) error, done chan struct{}) {
	var wg sync.WaitGroup
	for _, o := range pr.outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pumpStream(o.r, o.t, send)
		}()
	}
	go func() { wg.Wait(); close(done) }()
}

// outChunk is the most output one message carries.
const outChunk = 32 << 10

// Output coalescing. A PTY read returns at most 4 KiB, so a fast producer
// would leave in thousands of small messages a second, each costing system
// calls and wake-ups on the agent, the relay and the technician. When a read
// comes back large (bulkRead or more: the producer is writing faster than
// it is read), the pump keeps reading for up to lingerFor, until a message
// is nearly full (lingerFill) or a read comes back small. A small read (a
// keystroke's echo, a prompt) leaves at once, so interactive latency is
// unchanged. One goroutine reads and sends: no hand-off between threads per
// read.
const (
	bulkRead   = 2 << 10
	lingerFill = outChunk - 4<<10
	lingerFor  = 500 * time.Microsecond
)

// deadliner is a reader with read deadlines (a pollable *os.File).
type deadliner interface {
	SetReadDeadline(time.Time) error
}

// pumpStream copies r to send until either fails, coalescing bulk output
// into messages of up to outChunk (see bulkRead).
func pumpStream(r io.Reader, t protocol.InnerType, send func(protocol.InnerType, []byte) error) {
	dl, _ := r.(deadliner)
	if dl != nil && dl.SetReadDeadline(time.Time{}) != nil {
		dl = nil // not pollable: no lingering
	}
	buf := make([]byte, outChunk)
	for {
		n, err := r.Read(buf)
		if err == nil && n >= bulkRead && dl != nil {
			n, err = linger(r, dl, buf, n)
		}
		if n > 0 && send(t, buf[:n]) != nil {
			return
		}
		if err != nil {
			return
		}
	}
}

// linger reads more into buf[n:] while output keeps coming in bulk, for at
// most lingerFor. It returns the bytes in buf and a read error other than
// the deadline's.
func linger(r io.Reader, dl deadliner, buf []byte, n int) (int, error) {
	dl.SetReadDeadline(time.Now().Add(lingerFor))
	defer dl.SetReadDeadline(time.Time{})
	for n < lingerFill {
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return n, nil
		}
		if err != nil || m < bulkRead {
			return n, err
		}
	}
	return n, nil
}

// outputGrace is how long output may keep draining after the process exited
// (a background child may hold the terminal open).
const outputGrace = 500 * time.Millisecond

// wait waits for the process to exit and its output to drain, and returns
// its exit status.
func (pr *process) wait(outputsDone chan struct{}) int {
	<-pr.exited
	select {
	case <-outputsDone:
	case <-time.After(outputGrace):
		for _, o := range pr.outs {
			o.r.Close()
		}
		<-outputsDone
	}
	return pr.code
}

// write passes technician input to the process.
func (pr *process) write(b []byte) {
	pr.wmu.Lock()
	defer pr.wmu.Unlock()
	if pr.stdin != nil {
		pr.stdin.Write(b)
	}
}

// closeStdin signals end of input (pipes), or sends EOF (^D) on a PTY.
func (pr *process) closeStdin() {
	pr.wmu.Lock()
	defer pr.wmu.Unlock()
	if pr.pty != nil {
		pr.pty.Write([]byte{4})
		return
	}
	if pr.stdin != nil {
		pr.stdin.Close()
		pr.stdin = nil
	}
}

// resize sets the PTY's window size.
func (pr *process) resize(rows, cols uint16) {
	if pr.pty != nil && rows > 0 && cols > 0 {
		setWinsize(pr.pty, rows, cols)
	}
}

// kill kills the process and everything it started (its scope), and
// closes the PTY.
func (pr *process) kill() {
	pr.scope.kill()
	select {
	case <-pr.exited:
	case <-time.After(2 * time.Second):
	}
	if pr.pty != nil {
		pr.pty.Close()
	}
}

// loginShell returns the consenting user's login shell: $SHELL, else the
// passwd entry, else /bin/sh.
func loginShell() string {
	if sh := os.Getenv("SHELL"); sh != "" {
		return sh
	}
	if u, err := user.Current(); err == nil {
		if sh := passwdShell(u.Username); sh != "" {
			return sh
		}
	}
	return "/bin/sh"
}

// passwdShell reads name's shell from /etc/passwd.
func passwdShell(name string) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && fields[0] == name {
			return fields[6]
		}
	}
	return ""
}

// sessionEnv is the environment of a session's process.
func sessionEnv(term string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TERM=") && !strings.HasPrefix(kv, "TETHER_") {
			env = append(env, kv)
		}
	}
	if term == "" {
		term = "xterm-256color"
	}
	return append(env, "TERM="+term, "TETHER_SESSION=1")
}
