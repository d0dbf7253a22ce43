package x11

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Session is the graphical session an agent running as a service shows:
// the X display and the Xauthority file that opens it.
type Session struct {
	Display    string
	XAuthority string // empty when none was found (the server may need none)
	UID        int    // the session user
	Via        string // how it was found, for logs: "logind session 3", "process 1234"
}

// Candidate is a process whose environment names a graphical session.
type Candidate struct {
	PID        int
	UID        int
	Display    string
	XAuthority string
	Wayland    bool // WAYLAND_DISPLAY set or XDG_SESSION_TYPE=wayland
}

// SessionFinder finds the active graphical session. The zero value is not
// usable; DefaultSessionFinder returns the one FindSession uses.
type SessionFinder struct {
	// ProcRoot is the proc file system ("/proc").
	ProcRoot string
	// SocketDir holds the X servers' sockets ("/tmp/.X11-unix").
	SocketDir string
	// Loginctl runs loginctl with args and returns its output; nil when
	// there is no systemd-logind.
	Loginctl func(ctx context.Context, args ...string) ([]byte, error)
	// MaxProcs bounds how many processes are examined.
	MaxProcs int
}

// maxEnviron bounds how much of one process's environment is read.
const maxEnviron = 128 << 10

// DefaultSessionFinder examines /proc and uses loginctl when installed.
func DefaultSessionFinder() *SessionFinder {
	f := &SessionFinder{ProcRoot: "/proc", SocketDir: "/tmp/.X11-unix", MaxProcs: 65536}
	if path, err := exec.LookPath("loginctl"); err == nil {
		f.Loginctl = func(ctx context.Context, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, path, args...).Output()
		}
	}
	return f
}

// FindSession finds the active graphical session's DISPLAY and XAUTHORITY
// (service mode): the active local logind session when systemd-logind
// answers, else the processes' environments. A Wayland session is refused
// with WaylandReason.
func FindSession() (Session, error) { return DefaultSessionFinder().Find() }

// Find returns the session; see FindSession.
func (f *SessionFinder) Find() (Session, error) {
	ls, lerr := f.logindSession()
	if lerr == nil && ls.wayland {
		return Session{}, errors.New(WaylandReason + " (logind session " + ls.id + ")")
	}
	cands, err := f.Candidates()
	if err != nil {
		return Session{}, err
	}
	if lerr == nil {
		return f.fromLogind(ls, cands), nil
	}
	return f.fromProcesses(cands)
}

// fromLogind completes the logind session's display with an Xauthority
// from one of the user's processes on that display, else the user's
// ~/.Xauthority.
func (f *SessionFinder) fromLogind(ls logindSession, cands []Candidate) Session {
	s := Session{Display: ls.display, UID: ls.uid, Via: "logind session " + ls.id}
	for _, c := range cands {
		if c.UID == ls.uid && c.Display == ls.display && c.XAuthority != "" {
			s.XAuthority = c.XAuthority
			return s
		}
	}
	s.XAuthority = homeXauthority(ls.uid)
	return s
}

// fromProcesses picks the best X11 candidate: a display whose socket
// exists, a non-root user before root, one with an Xauthority, the pair
// most processes share, then the lowest display.
func (f *SessionFinder) fromProcesses(cands []Candidate) (Session, error) {
	type pair struct {
		display, xauth string
		uid            int
	}
	count := map[pair]int{}
	first := map[pair]int{}
	sawWayland := false
	for _, c := range cands {
		if c.Wayland {
			sawWayland = true
			continue
		}
		if !f.socketExists(c.Display) {
			continue
		}
		p := pair{c.Display, c.XAuthority, c.UID}
		if count[p] == 0 {
			first[p] = c.PID
		}
		count[p]++
	}
	if len(count) == 0 {
		if sawWayland {
			return Session{}, errors.New(WaylandReason)
		}
		return Session{}, errors.New("x11: no graphical session found (no process with DISPLAY set for a running X server)")
	}
	pairs := make([]pair, 0, len(count))
	for p := range count {
		pairs = append(pairs, p)
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(
			cmp.Compare(b2i(a.uid == 0), b2i(b.uid == 0)),
			cmp.Compare(b2i(a.xauth == ""), b2i(b.xauth == "")),
			cmp.Compare(count[b], count[a]),
			strings.Compare(a.display, b.display),
			strings.Compare(a.xauth, b.xauth))
	})
	best := pairs[0]
	s := Session{Display: best.display, XAuthority: best.xauth, UID: best.uid, Via: "process " + strconv.Itoa(first[best])}
	if s.XAuthority == "" {
		s.XAuthority = homeXauthority(s.UID)
	}
	return s, nil
}

// socketExists reports whether a local display's X socket is present;
// remote displays (host:N) are skipped.
func (f *SessionFinder) socketExists(display string) bool {
	network, addr, _, _, err := parseDisplay(display)
	if err != nil || network != "unix" {
		return false
	}
	_, err = os.Stat(filepath.Join(f.SocketDir, filepath.Base(addr)))
	return err == nil
}

// homeXauthority returns ~/.Xauthority of uid when it exists.
func homeXauthority(uid int) string {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return ""
	}
	p := filepath.Join(u.HomeDir, ".Xauthority")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Candidates lists the processes (at most MaxProcs examined) whose
// environment sets DISPLAY or a Wayland session, in PID order. Processes
// that vanish or cannot be read are skipped.
func (f *SessionFinder) Candidates() ([]Candidate, error) {
	entries, err := os.ReadDir(f.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("x11: read %s: %w", f.ProcRoot, err)
	}
	var out []Candidate
	seen := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if seen++; seen > f.MaxProcs {
			break
		}
		if c, ok := f.candidate(pid); ok {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Candidate) int { return cmp.Compare(a.PID, b.PID) })
	return out, nil
}

// candidate reads one process's owner and environment.
func (f *SessionFinder) candidate(pid int) (Candidate, bool) {
	dir := filepath.Join(f.ProcRoot, strconv.Itoa(pid))
	st, err := os.Stat(dir)
	if err != nil {
		return Candidate{}, false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return Candidate{}, false
	}
	env, err := readEnviron(filepath.Join(dir, "environ"))
	if err != nil {
		return Candidate{}, false
	}
	c := Candidate{PID: pid, UID: int(sys.Uid), Display: env["DISPLAY"], XAuthority: env["XAUTHORITY"],
		Wayland: env["WAYLAND_DISPLAY"] != "" || strings.EqualFold(env["XDG_SESSION_TYPE"], "wayland")}
	return c, c.Display != "" || c.Wayland
}

// sessionKeys are the environment variables candidate reads.
var sessionKeys = []string{"DISPLAY", "XAUTHORITY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"}

// readEnviron reads the session variables from a NUL-separated environ
// file, at most maxEnviron bytes of it.
func readEnviron(path string) (map[string]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxEnviron))
	if err != nil {
		return nil, err
	}
	return parseEnviron(b), nil
}

// parseEnviron extracts sessionKeys from NUL-separated KEY=VALUE entries.
func parseEnviron(b []byte) map[string]string {
	out := map[string]string{}
	for _, kv := range bytes.Split(b, []byte{0}) {
		k, v, ok := bytes.Cut(kv, []byte("="))
		if ok && slices.Contains(sessionKeys, string(k)) {
			out[string(k)] = string(v)
		}
	}
	return out
}

// logindSession is the active local graphical session logind reports.
type logindSession struct {
	id, display string
	uid         int
	wayland     bool
}

// loginctlTimeout bounds each loginctl call.
const loginctlTimeout = 3 * time.Second

// logindSession asks loginctl for the active, local, graphical session.
func (f *SessionFinder) logindSession() (logindSession, error) {
	if f.Loginctl == nil {
		return logindSession{}, errors.New("no loginctl")
	}
	ctx, cancel := context.WithTimeout(context.Background(), loginctlTimeout)
	defer cancel()
	list, err := f.Loginctl(ctx, "list-sessions", "--no-legend")
	if err != nil {
		return logindSession{}, fmt.Errorf("loginctl list-sessions: %w", err)
	}
	for _, id := range sessionIDs(list) {
		out, err := f.Loginctl(ctx, "show-session", id, "-p", "Type", "-p", "Display", "-p", "Active", "-p", "Remote", "-p", "User")
		if err != nil {
			continue
		}
		if s, ok := parseShowSession(id, out); ok {
			return s, nil
		}
	}
	return logindSession{}, errors.New("no active local graphical logind session")
}

// sessionIDs returns the first column of `loginctl list-sessions
// --no-legend` (at most 256 sessions).
func sessionIDs(out []byte) []string {
	var ids []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && len(ids) < 256 {
			ids = append(ids, f[0])
		}
	}
	return ids
}

// parseShowSession reads `loginctl show-session` KEY=VALUE lines and
// accepts an active, local x11 session with a display, or an active local
// wayland session.
func parseShowSession(id string, out []byte) (logindSession, bool) {
	p := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			p[k] = v
		}
	}
	if p["Active"] != "yes" || p["Remote"] == "yes" {
		return logindSession{}, false
	}
	uid, err := strconv.Atoi(p["User"])
	if err != nil {
		return logindSession{}, false
	}
	s := logindSession{id: id, display: p["Display"], uid: uid}
	switch p["Type"] {
	case "wayland":
		s.wayland = true
		return s, true
	case "x11":
		return s, s.display != ""
	}
	return logindSession{}, false
}
