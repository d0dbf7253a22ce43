package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests lock a real screen: a private X server (Xvfb) per test with
// an xscreensaver daemon on it, locked by the agent's default lock methods
// (no --lock-cmd) and checked with `xscreensaver-command -time`.

// needPrograms skips the test when a program is missing, or fails it when
// TETHER_CI is set (the CI machine must have everything).
func needPrograms(t *testing.T, pkgs string, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("TETHER_CI") != "" {
				t.Fatalf("%s not installed (Debian packages: %s)", n, pkgs)
			}
			t.Skipf("%s not installed (Debian packages: %s); skipping the real screen lock test", n, pkgs)
		}
	}
}

// xscreen is one private X display with an xscreensaver daemon.
type xscreen struct {
	t       *testing.T
	display string // ":N"
}

// newXScreen starts Xvfb on a display number it picks itself (-displayfd,
// so parallel tests never collide) and xscreensaver on it, and waits until
// the daemon answers. As root, xscreensaver refuses to lock, so it then
// runs as nobody.
func newXScreen(t *testing.T) *xscreen {
	t.Helper()
	needPrograms(t, "xvfb xscreensaver", "Xvfb", "xscreensaver", "xscreensaver-command")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "320x240x24", "-nolisten", "tcp")
	xvfb.ExtraFiles = []*os.File{w}
	xvfb.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := xvfb.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	stopProcess(t, xvfb)
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
		r.Close()
	}()
	x := &xscreen{t: t}
	select {
	case n := <-num:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb reported display %q", n)
		}
		x.display = ":" + n
	case <-time.After(15 * time.Second):
		t.Fatal("Xvfb did not report its display")
	}
	x.startSaver()
	return x
}

// saverStarts is how many times startSaver starts xscreensaver before it
// gives up: under load, xscreensaver 6 now and then exits at start-up
// without a word (seen with several displays starting at once).
const saverStarts = 3

// startSaver runs xscreensaver with a config of its own: locking on, no
// splash, blank screen. It waits until the daemon answers, starting it
// again when it exited instead.
func (x *xscreen) startSaver() {
	t := x.t
	home, err := os.MkdirTemp("", "tether-xscreensaver-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	conf := "mode: blank\nlock: True\nlockTimeout: 0:00:00\ntimeout: 1:00:00\nsplash: False\n"
	if err := os.WriteFile(filepath.Join(home, ".xscreensaver"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		const nobody = 65534
		if err := os.Chown(home, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		os.Chown(filepath.Join(home, ".xscreensaver"), nobody, nobody)
	}
	deadline := time.Now().Add(45 * time.Second)
	for i := 1; ; i++ {
		exited := x.runSaver(home)
		if x.saverAnswers(exited, deadline) {
			return
		}
		if i == saverStarts {
			t.Fatalf("xscreensaver on %s exited at start-up %d times", x.display, i)
		}
		t.Logf("xscreensaver on %s exited at start-up; starting it again", x.display)
	}
}

// saverAnswers waits until xscreensaver answers (true) or exited is closed
// (false); it fails the test at the deadline.
func (x *xscreen) saverAnswers(exited <-chan struct{}, deadline time.Time) bool {
	x.t.Helper()
	for !strings.Contains(x.state(), "non-blanked") {
		select {
		case <-exited:
			return false
		default:
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("timed out after 45s waiting for xscreensaver to answer on %s", x.display)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// runSaver starts xscreensaver on x with HOME=home (as nobody when root:
// as root it refuses to lock) and returns a channel closed when it exits.
// It is killed, with its helpers, when the test ends.
func (x *xscreen) runSaver(home string) <-chan struct{} {
	t := x.t
	saver := exec.Command("xscreensaver", "-no-splash")
	saver.Env = append(os.Environ(), "DISPLAY="+x.display, "HOME="+home)
	saver.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Geteuid() == 0 {
		const nobody = 65534
		saver.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	log, err := os.Create(filepath.Join(t.TempDir(), "xscreensaver.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	saver.Stdout, saver.Stderr = log, log
	if err := saver.Start(); err != nil {
		t.Fatalf("start xscreensaver: %v", err)
	}
	exited := make(chan struct{})
	go func() { saver.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-saver.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("xscreensaver on %s said:\n%s", x.display, b)
		}
	})
	return exited
}

// stopProcess kills p and the helpers it started (its process group, by
// its own ID) when the test ends.
func stopProcess(t *testing.T, p *exec.Cmd) {
	t.Cleanup(func() {
		syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		p.Wait()
	})
}

// state is what xscreensaver says about the screen.
func (x *xscreen) state() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "xscreensaver-command", "-time")
	c.Env = append(os.Environ(), "DISPLAY="+x.display)
	out, _ := c.CombinedOutput()
	return string(out)
}

// locked reports whether the screen is locked now.
func (x *xscreen) locked() bool { return strings.Contains(x.state(), "screen locked") }

// runAgentOn starts `agent run` for d on a terminal, with the X display
// and no --lock-cmd unless extra gives one, and waits until it is online.
func (e *env) runAgentOn(d *device, x *xscreen, extra ...string) *ptyProc {
	e.t.Helper()
	env := []string{"HOME=" + d.userHome, "XDG_SESSION_ID=", "DBUS_SESSION_BUS_ADDRESS="}
	if x != nil {
		env = append(env, "DISPLAY="+x.display)
	} else {
		env = append(env, "DISPLAY=")
	}
	args := append([]string{"--config", d.home, "run", "--consent-cmd", "exit 0"}, extra...)
	p := startPTYEnv(e.t, e.dir, env, bin.agent, args...)
	e.waitOnline(d.name)
	return p
}

// activeSession returns the ID of the one active session, saying what the
// relay listed if there is none.
func (e *env) activeSession() string {
	e.t.Helper()
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r := e.techRun("", "sessions", "list", "--active", "--json")
		last = r.stdout + r.stderr
		var ss []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		}
		json.Unmarshal([]byte(r.stdout), &ss)
		if len(ss) == 1 && ss[0].State == "active" {
			return ss[0].ID
		}
	}
	e.t.Fatalf("no active session; the relay lists: %s", last)
	return ""
}

// lockAuditEntry is one entry of `tech audit export`.
type lockAuditEntry struct {
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	Outcome string            `json:"outcome"`
	Details map[string]string `json:"details"`
}

// lockAudited returns the audit entries with this action.
func (e *env) lockAudited(action string) []lockAuditEntry {
	e.t.Helper()
	r := e.techRun("", "audit", "export")
	if r.code != 0 {
		e.t.Fatalf("audit export: %s", r.stderr)
	}
	var out []lockAuditEntry
	for _, l := range lines(r.stdout) {
		var a lockAuditEntry
		if json.Unmarshal([]byte(l), &a) == nil && a.Action == action {
			out = append(out, a)
		}
	}
	return out
}

// waitLockAudit waits for the relay's audit entry of session id's screen
// lock and checks its outcome and result.
func (e *env) waitLockAudit(id, outcome, result string) {
	e.t.Helper()
	var got []lockAuditEntry
	eventually(e.t, "session.screen_lock audit entry for "+id, 15*time.Second, func() bool {
		got = e.lockAudited("session.screen_lock")
		for _, a := range got {
			if a.Target == id && a.Outcome == outcome && strings.Contains(a.Details["result"], result) {
				return true
			}
		}
		return false
	})
}

const lockedByXScreensaver = "screen locked (xscreensaver-command -lock)"

// lockCase is one way a session ends, run against a real screen.
type lockCase struct {
	name       string
	relayFlags []string
	// end ends the live session id; tech is `tech connect DEV -- sleep 60`.
	end func(t *testing.T, e *env, d *device, agent *ptyProc, tech *proc, id string)
	// reason is what the end user is told ended it.
	reason string
	// techTold: the technician's tech is still there to hear the result.
	techTold bool
	// audit: the relay is still there to audit the result.
	audit bool
}

// TestRealScreenLockOnEveryEndPath ends a session in every way there is
// and checks, each time, that the real screen is locked afterwards (and
// was not before), that the end user was told so, and the technician and
// the audit log too where they are still there to hear it.
func TestRealScreenLockOnEveryEndPath(t *testing.T) {
	t.Parallel()
	cases := []lockCase{
		{name: "technician exits", reason: "technician disconnected", audit: true,
			end: func(t *testing.T, e *env, d *device, agent *ptyProc, tech *proc, id string) { tech.kill9() }},
		{name: "end user types end", reason: "ended by the end user", techTold: true, audit: true,
			end: func(t *testing.T, e *env, d *device, agent *ptyProc, tech *proc, id string) { agent.send("end\r") }},
		{name: "admin kill", reason: "terminated by admin", techTold: true, audit: true,
			end: func(t *testing.T, e *env, d *device, agent *ptyProc, tech *proc, id string) {
				if r := e.techRun("", "sessions", "kill", id); r.code != 0 {
					t.Fatalf("sessions kill: %s", r.stderr)
				}
			}},
		{name: "idle timeout", relayFlags: []string{"--idle-timeout", "3s"}, reason: "idle timeout", techTold: true, audit: true,
			end: func(t *testing.T, e *env, d *device, agent *ptyProc, tech *proc, id string) {}},
		{name: "agent SIGTERM", reason: "the agent was stopped on the device", techTold: true, audit: true,
			end: func(t *testing.T, e *env, d *device, agent *ptyProc, tech *proc, id string) {
				agent.cmd.Process.Signal(syscall.SIGTERM)
				if code := agent.exitCode(20 * time.Second); code != 0 {
					t.Errorf("agent exited %d after SIGTERM, want 0", code)
				}
			}},
		{name: "agent SIGINT", reason: "the agent was stopped on the device", techTold: true, audit: true,
			end: func(t *testing.T, e *env, d *device, agent *ptyProc, tech *proc, id string) {
				agent.cmd.Process.Signal(syscall.SIGINT)
				if code := agent.exitCode(20 * time.Second); code != 0 {
					t.Errorf("agent exited %d after SIGINT, want 0", code)
				}
			}},
		{name: "lost relay connection", reason: "connection to the relay lost",
			end: func(t *testing.T, e *env, d *device, agent *ptyProc, tech *proc, id string) { e.relay.kill9() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			t0 := time.Now()
			x := newXScreen(t)
			t.Logf("X display %s ready after %v", x.display, time.Since(t0).Round(time.Millisecond))
			e := newEnv(t, tc.relayFlags...)
			d := e.enroll("dev")
			agent := e.runAgentOn(d, x)
			t.Logf("agent online after %v", time.Since(t0).Round(time.Millisecond))
			tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "sleep", "60")
			id := e.activeSession()
			t.Logf("session active after %v", time.Since(t0).Round(time.Millisecond))
			if x.locked() {
				t.Fatalf("screen locked before the session ended: %s", x.state())
			}
			tc.end(t, e, d, agent, tech, id)
			eventually(t, "the real screen to be locked", 20*time.Second, x.locked)
			agent.expect("Session ended: "+tc.reason, 10*time.Second)
			agent.expect("  "+lockedByXScreensaver+".", 10*time.Second)
			if tc.techTold {
				select {
				case <-tech.done:
				case <-time.After(20 * time.Second):
					t.Fatal("tech connect still running after the session ended")
				}
				out := tech.Output()
				if !strings.Contains(out, "device reports: "+lockedByXScreensaver) {
					t.Errorf("technician not told the lock result: %q", out)
				}
				if !strings.Contains(out, tc.reason) {
					t.Errorf("technician not told why (%q): %q", tc.reason, out)
				}
			}
			if tc.audit {
				e.waitLockAudit(id, "locked", lockedByXScreensaver)
			}
			if ents, _ := os.ReadDir(filepath.Join(d.home, "pending-locks")); len(ents) != 0 {
				t.Errorf("lock journal not emptied after the lock: %d entries", len(ents))
			}
		})
	}
}

// TestRealScreenLockAfterAgentKilled kills the agent with SIGKILL mid-
// session (nothing can run then) and starts it again: the screen must be
// locked at that start, the end user told, and the relay's audit log
// given the result once the agent is connected — "failed" too, when the
// lock at the restart fails.
func TestRealScreenLockAfterAgentKilled(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		restart []string // extra flags for the restarted agent
		outcome string
		result  string
	}{
		{"default methods", nil, "locked", lockedByXScreensaver},
		{"lock fails at restart", []string{"--lock-cmd", "exit 9"}, "failed", "screen lock FAILED: custom command: exit status 9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := newXScreen(t)
			e := newEnv(t)
			d := e.enroll("dev")
			agent := e.runAgentOn(d, x)
			start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "sleep", "60")
			id := e.activeSession()
			if ents, _ := os.ReadDir(filepath.Join(d.home, "pending-locks")); len(ents) != 1 {
				t.Fatalf("lock journal has %d entries during the session, want 1", len(ents))
			}
			agent.cmd.Process.Signal(syscall.SIGKILL)
			agent.exitCode(10 * time.Second)
			if x.locked() {
				t.Fatalf("screen locked although the killed agent could do nothing: %s", x.state())
			}
			again := e.runAgentOn(d, x, tc.restart...)
			again.expect("was still open when the agent stopped", 10*time.Second)
			again.expect(tc.result, 10*time.Second)
			if tc.outcome == "locked" {
				eventually(t, "the real screen to be locked at the agent's start", 20*time.Second, x.locked)
			} else if x.locked() {
				t.Errorf("screen locked although the lock command failed: %s", x.state())
			}
			e.waitLockAudit(id, tc.outcome, "the agent stopped during the session; at its next start: "+tc.result)
			eventually(t, "the lock journal to be emptied once reported", 10*time.Second, func() bool {
				ents, _ := os.ReadDir(filepath.Join(d.home, "pending-locks"))
				return len(ents) == 0
			})
			if n := len(e.lockAudited("session.screen_lock")); n != 1 {
				t.Errorf("%d screen lock audit entries, want 1", n)
			}
		})
	}
}

// TestAgentJoinLocksForAnUnfinishedSession leaves the lock journal entry
// a killed agent would leave (and damaged ones) in `agent join`'s config
// directory: the next join locks the screen before anything else, even
// one that then fails to join, tells the end user, and clears the journal.
func TestAgentJoinLocksForAnUnfinishedSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	home := filepath.Join(e.dir, "attended")
	dir := filepath.Join(home, "pending-locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{
		"0123456789abcdef0123456789abcdef.json": `{"session":"0123456789abcdef0123456789abcdef","tech":"tina","started":"2026-01-02T03:04:05Z"}`,
		"fedcba9876543210fedcba9876543210.json": `{"session":`,
	}
	for name, body := range entries {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lockLog := filepath.Join(e.dir, "lock.log")
	r := e.agentJoinLocking("attended", "ZZZZZ-ZZZZZ", lockLog)
	if r.code == 0 {
		t.Fatalf("join with a bad code succeeded: %s", r.stderr)
	}
	if got := strings.Count(mustRead(t, lockLog), "locked"); got != 1 {
		t.Errorf("screen locked %d times for two unfinished sessions, want once", got)
	}
	for _, want := range []string{"(0123456789abcdef0123456789abcdef, technician tina) was still open", "(fedcba9876543210fedcba9876543210, technician unknown) was still open", "screen locked (custom command)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("end user not told %q: %s", want, r.stderr)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d journal entries left after join", len(ents))
	}
}

// TestBrokenLockReportedAsFailed runs lock commands that fail in several
// ways: each time the end user, the technician and the audit log hear
// "screen lock FAILED" and why, and nothing the locker printed reaches a
// terminal unsanitized.
func TestBrokenLockReportedAsFailed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, cmd, want string
	}{
		{"false", "false", "screen lock FAILED: custom command: exit status 1"},
		{"nonexistent binary", "/nonexistent/tether-locker --now", "screen lock FAILED: custom command: exit status 127"},
		{"killed by a signal", "kill -9 $$", "screen lock FAILED: custom command: signal: killed"},
		{"hostile error text", `printf '\033[2J\033]0;owned\007\nrm -rf' >&2; exit 4`, "screen lock FAILED: custom command: exit status 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			d := e.enroll("dev")
			agent := e.runAgentOn(d, nil, "--lock-cmd", tc.cmd)
			r := e.techRun("", "connect", d.name, "--", "true")
			if r.code != 0 {
				t.Fatalf("tech connect: code %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "device reports: "+tc.want) {
				t.Errorf("technician not told the lock failed: %q", r.stderr)
			}
			agent.expect("WARNING: "+tc.want, 10*time.Second)
			for who, out := range map[string]string{"technician": r.stderr, "end user": agent.screen()} {
				if strings.Contains(out, "\033]0;owned") || strings.Contains(out, "\033[2J") {
					t.Errorf("the locker's escape sequences reached the %s's terminal: %q", who, out)
				}
				if strings.Contains(out, "screen was locked") || strings.Contains(out, "screen locked") {
					t.Errorf("the %s was told the screen was locked: %q", who, out)
				}
			}
			var id string
			eventually(t, "the session's record", 10*time.Second, func() bool {
				for _, a := range e.lockAudited("session.end") {
					id = a.Target
				}
				return id != ""
			})
			e.waitLockAudit(id, "failed", tc.want)
		})
	}
}

// TestSlowLockStillReported has the lock take longer than the agent's
// per-message send timeout: the result must still reach the technician
// and the audit log, since their time starts after the lock.
func TestSlowLockStillReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgentOn(d, nil, "--lock-cmd", "sleep 2.5")
	r := e.techRun("", "connect", d.name, "--", "true")
	if r.code != 0 {
		t.Fatalf("tech connect: code %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "device reports: screen locked (custom command)") {
		t.Errorf("technician not told of a slow lock: %q", r.stderr)
	}
	var id string
	eventually(t, "the session's record", 10*time.Second, func() bool {
		for _, a := range e.lockAudited("session.end") {
			id = a.Target
		}
		return id != ""
	})
	e.waitLockAudit(id, "locked", "screen locked (custom command)")
}
