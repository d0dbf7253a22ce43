package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Linux confinement of a session's processes. Two mechanisms, both used
// when available:
//
//   - A cgroup v2 scope: when the agent's own cgroup is on a cgroup2 mount
//     and writable by the agent (delegated), every session process starts
//     directly in a child cgroup made for the session (clone3 with
//     CLONE_INTO_CGROUP), and the end path writes cgroup.kill (or kills
//     every PID in cgroup.procs), then removes the cgroup. Nothing started
//     inside can leave it without privileges the session does not have.
//   - Process tracking: the agent makes itself a child subreaper
//     (PR_SET_CHILD_SUBREAPER), so orphans of a session reparent to it
//     instead of init, and every session process carries the marker
//     TETHER_SESSION_PROC=<session ID> in its environment. The end path
//     kills, repeatedly until none is left, the process group and session
//     of the shell, every process carrying the marker, and all their
//     descendants, found through /proc. Adopted orphans are reaped.

// noCgroupEnv lets tests force process tracking alone; not for production.
const noCgroupEnv = "TETHER_AGENT_TEST_NO_CGROUP"

// markerVar is the environment variable naming a process's session.
const markerVar = "TETHER_SESSION_PROC"

var (
	reaperOnce sync.Once
	// scopes maps session IDs with processes to their sessions' shell PIDs;
	// shells are left to their own Wait, the rest is reaped here.
	scopesMu sync.Mutex
	shells   = map[int]bool{} // PIDs os/exec waits for
	sids     = map[int]bool{} // session IDs (setsid) of session shells
	marks    = map[string]bool{}
)

// scope is where one session's processes run.
type scope struct {
	id     string
	cgroup string // the session's cgroup directory, or ""
	fd     int    // open cgroup directory until the process started, or -1
	pid    int    // the shell or command
	log    *slog.Logger
}

// newScope prepares a scope for session id: a cgroup when delegated.
func newScope(id string, log *slog.Logger) *scope {
	reaperOnce.Do(startReaper)
	sc := &scope{id: id, fd: -1, log: log}
	if os.Getenv(noCgroupEnv) != "" {
		return sc
	}
	parent, err := ownCgroup()
	if err != nil {
		log.Debug("no cgroup v2 scope; tracking processes", "why", err)
		return sc
	}
	dir := filepath.Join(parent, "tether-"+safeName(id)+"-"+randHex(4))
	if err := os.Mkdir(dir, 0o755); err != nil {
		log.Debug("no cgroup v2 scope; tracking processes", "why", err)
		return sc
	}
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(dir)
		return sc
	}
	sc.cgroup, sc.fd = dir, fd
	return sc
}

// safeName keeps the letters and digits of id (a hex session ID).
func safeName(id string) string {
	b := []byte(id)
	out := b[:0]
	for _, c := range b {
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			out = append(out, c)
		}
	}
	return string(out[:min(len(out), 16)])
}

// ownCgroup returns the directory of the agent's cgroup v2 when the agent
// may create cgroups below it.
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	var rel string
	found := false
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			rel, found = p, true
		}
	}
	if !found {
		return "", errors.New("no cgroup v2 hierarchy")
	}
	mnt, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(mnt, filepath.Clean("/"+rel))
	if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err != nil {
		return "", err
	}
	if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
		return "", fmt.Errorf("cgroup %s not delegated to the agent: %w", dir, err)
	}
	return dir, nil
}

// cgroup2Mount finds where the cgroup2 file system is mounted.
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		if fields := strings.Fields(pre); len(fields) >= 5 {
			return fields[4], nil
		}
	}
	return "", errors.New("cgroup2 is not mounted")
}

// prepare sets up cmd to start inside the scope, in a session of its own
// (PTYs get one from pty.Start; pipes get one here).
func (sc *scope) prepare(cmd *exec.Cmd, pipes bool) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if pipes {
		cmd.SysProcAttr.Setsid = true
	}
	if sc.fd >= 0 {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, sc.fd
	}
	cmd.Env = append(cmd.Env, markerVar+"="+sc.id)
}

// withoutCgroup gives up the cgroup (starting in it failed) and reports
// whether there was one, so the command can be built and started again.
func (sc *scope) withoutCgroup() bool {
	if sc.fd < 0 {
		return false
	}
	sc.log.Warn("could not start in a cgroup; tracking processes instead", "cgroup", sc.cgroup)
	sc.closeFD()
	os.Remove(sc.cgroup)
	sc.cgroup = ""
	return true
}

func (sc *scope) closeFD() {
	if sc.fd >= 0 {
		syscall.Close(sc.fd)
		sc.fd = -1
	}
}

// started registers the running shell or command.
func (sc *scope) started(pid int) {
	sc.closeFD()
	sc.pid = pid
	scopesMu.Lock()
	shells[pid], sids[pid], marks[sc.id] = true, true, true
	scopesMu.Unlock()
	method := "process tracking (subreaper)"
	if sc.cgroup != "" {
		method = "cgroup " + sc.cgroup
	}
	sc.log.Info("session processes confined", "method", method)
}

// waited notes that os/exec has reaped the shell or command.
func (sc *scope) waited(pid int) {
	scopesMu.Lock()
	delete(shells, pid)
	scopesMu.Unlock()
}

// kill kills every process of the scope and removes its cgroup.
func (sc *scope) kill() {
	sc.closeFD()
	if sc.cgroup != "" {
		adopt(sc.cgroupMembers())
		killCgroup(sc.cgroup)
	}
	if sc.pid > 0 {
		syscall.Kill(-sc.pid, syscall.SIGKILL)
		for range 50 {
			victims := sc.members()
			if len(victims) == 0 {
				break
			}
			adopt(victims)
			for pid := range victims {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for range 20 { // the killed take a moment to become zombies
		if reapAdopted() == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	scopesMu.Lock()
	delete(marks, sc.id)
	scopesMu.Unlock()
}

// adopt remembers which of victims are the agent's children (orphans it
// adopted), so that their zombies are reaped once they are killed.
func adopt(victims map[int]procInfo) {
	self := os.Getpid()
	scopesMu.Lock()
	defer scopesMu.Unlock()
	for pid, pi := range victims {
		if pi.ppid == self && !shells[pid] {
			adopted[pid] = true
		}
	}
}

// cgroupMembers returns the processes in the scope's cgroup.
func (sc *scope) cgroupMembers() map[int]procInfo {
	b, _ := os.ReadFile(filepath.Join(sc.cgroup, "cgroup.procs"))
	out := map[int]procInfo{}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			if pi, ok := readProc(pid); ok {
				out[pid] = pi
			}
		}
	}
	return out
}

// killCgroup kills everything in dir and removes it.
func killCgroup(dir string) {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err != nil {
		// Kernels before 5.14: kill the members one by one until none is left.
		for range 50 {
			b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			pids := strings.Fields(string(b))
			if len(pids) == 0 {
				break
			}
			for _, p := range pids {
				if pid, err := strconv.Atoi(p); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for range 200 {
		if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procInfo is what /proc/PID/stat says about one process.
type procInfo struct {
	ppid, pgid, sid int
	zombie          bool
}

// readProc parses /proc/PID/stat.
func readProc(pid int) (procInfo, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 5 {
		return procInfo{}, false
	}
	var pi procInfo
	pi.zombie = f[0] == "Z" || f[0] == "X"
	pi.ppid, _ = strconv.Atoi(f[1])
	pi.pgid, _ = strconv.Atoi(f[2])
	pi.sid, _ = strconv.Atoi(f[3])
	return pi, true
}

// allProcs reads every process in /proc.
func allProcs() map[int]procInfo {
	ents, _ := os.ReadDir("/proc")
	m := make(map[int]procInfo, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pi, ok := readProc(pid); ok {
			m[pid] = pi
		}
	}
	return m
}

// marker returns the session a process is marked with, or "".
func marker(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return ""
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(markerVar+"=")); ok {
			return string(v)
		}
	}
	return ""
}

// members returns the live processes of the scope: the shell's process
// group and session, processes marked with the session's ID, and all their
// descendants.
func (sc *scope) members() map[int]procInfo {
	procs := allProcs()
	self := os.Getpid()
	in := map[int]bool{}
	for pid, pi := range procs {
		if pid == self || pi.zombie {
			continue
		}
		if pid == sc.pid || pi.sid == sc.pid || pi.pgid == sc.pid || marker(pid) == sc.id {
			in[pid] = true
		}
	}
	for grew := true; grew; { // add descendants
		grew = false
		for pid, pi := range procs {
			if !in[pid] && !pi.zombie && in[pi.ppid] && pid != self {
				in[pid], grew = true, true
			}
		}
	}
	out := make(map[int]procInfo, len(in))
	for pid := range in {
		out[pid] = procs[pid]
	}
	return out
}

// adopted remembers orphans seen alive with a session's marker, so their
// zombies may be reaped once they die.
var adopted = map[int]bool{}

// reapAdopted reaps the agent's zombie children that came from sessions:
// orphans adopted through the subreaper (never the shells os/exec waits
// for, nor other commands the agent runs). It returns how many adopted
// orphans are still waiting to die.
func reapAdopted() int {
	self := os.Getpid()
	scopesMu.Lock()
	defer scopesMu.Unlock()
	waiting := 0
	for pid, pi := range allProcs() {
		if pi.ppid != self || shells[pid] {
			continue
		}
		if !pi.zombie {
			if adopted[pid] || marks[marker(pid)] {
				adopted[pid] = true
				waiting++
			}
			continue
		}
		if adopted[pid] || sids[pi.sid] {
			var ws syscall.WaitStatus
			if n, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); n == pid {
				delete(adopted, pid)
			}
		}
	}
	for pid := range adopted { // gone without us (reused PIDs are not ours)
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
			delete(adopted, pid)
		}
	}
	return waiting
}

// reapEvery is how often adopted orphans are looked for.
const reapEvery = 2 * time.Second

// startReaper makes the agent a child subreaper and reaps adopted orphans
// in the background.
func startReaper() {
	if err := setSubreaper(); err != nil {
		slog.Default().Warn("cannot become a child subreaper; orphaned session processes are found by their marker", "err", err)
		return
	}
	go func() {
		for range time.Tick(reapEvery) {
			scopesMu.Lock()
			busy := len(marks) > 0
			scopesMu.Unlock()
			if busy {
				reapAdopted()
			}
		}
	}()
}

// setSubreaper sets PR_SET_CHILD_SUBREAPER on the agent.
func setSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return e
	}
	return nil
}
