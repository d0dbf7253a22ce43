package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestOnlineBackupRestores: a backup taken while the relay serves and
// writes (users added, each an audited change, in a bounded loop) restores
// into a new directory whose audit chain verifies, on which a relay serves
// with the same certificate pin, the admin signs in, and a recording made
// before the backup still verifies.
func TestOnlineBackupRestores(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("connect: %s", r.stderr)
	}
	recID := e.onlyRecording("complete")
	data := filepath.Join(e.dir, "data")
	if st, err := os.Lstat(filepath.Join(data, "host.sock")); err != nil || st.Mode().Type() != os.ModeSocket || st.Mode().Perm() != 0o600 {
		t.Fatalf("host socket: %v %v", st, err)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // concurrent audited writes while the backups run
		defer wg.Done()
		for i := range 12 {
			if r := e.techRun("", "users", "add", fmt.Sprintf("busy%d", i), "--role", "technician"); r.code != 0 {
				t.Errorf("users add during backup: %s", r.stderr)
				return
			}
		}
	}()
	out := filepath.Join(e.dir, "backup.tar")
	for i := range 3 {
		r := run(t, e.dir, "", bin.relay, "backup", "--data", data, "--out", out, "--force")
		if r.code != 0 || !strings.Contains(r.stderr, "from a snapshot taken by the running relay") {
			t.Fatalf("backup %d: code %d stderr %q", i, r.code, r.stderr)
		}
	}
	wg.Wait()
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	if r := run(t, e.dir, "", bin.relay, "backup", "--data", data, "--out", out); r.code == 0 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("backup over an existing file without --force: code %d stderr %q", r.code, r.stderr)
	}

	restored := filepath.Join(t.TempDir(), "data")
	if r := run(t, e.dir, "", bin.relay, "restore", "--data", restored, "--from", out); r.code != 0 {
		t.Fatalf("restore: %s", r.stderr)
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", restored); r.code != 0 {
		t.Fatalf("audit verify of the restored copy: %s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(restored, "recordings", recID+".rec")); err != nil {
		t.Errorf("recording not restored: %v", err)
	}

	e2 := &env{t: t, dir: filepath.Dir(restored)}
	e2.tech = filepath.Join(e2.dir, "tech")
	e2.startRelay()
	if e2.fp != e.fp {
		t.Errorf("restored relay's pin %s, want the original %s", e2.fp, e.fp)
	}
	if r := e2.techRun(e.adminPW+"\n", "login", "--relay", e2.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("admin login on the restored relay: %s", r.stderr)
	}
	if r := e2.techRun("", "recordings", "verify", recID, "--identity", e.reviewer); r.code != 0 {
		t.Errorf("recording on the restored relay: %s", r.stderr)
	}
	r := e2.techRun("", "audit", "export")
	for _, want := range []string{`"action":"relay.backup"`, `"action":"relay.restore"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("restored audit log lacks %s", want)
		}
	}
}

// TestRestoreRefuses: restore refuses a directory that is not empty and
// an archive that is cut or edited, writing nothing; a backup of a
// stopped relay restores.
func TestRestoreRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.stopRelay()
	data := filepath.Join(e.dir, "data")
	out := filepath.Join(e.dir, "offline.tar")
	if r := run(t, e.dir, "", bin.relay, "backup", "--data", data, "--out", out); r.code != 0 || !strings.Contains(r.stderr, "stopped relay") {
		t.Fatalf("offline backup: code %d stderr %q", r.code, r.stderr)
	}
	if r := run(t, e.dir, "", bin.relay, "restore", "--data", data, "--from", out); r.code == 0 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("restore over the live data directory: code %d stderr %q", r.code, r.stderr)
	}
	good, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	edited := []byte(strings.Replace(string(good), "BEGIN CERTIFICATE", "BEGIN CERTIFICATf", 1))
	for name, body := range map[string][]byte{"cut": good[:len(good)/2], "edited": edited, "not a tar": []byte("hello\n")} {
		bad := filepath.Join(e.dir, name+".tar")
		os.WriteFile(bad, body, 0o600)
		parent := t.TempDir()
		r := run(t, e.dir, "", bin.relay, "restore", "--data", filepath.Join(parent, "data"), "--from", bad)
		if r.code == 0 || !strings.Contains(r.stderr, "not a valid Tether backup") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("%s archive: code %d stderr %q", name, r.code, r.stderr)
		}
		if ents, _ := os.ReadDir(parent); len(ents) != 0 {
			t.Errorf("%s archive left %v behind", name, ents)
		}
		emptyDir := t.TempDir() // an existing empty target stays empty
		if r := run(t, e.dir, "", bin.relay, "restore", "--data", emptyDir, "--from", bad); r.code == 0 {
			t.Errorf("%s archive restored into an empty directory", name)
		}
		if ents, _ := os.ReadDir(emptyDir); len(ents) != 0 {
			t.Errorf("%s archive left %v in the empty target", name, ents)
		}
	}
	empty := t.TempDir()
	if r := run(t, e.dir, "", bin.relay, "restore", "--data", empty, "--from", out); r.code != 0 {
		t.Fatalf("restore into an empty directory: %s", r.stderr)
	}
	if ents, _ := os.ReadDir(empty); len(ents) == 0 || strings.HasPrefix(ents[0].Name(), ".tether-restore") {
		t.Errorf("restored directory holds %v", ents)
	}
	if st, _ := os.Stat(empty); st.Mode().Perm() != 0o700 {
		t.Errorf("restored directory mode %v, want 0700", st.Mode().Perm())
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", empty); r.code != 0 {
		t.Errorf("audit verify: %s", r.stderr)
	}
}

// TestHostSocketRefusesOtherUsers: even with the data directory's and the
// socket's modes loosened, the relay answers only its own user or root on
// its host socket (SO_PEERCRED). Needs root to run a client as nobody.
func TestHostSocketRefusesOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 || runtime.GOOS != "linux" {
		t.Skip("needs root on Linux to run a client as another user")
	}
	t.Parallel()
	e := newEnv(t)
	data := filepath.Join(e.dir, "data")
	pub := t.TempDir() // a copy of the binary and an output directory nobody can use
	for _, p := range []string{filepath.Dir(e.dir), filepath.Dir(pub), e.dir, data, pub} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(data, "host.sock"), 0o666); err != nil {
		t.Fatal(err)
	}
	relayCopy := filepath.Join(pub, "relay")
	b, err := os.ReadFile(bin.relay)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(relayCopy, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(relayCopy, "backup", "--data", data, "--out", filepath.Join(pub, "stolen.tar"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not the relay's user") {
		t.Errorf("backup as nobody: %v\n%q", err, out)
	}
	if _, err := os.Stat(filepath.Join(pub, "stolen.tar")); err == nil {
		t.Error("an archive was written for another user")
	}
	if !strings.Contains(e.relay.Output(), "host socket: refused a peer") {
		t.Error("the relay did not log the refusal")
	}
}
