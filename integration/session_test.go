package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCommandOutputAndExitStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("clinic-pc-7")
	e.runAgent(d, "exit 0")
	tests := []struct {
		name     string
		args     []string
		stdout   string
		code     int
		stderrIn string
	}{
		{"arithmetic", []string{"sh", "-c", "echo $((6*7))"}, "42\n", 0, ""},
		{"exit status", []string{"sh", "-c", "exit 7"}, "", 7, ""},
		{"stderr kept apart", []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, "out\n", 3, "err\n"},
		{"one argument is a command line", []string{"echo a | tr a b"}, "b\n", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.techRun("", append([]string{"connect", d.name, "--"}, tc.args...)...)
			if r.stdout != tc.stdout || r.code != tc.code {
				t.Errorf("got stdout %q code %d, want %q code %d (stderr %q)", r.stdout, r.code, tc.stdout, tc.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.stderrIn) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.stderrIn)
			}
		})
	}
	eventually(t, "a lock per session", 5*time.Second, func() bool { return d.locks() == len(tests) })
}

func TestStdinReachesCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	r := e.techRun("hello through the channel\n", "connect", d.name, "--", "cat")
	if r.code != 0 || r.stdout != "hello through the channel\n" {
		t.Fatalf("got %q code %d, want the input echoed (stderr %q)", r.stdout, r.code, r.stderr)
	}
}

// TestRefusedConsentStartsNothing covers every way consent is not given:
// a refusal, no answer in time, and no terminal, desktop or consent command.
func TestRefusedConsentStartsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name    string
		consent string
		extra   []string
		want    string
	}{
		{"denied", "exit 1", nil, "did not consent"},
		{"timeout", "sleep 30", []string{"--consent-timeout", "500ms"}, "did not consent"},
		{"no terminal", "", nil, "no terminal to ask the end user"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := e.enroll("dev" + string(rune('a'+i)))
			d.env = []string{"DISPLAY="} // no desktop to ask on either
			e.runAgent(d, tc.consent, tc.extra...)
			marker := filepath.Join(e.dir, "started-"+d.name)
			r := e.techRun("", "connect", d.name, "--", "touch", marker)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("got code %d stderr %q, want a failure saying %q", r.code, r.stderr, tc.want)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("a process ran on the agent although consent was not given")
			}
			if n := d.locks(); n != 0 {
				t.Errorf("screen locked %d times for a session that never started, want 0", n)
			}
		})
	}
}

func TestAttendedSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "session", "new", "--", "echo", "attended-ok")
	code := joinCode(t, tech)
	lockLog := filepath.Join(e.dir, "lock.log")
	r := e.agentJoinLocking("attended", code, lockLog)
	if r.code != 0 || !strings.Contains(r.stderr, "Session ended") {
		t.Fatalf("agent join: code %d stderr %q", r.code, r.stderr)
	}
	<-tech.done
	if !strings.Contains(tech.Output(), "attended-ok") || tech.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("tech output %q exit %d, want attended-ok and 0", tech.Output(), tech.cmd.ProcessState.ExitCode())
	}
	// The code works once.
	r = e.agentJoin("attended2", code, e.url)
	if r.code == 0 || !strings.Contains(r.stderr, "invalid, expired or already used") {
		t.Fatalf("reused join code: code %d stderr %q", r.code, r.stderr)
	}
	if got := strings.Count(mustRead(t, lockLog), "locked"); got != 1 {
		t.Fatalf("screen locked %d times, want 1", got)
	}
}
