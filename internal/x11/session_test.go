package x11

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeProc builds a proc root with one directory per process: its environ
// (NUL-separated) and owner uid.
func fakeProc(t *testing.T, procs map[int]struct {
	uid int
	env []string
}) string {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		env := strings.Join(p.env, "\x00") + "\x00"
		if err := os.WriteFile(filepath.Join(dir, "environ"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, p.uid, p.uid); err != nil {
			t.Skipf("cannot chown fake proc entries (not root?): %v", err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "self"), 0o755); err != nil { // non-numeric: ignored
		t.Fatal(err)
	}
	return root
}

// fakeSockets makes a socket directory with X<N> files for the numbers.
func fakeSockets(t *testing.T, nums ...int) string {
	dir := t.TempDir()
	for _, n := range nums {
		if err := os.WriteFile(filepath.Join(dir, "X"+strconv.Itoa(n)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type proc = struct {
	uid int
	env []string
}

func TestFindSessionFromProcesses(t *testing.T) {
	desktop := map[int]proc{
		10: {0, []string{"DISPLAY=:5", "XAUTHORITY=/var/run/xauth-root", "HOME=/root"}},    // the display manager
		20: {1000, []string{"PATH=/bin", "DISPLAY=:5", "XAUTHORITY=/run/user/1000/xauth"}}, // the user's desktop
		21: {1000, []string{"DISPLAY=:5", "XAUTHORITY=/run/user/1000/xauth", "LANG=C"}},    // another of its programs
		30: {1001, []string{"DISPLAY=:9", "XAUTHORITY=/home/b/.Xauthority"}},               // stale: no socket
		31: {1002, []string{"DISPLAY=remote:0", "XAUTHORITY=/home/c/.Xauthority"}},         // forwarded: skipped
		40: {1000, []string{"TERM=xterm"}},                                                 // no display
		41: {1000, []string{"DISPLAY", "=x", "XAUTHORITY=/tmp/bogus"}},                     // malformed
	}
	cases := []struct {
		name    string
		procs   map[int]proc
		sockets []int
		want    Session
		err     string
	}{
		{"user desktop", desktop, []int{5}, Session{Display: ":5", XAuthority: "/run/user/1000/xauth", UID: 1000, Via: "process 20"}, ""},
		{"root only", map[int]proc{10: desktop[10]}, []int{5}, Session{Display: ":5", XAuthority: "/var/run/xauth-root", UID: 0, Via: "process 10"}, ""},
		{"no socket", desktop, []int{7}, Session{}, "no graphical session"},
		{"nothing", map[int]proc{40: desktop[40]}, []int{5}, Session{}, "no graphical session"},
		{"wayland", map[int]proc{50: {1000, []string{"WAYLAND_DISPLAY=wayland-0", "DISPLAY=:0"}}}, []int{0}, Session{}, "Wayland session"},
	}
	for _, c := range cases {
		f := &SessionFinder{ProcRoot: fakeProc(t, c.procs), SocketDir: fakeSockets(t, c.sockets...), MaxProcs: 100}
		got, err := f.Find()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: Find = %+v, %v; want error containing %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: Find = %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
}

func TestFindSessionFromLogind(t *testing.T) {
	procRoot := fakeProc(t, map[int]proc{
		20: {1000, []string{"DISPLAY=:1", "XAUTHORITY=/run/user/1000/gdm/Xauthority"}},
		22: {1001, []string{"DISPLAY=:2", "XAUTHORITY=/tmp/other"}},
	})
	show := map[string]string{
		"2": "Type=tty\nActive=yes\nRemote=no\nUser=1000\n",
		"3": "Type=x11\nDisplay=:1\nActive=no\nRemote=no\nUser=1000\n",
		"4": "Type=x11\nDisplay=:1\nActive=yes\nRemote=no\nUser=1000\n",
		"5": "Type=wayland\nActive=yes\nRemote=no\nUser=1000\n",
		"6": "Type=x11\nDisplay=:9\nActive=yes\nRemote=yes\nUser=1000\n",
	}
	loginctl := func(list string) func(context.Context, ...string) ([]byte, error) {
		return func(_ context.Context, args ...string) ([]byte, error) {
			switch {
			case args[0] == "list-sessions":
				return []byte(list), nil
			case args[0] == "show-session" && show[args[1]] != "":
				return []byte(show[args[1]]), nil
			}
			return nil, errors.New("no such session")
		}
	}
	cases := []struct {
		name, list string
		want       Session
		err        string
	}{
		{"active x11", "  2 1000 alice seat0 tty2\n  3 1000 alice seat0 tty7\n  4 1000 alice seat0 tty1\n", Session{Display: ":1", XAuthority: "/run/user/1000/gdm/Xauthority", UID: 1000, Via: "logind session 4"}, ""},
		{"wayland", "5 1000 alice seat0 tty2\n", Session{}, "needs X11 (a portal-based path may come later) (logind session 5)"},
		// No usable logind session: fall back to the processes (sockets
		// are not there, so nothing is found).
		{"remote only", "6 1000 alice\n99 1 x\n", Session{}, "no graphical session"},
	}
	for _, c := range cases {
		f := &SessionFinder{ProcRoot: procRoot, SocketDir: fakeSockets(t), MaxProcs: 100, Loginctl: loginctl(c.list)}
		got, err := f.Find()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: Find = %+v, %v; want error containing %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: Find = %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
}

func TestParseEnvironBounded(t *testing.T) {
	env := parseEnviron([]byte("A=1\x00DISPLAY=:3\x00XAUTHORITY=/x=y\x00\x00junk\x00WAYLAND_DISPLAY="))
	if env["DISPLAY"] != ":3" || env["XAUTHORITY"] != "/x=y" || len(env) != 3 {
		t.Fatalf("parseEnviron = %v", env)
	}
	// A huge environment is read only up to maxEnviron.
	path := filepath.Join(t.TempDir(), "environ")
	big := strings.Repeat("X", maxEnviron) + "\x00DISPLAY=:1\x00"
	if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readEnviron(path)
	if err != nil || got["DISPLAY"] != "" {
		t.Fatalf("readEnviron past the bound: %v, %v", got, err)
	}
}
