package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// debs are the packages `make deb` built for one test run.
type debs struct{ dist, relay, agent string }

// makeDebs runs `make deb` with its output in a temporary directory.
func makeDebs(t *testing.T, dir string) debs {
	t.Helper()
	root := repoRoot(t)
	mustRun(t, root, nil, "make", "--no-print-directory", "deb", "BIN="+filepath.Join(dir, "bin"), "DIST="+dir,
		"VERSION=1.2.3-test", "COMMIT=0123456789abcdef", "SOURCE_DATE_EPOCH=1700000000")
	d := debs{dist: dir}
	var err error
	if d.relay, err = onlyMatch(dir, "tether-relay_*_"+runtime.GOARCH+".deb"); err != nil {
		t.Fatal(err)
	}
	if d.agent, err = onlyMatch(dir, "tether-agent_*_"+runtime.GOARCH+".deb"); err != nil {
		t.Fatal(err)
	}
	return d
}

// onlyMatch returns the one file of dir matching pattern.
func onlyMatch(dir, pattern string) (string, error) {
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(m) != 1 {
		return "", &os.PathError{Op: "glob", Path: filepath.Join(dir, pattern), Err: os.ErrNotExist}
	}
	return m[0], nil
}

// TestDeb builds the .deb packages with make deb, inspects them with
// dpkg-deb, extracts them and checks their units with systemd-analyze
// verify, their man pages and completions, and that a second build gives
// the same bytes; in CI (as root) it installs them, runs the installed
// relay as its unit would and removes them again.
func TestDeb(t *testing.T) {
	needLong(t)
	need(t, "make", "git", "dpkg-deb", "systemd-analyze")
	if runtime.GOOS != "linux" {
		t.Skip(".deb packages are built on linux")
	}
	d := makeDebs(t, t.TempDir())

	t.Run("control", func(t *testing.T) {
		info := mustRun(t, "", nil, "dpkg-deb", "-I", d.relay)
		for _, want := range []string{"Package: tether-relay", "Version: 1.2.3+test", "Architecture: " + runtime.GOARCH,
			"Maintainer: ", "postinst", "prerm", "postrm", "conffiles"} {
			if !strings.Contains(info, want) {
				t.Errorf("dpkg-deb -I tether-relay lacks %q:\n%s", want, info)
			}
		}
		if got := mustRun(t, "", nil, "dpkg-deb", "-f", d.relay, "Version"); got != "1.2.3+test\n" {
			t.Errorf("Version %q", got)
		}
		if conf := mustRun(t, "", nil, "sh", "-c", "dpkg-deb --ctrl-tarfile \"$1\" | tar -xO ./conffiles", "sh", d.relay); conf != "/etc/default/tether-relay\n" {
			t.Errorf("conffiles %q, want /etc/default/tether-relay", conf)
		}
	})

	t.Run("contents", func(t *testing.T) {
		checkContents(t, d.relay, []string{
			"-rwxr-xr-x root/root ./usr/bin/relay", "-rwxr-xr-x root/root ./usr/bin/tech",
			"-rw-r--r-- root/root ./usr/lib/systemd/system/tether-relay.service",
			"-rw-r--r-- root/root ./usr/lib/sysusers.d/tether-relay.conf",
			"-rw-r--r-- root/root ./etc/default/tether-relay",
			"./usr/share/man/man1/relay-serve.1.gz", "./usr/share/man/man1/tech-connect.1.gz",
			"./usr/share/bash-completion/completions/relay", "./usr/share/zsh/vendor-completions/_tech",
			"./usr/share/fish/vendor_completions.d/relay.fish", "./usr/share/doc/tether-relay/copyright",
		}, []string{"./usr/bin/agent"})
		checkContents(t, d.agent, []string{
			"-rwxr-xr-x root/root ./usr/bin/agent",
			"-rw-r--r-- root/root ./usr/lib/systemd/user/tether-agent.service",
			"./usr/share/man/man1/agent-run.1.gz", "./usr/share/bash-completion/completions/agent",
			"./usr/share/zsh/vendor-completions/_agent", "./usr/share/fish/vendor_completions.d/agent.fish",
		}, []string{"./usr/bin/relay", "./usr/bin/tech"})
	})

	x := t.TempDir()
	mustRun(t, "", nil, "dpkg-deb", "-x", d.relay, x)
	mustRun(t, "", nil, "dpkg-deb", "-x", d.agent, x)

	t.Run("programs", func(t *testing.T) {
		for _, p := range programs {
			got := mustRun(t, "", nil, filepath.Join(x, "usr", "bin", p), "--version")
			if want := p + " 1.2.3-test (commit 0123456789abcdef)\n"; got != want {
				t.Errorf("%s --version: %q, want %q", p, got, want)
			}
		}
	})

	t.Run("units", func(t *testing.T) {
		// The extracted units point at the extracted programs; systemd
		// must accept every line (it reports what it ignores but exits 0).
		rt := shortTempDir(t)
		for _, u := range []struct {
			path string
			user bool
		}{
			{"usr/lib/systemd/system/tether-relay.service", false},
			{"usr/lib/systemd/user/tether-agent.service", true},
		} {
			unit := mustRead(t, filepath.Join(x, u.path))
			unit = strings.ReplaceAll(unit, "/usr/bin/", filepath.Join(x, "usr", "bin")+"/")
			file := filepath.Join(rt, filepath.Base(u.path))
			if err := os.WriteFile(file, []byte(unit), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"verify", "--man=no", file}
			if u.user {
				args = append([]string{"--user"}, args...)
			}
			verifyUnit(t, []string{"XDG_RUNTIME_DIR=" + rt}, args...)
		}
		relay := mustRead(t, filepath.Join(x, "usr/lib/systemd/system/tether-relay.service"))
		for _, want := range []string{"Type=notify", "User=tether", "StateDirectory=tether", "ProtectSystem=strict",
			"NoNewPrivileges=yes", "ExecStart=/usr/bin/relay serve --data %S/tether $TETHER_RELAY_OPTS"} {
			if !strings.Contains(relay, "\n"+want+"\n") {
				t.Errorf("tether-relay.service lacks the line %q", want)
			}
		}
	})

	t.Run("man pages", func(t *testing.T) {
		pages, _ := filepath.Glob(filepath.Join(x, "usr/share/man/man1/*.1.gz"))
		if len(pages) < 20 {
			t.Fatalf("only %d man pages", len(pages))
		}
		for _, p := range pages {
			text := gunzip(t, p)
			if !strings.HasPrefix(text, ".nh\n.TH ") || !strings.Contains(text, ".SH NAME") {
				t.Errorf("%s is not a man page:\n%.200s", filepath.Base(p), text)
			}
		}
		if _, err := exec.LookPath("man"); err == nil {
			out := mustRun(t, "", []string{"MANWIDTH=80"}, "man", "-l", filepath.Join(x, "usr/share/man/man1/relay-serve.1.gz"))
			if !strings.Contains(out, "relay serve") || !strings.Contains(out, "--listen") {
				t.Errorf("man -l relay-serve rendered:\n%s", out)
			}
		}
	})

	t.Run("completions", func(t *testing.T) {
		for file, want := range map[string]string{
			"usr/share/bash-completion/completions/relay":    "__start_relay",
			"usr/share/zsh/vendor-completions/_tech":         "#compdef tech",
			"usr/share/fish/vendor_completions.d/agent.fish": "complete -c agent",
		} {
			if got := mustRead(t, filepath.Join(x, file)); !strings.Contains(got, want) {
				t.Errorf("%s lacks %q", file, want)
			}
		}
	})

	t.Run("reproducible", func(t *testing.T) {
		again := makeDebs(t, t.TempDir())
		for _, pair := range [][2]string{{d.relay, again.relay}, {d.agent, again.agent}} {
			if !bytes.Equal(mustReadBytes(t, pair[0]), mustReadBytes(t, pair[1])) {
				t.Errorf("%s differs between two builds", filepath.Base(pair[0]))
			}
		}
	})

	t.Run("install", func(t *testing.T) { installDebs(t, d) })
}

// checkContents requires dpkg-deb -c's listing of deb to have a line
// containing each of want (owner, mode and path) and none ending in
// unwanted.
func checkContents(t *testing.T, deb string, want, unwanted []string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(mustRun(t, "", nil, "dpkg-deb", "-c", deb), "\n") {
		f := strings.Fields(l)
		if len(f) >= 6 {
			lines = append(lines, f[0]+" "+f[1]+" "+f[len(f)-1])
		}
	}
	all := strings.Join(lines, "\n") + "\n"
	for _, w := range want {
		if !strings.Contains(all, w+"\n") {
			t.Errorf("%s lacks %q", filepath.Base(deb), w)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(all, " "+u+"\n") {
			t.Errorf("%s holds %q", filepath.Base(deb), u)
		}
	}
}

// verifyUnit runs systemd-analyze and requires status 0 and no complaint.
func verifyUnit(t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("systemd-analyze", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// installDebs installs the packages into this system with dpkg, in CI and
// as root only, runs the installed relay the way its unit does (Type=notify:
// READY=1 once it serves), and purges the packages again.
func installDebs(t *testing.T, d debs) {
	if os.Getenv("TETHER_CI") == "" || os.Geteuid() != 0 {
		t.Skip("installs into this system: only in CI (TETHER_CI=1) as root; the extracted packages were checked above")
	}
	need(t, "dpkg", "runuser")
	if exec.Command("dpkg", "-s", "tether-relay").Run() == nil || exec.Command("dpkg", "-s", "tether-agent").Run() == nil {
		t.Skip("a tether package is installed on this system: not replacing it")
	}
	_, userErr := exec.Command("getent", "passwd", "tether").Output()
	_, dirErr := os.Stat("/var/lib/tether")
	for _, p := range []string{"/usr/bin/relay", "/usr/bin/tech", "/usr/bin/agent"} {
		if _, err := os.Stat(p); err == nil {
			if exec.Command("dpkg", "-S", p).Run() != nil {
				t.Skipf("%s exists and belongs to no package: not overwriting it", p)
			}
		}
	}
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "tether-relay", "tether-agent").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge: %v\n%s", err, out)
		}
		// A purge keeps the service's user and data (audit logs outlive
		// the package); what this test made, it removes.
		if os.IsNotExist(dirErr) {
			os.RemoveAll("/var/lib/tether")
		}
		if userErr != nil {
			exec.Command("userdel", "tether").Run()
		}
	})
	mustRun(t, "", nil, "dpkg", "-i", d.relay, d.agent)
	if got := mustRun(t, "", nil, "/usr/bin/relay", "--version"); !strings.HasPrefix(got, "relay 1.2.3-test ") {
		t.Errorf("installed relay --version: %q", got)
	}
	if fi, err := os.Stat("/var/lib/tether"); err != nil || fi.Mode().Perm() != 0o700 || owner(fi) != lookupUID(t, "tether") {
		t.Errorf("/var/lib/tether: %v %v, want a 0700 directory of the tether user", err, fi)
	}
	rt := shortTempDir(t)
	verifyUnit(t, nil, "verify", "--man=no", "/usr/lib/systemd/system/tether-relay.service")
	verifyUnit(t, []string{"XDG_RUNTIME_DIR=" + rt}, "--user", "verify", "--man=no", "/usr/lib/systemd/user/tether-agent.service")
	if _, err := exec.LookPath("man"); err == nil {
		if out, err := exec.Command("man", "-w", "relay-serve").Output(); err != nil || !strings.Contains(string(out), "/usr/share/man/man1/relay-serve.1.gz") {
			t.Errorf("man -w relay-serve: %v %q", err, out)
		}
	}
	runInstalledRelay(t, rt)
}

// runInstalledRelay starts /usr/bin/relay serve as the unit would: as the
// tether user, on the package's state directory, with NOTIFY_SOCKET; it
// must initialise the directory and send READY=1.
func runInstalledRelay(t *testing.T, rt string) {
	t.Helper()
	sock := filepath.Join(rt, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The service's user must reach the socket, as it reaches systemd's.
	if err := os.Chmod(rt, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("runuser", "-u", "tether", "--", "/usr/bin/relay", "serve", "--data", "/var/lib/tether", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1" {
		t.Fatalf("installed relay: no READY=1 (%v, %q)\n%s", err, buf[:n], out.String())
	}
	if fi, err := os.Stat("/var/lib/tether/relay.db"); err != nil || owner(fi) != lookupUID(t, "tether") {
		t.Errorf("/var/lib/tether/relay.db: %v, want it made by the tether user", err)
	}
}

// owner is a file's owner's user ID.
func owner(fi os.FileInfo) uint32 { return fi.Sys().(*syscall.Stat_t).Uid }

// lookupUID returns a user's ID.
func lookupUID(t *testing.T, name string) uint32 {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	id, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(id)
}

// shortTempDir is a temporary directory with a short path (unix socket
// paths are limited to about 100 bytes).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tr")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o700)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func mustRead(t *testing.T, path string) string { return string(mustReadBytes(t, path)) }

func mustReadBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gunzip returns the decompressed content of a .gz file.
func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b)
}
