//go:build !linux

package agent

import (
	"log/slog"
	"os/exec"
	"syscall"
)

// scope is where one session's processes run. Outside Linux it is the
// process group of the shell or command only: a process that leaves it
// (setsid, a double fork into a new group) is not found by the end path.
type scope struct {
	pid int
}

func newScope(id string, log *slog.Logger) *scope { return &scope{} }

// prepare starts pipes in a session and process group of their own.
func (sc *scope) prepare(cmd *exec.Cmd, pipes bool) {
	if pipes {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
}

func (sc *scope) withoutCgroup() bool { return false }
func (sc *scope) started(pid int)     { sc.pid = pid }
func (sc *scope) waited(pid int)      {}

// kill kills the process group.
func (sc *scope) kill() {
	if sc.pid > 0 {
		syscall.Kill(-sc.pid, syscall.SIGKILL)
	}
}
