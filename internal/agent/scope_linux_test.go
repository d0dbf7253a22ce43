package agent

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// TestScopeKillsEscapedProcesses starts commands that try to outlive the
// session in the ways a shell allows, with and without a cgroup, and
// checks that kill leaves none of them running.
func TestScopeKillsEscapedProcesses(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		if os.Getenv("TETHER_CI") != "" {
			t.Fatal("setsid is not installed (.ci/run installs it)")
		}
		t.Skip("setsid is not installed")
	}
	escapes := []struct{ name, cmd string }{
		{"setsid", "setsid sleep 1000 MARK &"},
		{"setsid fork", "setsid -f sleep 1000 MARK"},
		{"nohup", "nohup sleep 1000 MARK >/dev/null 2>&1 &"},
		{"double fork", "sh -c '(sleep 1000 MARK &) &'"},
		{"new process group", "sh -c 'set -m; sleep 1000 MARK &'"},
		{"setsid without environment", "setsid env -i sleep 1000 MARK &"},
	}
	for _, cg := range []bool{true, false} {
		for _, e := range escapes {
			name := e.name + map[bool]string{true: " cgroup", false: " tracking"}[cg]
			t.Run(name, func(t *testing.T) {
				if !cg {
					t.Setenv(noCgroupEnv, "1")
				}
				mark := fmt.Sprintf("0.%09d", rand.IntN(1e9)) // sleep adds it: harmless
				sc := newScope("test"+randHex(4), slog.Default())
				t.Cleanup(sc.kill)
				if cg && sc.cgroup == "" {
					sc.kill()
					t.Skip("no delegated cgroup v2 here")
				}
				cmd := strings.ReplaceAll(e.cmd, "MARK", mark) + "\nsleep 0.2\necho started"
				pr, err := startProcess(protocol.Start{Argv: []string{cmd}}, sc)
				if err != nil {
					t.Fatal(err)
				}
				eventuallyTrue(t, "the escape to run", func() bool { return len(withArg(mark)) > 0 })
				<-pr.exited // the shell is gone; the escape lives on
				if strings.Contains(e.name, "without environment") && !cg {
					for _, pid := range withArg(mark) {
						syscall.Kill(pid, syscall.SIGKILL)
					}
					t.Skip("an orphan that left the session and cleared its environment is found by cgroup only")
				}
				pr.kill()
				eventuallyTrue(t, "every escaped process to die", func() bool { return len(withArg(mark)) == 0 })
				if z := zombieChildren(); len(z) > 0 {
					for _, pid := range z {
						b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
						t.Errorf("adopted orphan left as a zombie: %s", b)
					}
				}
			})
		}
	}
}

// withArg returns the live processes with arg on their command line.
func withArg(arg string) []int {
	var out []int
	for pid, pi := range allProcs() {
		if pi.zombie {
			continue
		}
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if strings.Contains(string(b), arg) {
			out = append(out, pid)
		}
	}
	return out
}

func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// zombieChildren returns this process's children that died unreaped.
func zombieChildren() []int {
	var out []int
	for pid, pi := range allProcs() {
		if pi.ppid == os.Getpid() && pi.zombie {
			out = append(out, pid)
		}
	}
	return out
}
