package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

func TestInteractiveShellEchoesAndResizes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	p := startPTY(t, e.dir, bin.tech, "--config", e.tech, "connect", d.name)
	p.expect("Consent granted", 10*time.Second)
	p.send("echo typed-$((20+22))\r")
	p.expect("typed-42", 10*time.Second)
	if err := pty.Setsize(p.tty, &pty.Winsize{Rows: 37, Cols: 101}); err != nil {
		t.Fatal(err)
	}
	// SIGWINCH reaches tech, which forwards the new size; poll until the
	// remote PTY reports it.
	eventually(t, "remote PTY to take the new size", 10*time.Second, func() bool {
		p.send("stty size\r")
		time.Sleep(200 * time.Millisecond)
		return strings.Contains(p.screen(), "37 101")
	})
	p.send("exit 3\r")
	if code := p.exitCode(10 * time.Second); code != 3 {
		t.Fatalf("tech exited %d, want the shell's status 3", code)
	}
	eventually(t, "screen lock", 5*time.Second, func() bool { return d.locks() == 1 })
}

func TestIdleTimeoutCountsOnlyHumanInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "--idle-timeout", "2s")
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	// Keepalives every 200ms must not keep the session alive.
	p := startPTY(t, e.dir, bin.tech, "--config", e.tech, "connect", "--keepalive", "200ms", d.name)
	p.expect("Consent granted", 10*time.Second)
	start := time.Now()
	p.exitCode(20 * time.Second)
	if !strings.Contains(p.screen(), "idle timeout") {
		t.Fatalf("session ended without saying idle timeout:\n%s", p.screen())
	}
	t.Logf("idle session ended %v after consent", time.Since(start).Round(100*time.Millisecond))
	eventually(t, "screen lock", 5*time.Second, func() bool { return d.locks() == 1 })
	time.Sleep(500 * time.Millisecond)
	if n := d.locks(); n != 1 {
		t.Fatalf("lock command ran %d times, want exactly 1", n)
	}
}

// TestAbruptEndsKillAndLock kills the technician's process, then the
// relay's, with SIGKILL mid-session: each time the agent must kill the
// session's processes and lock the screen by itself.
func TestAbruptEndsKillAndLock(t *testing.T) {
	t.Parallel()
	for i, victim := range []string{"tech", "relay"} {
		t.Run(victim, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			d := e.enroll("dev")
			e.runAgent(d, "exit 0")
			// Distinct per subtest: they run in parallel.
			marker := fmt.Sprintf("%d", 800000+100000*i+int(time.Now().UnixNano()%99999))
			tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "sleep", marker)
			eventually(t, "remote sleep to run", 10*time.Second, func() bool { return pgrep("sleep " + marker) })
			if victim == "tech" {
				tech.kill9()
			} else {
				e.relay.kill9()
			}
			eventually(t, "agent to lock the screen", 10*time.Second, func() bool { return d.locks() == 1 })
			eventually(t, "remote process to be killed", 5*time.Second, func() bool { return !pgrep("sleep " + marker) })
		})
	}
}

// pgrep reports whether a process with exactly this command line runs.
func pgrep(cmdline string) bool {
	return exec.Command("pgrep", "-f", "^"+cmdline+"$").Run() == nil
}

func TestTerminalConsentShowsHostileTextInertly(t *testing.T) {
	t.Parallel()
	e := &env{t: t, dir: t.TempDir()}
	e.tech = filepath.Join(e.dir, "tech")
	pw := filepath.Join(e.dir, "pw")
	os.WriteFile(pw, []byte("correct horse battery staple\n"), 0o600)
	hostile := "Evil\x1b]52;c;SGVsbG8=\x07Org\x1b[2J\u202Eevil\nline2"
	r := run(t, e.dir, "", bin.relay, "init", "--data", filepath.Join(e.dir, "data"), "--admin", "alice", "--password-file", pw, "--org", hostile)
	if r.code != 0 {
		t.Fatalf("relay init: %s", r.stderr)
	}
	e.startRelay()
	if r := e.techRun("correct horse battery staple\n", "login", "--relay", e.url, "--user", "alice", "--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("login: %s", r.stderr)
	}
	e.addReviewer()
	d := e.enroll("dev")
	agent := startPTY(t, e.dir, bin.agent, "--config", d.home, "run", "--lock-cmd", "echo locked >> "+d.lockLog)
	e.waitOnline(d.name)
	tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "echo", "consented")
	agent.expect("Allow?", 10*time.Second)
	screen := agent.screen()
	for _, bad := range []string{"\x1b]52", "\x1b[2J", "\u202E", "\x07", "Org\x1b", "evil\nline2"} {
		if strings.Contains(screen, bad) {
			t.Errorf("consent prompt contains raw %q", bad)
		}
	}
	for _, want := range []string{"<U+202E>", "alice", "recorded", "shell"} {
		if !strings.Contains(screen, want) {
			t.Errorf("consent prompt lacks %q", want)
		}
	}
	code := securityCode(t, tech)
	if !strings.Contains(screen, code) {
		t.Errorf("consent prompt does not show the technician's security code %s", code)
	}
	agent.send("yes\r")
	<-tech.done
	if !strings.Contains(tech.Output(), "consented") {
		t.Fatalf("tech output %q lacks the command's output", tech.Output())
	}
}

// securityCode reads the code tech printed.
func securityCode(t *testing.T, p *proc) string {
	t.Helper()
	var code string
	eventually(t, "security code", 10*time.Second, func() bool {
		out := p.Output()
		i := strings.Index(out, "Security code: ")
		if i < 0 {
			return false
		}
		code = strings.Fields(out[i+len("Security code: "):])[0]
		return true
	})
	return code
}

func TestAbsoluteSessionLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "--max-session", "2s")
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	r := e.techRun("", "connect", d.name, "--", "sleep", "30")
	if r.code == 0 || !strings.Contains(r.stderr, "absolute session limit") {
		t.Fatalf("got code %d stderr %q", r.code, r.stderr)
	}
	eventually(t, "screen lock", 5*time.Second, func() bool { return d.locks() == 1 })
}

func TestCtrlCOnAgentJoinEndsTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "session", "new", "--", "sleep", "60")
	code := joinCode(t, tech)
	lockLog := filepath.Join(e.dir, "lock.log")
	agent := startPTY(t, e.dir, bin.agent, e.joinArgs("attended", code, e.url, "echo locked >> "+lockLog)...)
	agent.expect("Session active", 10*time.Second)
	agent.send("\x03")
	if c := agent.exitCode(10 * time.Second); c != 0 {
		t.Errorf("agent join exited %d after Ctrl-C, want 0", c)
	}
	<-tech.done
	if !strings.Contains(tech.Output(), "ended by the end user") {
		t.Fatalf("technician not told: %q", tech.Output())
	}
	if got := strings.Count(mustRead(t, lockLog), "locked"); got != 1 {
		t.Fatalf("screen locked %d times, want 1", got)
	}
}

func TestDeviceKeyIsPinned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("first session: %s", r.stderr)
	}
	known := filepath.Join(e.tech, "known_devices.json")
	b := mustRead(t, known)
	if !strings.Contains(b, "SHA256:") {
		t.Fatalf("no device key pinned: %q", b)
	}
	os.WriteFile(known, []byte(strings.Replace(b, "SHA256:", "SHA256:00", 1)), 0o600)
	r := e.techRun("", "connect", d.name, "--", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "changed") {
		t.Fatalf("changed device key accepted: code %d stderr %q", r.code, r.stderr)
	}
}
