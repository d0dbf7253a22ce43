package consent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCommandTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("PIDFILE", pidFile)
	c := Command{Cmd: `sleep 30 & echo $! > "$PIDFILE"; wait`, Timeout: 300 * time.Millisecond}
	d, err := c.Ask(context.Background(), sampleRequest())
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("Ask error = %v, want ErrTimeout", err)
	}
	if d.Granted || d.Why != "no answer within 300ms" {
		t.Errorf("Ask = %+v, want refused with Why %q", d, "no answer within 300ms")
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("reading child pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("child pid %q: %v", b, err)
	}
	if !processGone(pid) {
		t.Errorf("sleeping child %d still running after timeout", pid)
	}
}

// processGone reports whether pid has exited, allowing a few seconds for the
// kernel to deliver SIGKILL. A zombie (dead, not yet reaped by its new
// parent) counts as gone.
func processGone(pid int) bool {
	for range 100 {
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			return true
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
