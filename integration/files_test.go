package integration

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeRandom writes n random bytes to path.
func writeRandom(t *testing.T, path string, n int64, mode os.FileMode) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	return b
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
		t.Fatalf("%s and %s differ (%v, %v; %d vs %d bytes)", a, b, err1, err2, len(x), len(y))
	}
}

func TestCopyFilesBothWays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	src := filepath.Join(e.dir, "big.bin")
	writeRandom(t, src, 32<<20+1, 0o640)

	if r := e.techRun("", "cp", src, d.name+":big.bin"); r.code != 0 {
		t.Fatalf("upload: %s", r.stderr)
	}
	sameFile(t, src, filepath.Join(d.userHome, "big.bin"))
	if fi, _ := os.Stat(filepath.Join(d.userHome, "big.bin")); fi.Mode().Perm() != 0o640 {
		t.Errorf("uploaded mode %v, want 0640", fi.Mode().Perm())
	}
	back := filepath.Join(e.dir, "back.bin")
	if r := e.techRun("", "cp", d.name+":big.bin", back); r.code != 0 {
		t.Fatalf("download: %s", r.stderr)
	}
	sameFile(t, src, back)

	if r := e.techRun("", "cp", src, d.name+":nosuchdir/"); r.code == 0 || !strings.Contains(r.stderr, "no folder nosuchdir") {
		t.Fatalf("copy into a missing folder: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "cp", src, d.name+":big.bin"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("silent overwrite: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "cp", "--force", src, d.name+":big.bin"); r.code != 0 {
		t.Fatalf("--force upload: %s", r.stderr)
	}

	tree := filepath.Join(e.dir, "tree")
	os.MkdirAll(filepath.Join(tree, "sub", "deeper"), 0o755)
	writeRandom(t, filepath.Join(tree, "a.txt"), 1000, 0o644)
	writeRandom(t, filepath.Join(tree, "sub", "b.bin"), 70000, 0o600)
	writeRandom(t, filepath.Join(tree, "sub", "deeper", "empty"), 0, 0o644)
	if r := e.techRun("", "cp", "-r", tree, d.name+":copied"); r.code != 0 {
		t.Fatalf("tree upload: %s", r.stderr)
	}
	got := filepath.Join(e.dir, "tree-back")
	if r := e.techRun("", "cp", "-r", d.name+":copied", got); r.code != 0 {
		t.Fatalf("tree download: %s", r.stderr)
	}
	for _, f := range []string{"a.txt", "sub/b.bin", "sub/deeper/empty"} {
		sameFile(t, filepath.Join(tree, f), filepath.Join(d.userHome, "copied", f))
		sameFile(t, filepath.Join(tree, f), filepath.Join(got, f))
	}
	if r := e.techRun("", "cp", d.name+":copied", filepath.Join(e.dir, "x")); r.code == 0 || !strings.Contains(r.stderr, "use -r") {
		t.Fatalf("directory without -r: code %d stderr %q", r.code, r.stderr)
	}
	audit := e.techRun("", "audit", "export").stdout
	if !strings.Contains(audit, `"session.file"`) || !strings.Contains(audit, "big.bin") {
		t.Errorf("audit log lacks the file transfers")
	}
}

func TestHostileNamesAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	outside := filepath.Join(e.dir, "outside")
	os.MkdirAll(outside, 0o755)
	victim := filepath.Join(outside, "victim")
	os.WriteFile(victim, []byte("original"), 0o644)
	os.Symlink(victim, filepath.Join(d.userHome, "link"))
	os.Symlink(outside, filepath.Join(d.userHome, "linkdir"))
	src := filepath.Join(e.dir, "payload")
	os.WriteFile(src, []byte("payload"), 0o644)

	tests := []struct{ dst, want string }{
		{"../../etc/passwd", "outside"},
		{`..\..\win.ini`, "backslash"},
		{outside + "/x", "outside"},
		{"link", "already exists"},
		{"linkdir/x", "escapes"},
		{"bad\nname", "control character"},
		{"esc\x1b[2Jname", "control character"},
		{strings.Repeat("n", 10240), "too long"},
		{"CON", "reserved"},
	}
	for _, tc := range tests {
		r := e.techRun("", "cp", src, d.name+":"+tc.dst)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("cp to %q: code %d stderr %q, want a refusal mentioning %q", tc.dst[:min(len(tc.dst), 40)], r.code, r.stderr, tc.want)
		}
	}
	if r := e.techRun("", "cp", d.name+":../../etc/passwd", filepath.Join(e.dir, "stolen")); r.code == 0 {
		t.Errorf("download from outside the root was allowed")
	}
	if b, _ := os.ReadFile(victim); string(b) != "original" {
		t.Fatalf("a file outside the root was changed: %q", b)
	}
	ents, _ := os.ReadDir(outside)
	if len(ents) != 1 {
		t.Fatalf("files appeared outside the root: %v", ents)
	}
}

func TestInterruptedUploadLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	src := filepath.Join(e.dir, "huge.bin")
	f, _ := os.Create(src)
	f.Truncate(512 << 20) // sparse, quick to make
	f.Close()
	tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "cp", src, d.name+":huge.bin")
	eventually(t, "the transfer to start", 20*time.Second, func() bool {
		ents, _ := os.ReadDir(d.userHome)
		for _, en := range ents {
			if fi, err := en.Info(); err == nil && strings.HasSuffix(en.Name(), ".part") && fi.Size() > 1<<20 {
				return true
			}
		}
		return false
	})
	tech.kill9()
	eventually(t, "the partial file to be removed", 10*time.Second, func() bool {
		ents, _ := os.ReadDir(d.userHome)
		return len(ents) == 0
	})
	if _, err := os.Stat(filepath.Join(d.userHome, "huge.bin")); err == nil {
		t.Fatal("a partial file is at the destination")
	}
}

// TestGigabyteTransferMemory moves a small file and then a large one (1 GiB,
// 256 MiB under the race detector) up to the agent and back, and fails when
// the agent's peak RSS (VmHWM) grows with the file size: the large round
// trip may raise the peak the small one set by at most a fixed bound.
func TestGigabyteTransferMemory(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("1 GiB transfer skipped in -short mode")
	}
	// bound is fixed and far below large-small. Measured: +2 MiB for 1 GiB
	// without -race; with it the race runtime's own bookkeeping adds about
	// +36 MiB for 256 MiB.
	const small, bound = 16 << 20, 96 << 20
	large := int64(1 << 30)
	if raceEnabled {
		large = 256 << 20 // the race detector slows the binaries several times
	}
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	pid := d.proc.cmd.Process.Pid
	initial := procStatus(t, pid, "VmHWM") << 10
	roundTrip(t, e, d, "small.bin", small) // warms up: buffers, TLS, goroutines
	afterSmall := procStatus(t, pid, "VmHWM") << 10
	start := time.Now()
	roundTrip(t, e, d, "large.bin", large)
	took := time.Since(start)
	afterLarge := procStatus(t, pid, "VmHWM") << 10
	t.Logf("agent peak RSS: %d MiB at start, %d MiB after %d MiB, %d MiB after %d MiB up and down (%.0f MB/s)",
		initial>>20, afterSmall>>20, small>>20, afterLarge>>20, large>>20, float64(2*large)/took.Seconds()/1e6)
	if grew := afterLarge - afterSmall; grew > bound {
		t.Fatalf("agent peak RSS grew by %d MiB moving %d MiB instead of %d MiB (bound %d MiB): memory follows the file size",
			grew>>20, large>>20, small>>20, bound>>20)
	}
}

// roundTrip uploads a sparse file of size bytes to d's home as name, checks
// its size there, downloads it again and checks the copy's size.
func roundTrip(t *testing.T, e *env, d *device, name string, size int64) {
	t.Helper()
	src := filepath.Join(e.dir, name)
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(size) // sparse: zeros read fast; the channel encrypts them all the same
	f.Close()
	if r := e.techRun("", "cp", src, d.name+":"+name); r.code != 0 {
		t.Fatalf("upload %s: %s", name, r.stderr)
	}
	if fi, err := os.Stat(filepath.Join(d.userHome, name)); err != nil || fi.Size() != size {
		t.Fatalf("uploaded %s: %v, want %d bytes", name, err, size)
	}
	back := filepath.Join(e.dir, "back-"+name)
	if r := e.techRun("", "cp", d.name+":"+name, back); r.code != 0 {
		t.Fatalf("download %s: %s", name, r.stderr)
	}
	if fi, err := os.Stat(back); err != nil || fi.Size() != size {
		t.Fatalf("downloaded %s: %v, want %d bytes", name, err, size)
	}
	os.Remove(src)
	os.Remove(back)
	os.Remove(filepath.Join(d.userHome, name))
}
