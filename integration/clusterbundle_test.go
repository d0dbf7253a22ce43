package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store/pgtest"
)

// TestClusterRotation rotates the cluster key of two relays joined from a
// bundle: rotate on relay 0, export, sync relay 1; both announce the next
// pin (relay 1 only after the sync) to the technicians and the agent
// reaching them; finish on relay 0, export, sync relay 1: both switch
// without a restart, and the technicians and the agent follow with their
// one pin. Both relays' announcements and switches are audited.
func TestClusterRotation(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t, 2, "--cert-check", "50ms")
	r0, r1 := c.relays[0], c.relays[1]
	old := c.fp
	d := r1.enroll("cl-pc")
	r1.runAgent(d, "exit 0")

	rot := run(t, r0.dir, "", bin.relay, "cert", "rotate", "--data", filepath.Join(r0.dir, "data"), "--overlap", "1h")
	if rot.code != 0 {
		t.Fatalf("relay cert rotate: %s", rot.stderr)
	}
	next := strings.TrimSpace(rot.stdout)
	learns := func(e *env, want string) func() bool {
		return func() bool {
			if r := e.techRun("", "devices", "list"); r.code != 0 {
				t.Fatalf("tech devices list on %s: %s", e.url, r.stderr)
			}
			_, n := pinsIn(t, filepath.Join(e.tech, "relay.json"))
			return n == want
		}
	}
	eventually(t, "relay 0 to announce the next pin", 15*time.Second, learns(r0, next))
	// Relay 1 has no next key yet: it announces nothing.
	if learns(r1, next)() {
		t.Fatal("relay 1 announced the next pin before its sync")
	}

	b1 := c.export(r0)
	if c.fp != old {
		t.Fatalf("export during the overlap printed %s, want the current pin %s", c.fp, old)
	}
	s := c.sync(r1, b1)
	if s.code != 0 || strings.TrimSpace(s.stdout) != old || !strings.Contains(s.stderr, "announces the next pin "+next) {
		t.Fatalf("sync of the rotation: code %d stdout %q stderr %q", s.code, s.stdout, s.stderr)
	}
	if s := c.sync(r1, b1); s.code != 0 || !strings.Contains(s.stderr, "already matches") {
		t.Fatalf("a second sync of the same bundle: code %d stderr %q", s.code, s.stderr)
	}
	eventually(t, "relay 1 to announce the next pin", 15*time.Second, learns(r1, next))
	eventually(t, "the agent on relay 1 to learn the next pin", 15*time.Second, func() bool {
		_, n := pinsIn(t, filepath.Join(d.home, "agent.json"))
		return n == next
	})

	if r := run(t, r0.dir, "", bin.relay, "cert", "rotate", "--data", filepath.Join(r0.dir, "data"), "--finish"); r.code != 0 {
		t.Fatalf("relay cert rotate --finish: %s", r.stderr)
	}
	if !logs(r0.relay.Output, "switched to the next TLS certificate") {
		t.Fatal("relay 0 did not switch")
	}
	b2 := c.export(r0)
	if c.fp != next {
		t.Fatalf("export after the switch printed %s, want %s", c.fp, next)
	}
	if s := c.sync(r1, b2); s.code != 0 || strings.TrimSpace(s.stdout) != next || !strings.Contains(s.stderr, "switches to the cluster key") ||
		strings.Contains(s.stderr, "warning") {
		t.Fatalf("sync of the switch: code %d stdout %q stderr %q", s.code, s.stdout, s.stderr)
	}
	if !logs(r1.relay.Output, "switched to the next TLS certificate") {
		t.Fatal("relay 1 did not switch after the sync")
	}

	for i, e := range c.relays {
		if r := e.techRun("", "devices", "list"); r.code != 0 {
			t.Fatalf("tech on relay %d after the switch: %s", i, r.stderr)
		}
		if p, n := pinsIn(t, filepath.Join(e.tech, "relay.json")); p != next || n != "" {
			t.Errorf("technician's pins on relay %d after the switch = %q, %q; want %s and no next", i, p, n, next)
		}
	}
	r1.waitOnline(d.name)
	if r := r1.techRun("", "connect", d.name, "--", "sh", "-c", "echo cluster-$((6*7))"); r.code != 0 || !strings.Contains(r.stdout, "cluster-42") {
		t.Fatalf("session after the switch: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if p, n := pinsIn(t, filepath.Join(d.home, "agent.json")); p != next || n != "" {
		t.Errorf("agent's pins after the switch = %q, %q; want %s and no next", p, n, next)
	}
	exp := r0.techRun("", "audit", "export")
	for _, want := range []string{`"relay.cert.announce"`, `"relay.cert.switch"`} {
		if n := strings.Count(exp.stdout, want); n != 2 {
			t.Errorf("%d %s entries in the shared audit log, want one per relay", n, want)
		}
	}
}

// TestClusterJoinRefusals: export refuses a bbolt data directory; join
// refuses a non-empty directory, a database that is unreachable, one no
// relay initialised and one whose chain another cluster's head key signs,
// each leaving nothing behind; sync refuses another cluster's bundle. A
// good join makes 0600 files in 0700 directories, is audited and the
// shared chain verifies from both members.
func TestClusterJoinRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := pgtest.Start(t)
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("another-long-password-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	initAt := func(name string, store ...string) string {
		data := filepath.Join(dir, name)
		args := append([]string{"init", "--data", data, "--admin", "admin", "--password-file", pw}, store...)
		if r := run(t, dir, "", bin.relay, args...); r.code != 0 {
			t.Fatalf("relay init %s: %s", name, r.stderr)
		}
		return data
	}
	export := func(data string) (string, result) {
		out := filepath.Join(dir, filepath.Base(data)+".tar")
		return out, run(t, dir, "", bin.relay, "cluster", "export", "--data", data, "--out", out)
	}
	join := func(target, bundle string) result {
		return run(t, dir, "", bin.relay, "cluster", "join", "--data", target, "--from", bundle)
	}
	url1 := srv.NewDB(t)
	a := initAt("a", "--store", url1)
	bundle, r := export(a)
	if r.code != 0 {
		t.Fatalf("export: %s", r.stderr)
	}
	pin := strings.TrimSpace(r.stdout)

	bolt := initAt("bolt")
	if _, r := export(bolt); r.code == 0 || !strings.Contains(r.stderr, "bbolt") {
		t.Errorf("export of a bbolt directory: code %d stderr %q", r.code, r.stderr)
	}
	full := filepath.Join(dir, "full")
	os.MkdirAll(full, 0o700)
	os.WriteFile(filepath.Join(full, "x"), nil, 0o600)
	if r := join(full, bundle); r.code == 0 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("join into a non-empty directory: code %d stderr %q", r.code, r.stderr)
	}

	// Bundles naming other databases: a copy of a's files with another
	// store-url (export reads files only).
	retarget := func(name, url string) string {
		cp := filepath.Join(dir, name)
		if r := run(t, dir, "", "cp", "-a", a, cp); r.code != 0 {
			t.Fatal(r.stderr)
		}
		if err := os.WriteFile(filepath.Join(cp, "store-url"), []byte(url+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		b, r := export(cp)
		if r.code != 0 {
			t.Fatalf("export %s: %s", name, r.stderr)
		}
		return b
	}
	other := initAt("other", "--store", srv.NewDB(t))
	otherBundle, r := export(other)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	foreignKey := filepath.Join(dir, "foreign")
	if r := run(t, dir, "", "cp", "-a", other, foreignKey); r.code != 0 {
		t.Fatal(r.stderr)
	}
	os.WriteFile(filepath.Join(foreignKey, "store-url"), []byte(url1+"\n"), 0o600)
	foreignBundle, r := export(foreignKey)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	refusals := []struct {
		name, bundle, want string
	}{
		{"an unreachable database", retarget("gone", "postgres://postgres@/tether?host="+filepath.Join(dir, "nosock")+"&sslmode=disable"), "unreachable"},
		{"an uninitialised database", retarget("empty", srv.NewDB(t)), "holds no relay's state"},
		{"another cluster's head key", foreignBundle, "the bundle is of another cluster"},
		{"a backup, not a bundle", writeBackupOf(t, bolt), "not a valid Tether cluster bundle"},
	}
	for _, tc := range refusals {
		target := filepath.Join(dir, "join-"+strings.ReplaceAll(tc.name, " ", "-"))
		if r := join(target, tc.bundle); r.code == 0 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("join with %s: code %d stderr %q, want one line saying %q", tc.name, r.code, r.stderr, tc.want)
		}
		if leftBehind(target) {
			t.Errorf("join with %s left files behind", tc.name)
		}
	}

	b := filepath.Join(dir, "b")
	r = join(b, bundle)
	if r.code != 0 {
		t.Fatalf("join: %s", r.stderr)
	}
	if s := run(t, dir, "", bin.relay, "cluster", "sync", "--data", b, "--from", otherBundle); s.code == 0 || !strings.Contains(s.stderr, "another cluster") {
		t.Errorf("sync from another cluster: code %d stderr %q", s.code, s.stderr)
	}
	filepath.Walk(b, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	for _, data := range []string{a, b} {
		if r := run(t, dir, "", bin.relay, "audit", "verify", "--data", data); r.code != 0 {
			t.Fatalf("audit verify from %s: %s", data, r.stderr)
		}
	}
	if r := run(t, dir, "", bin.relay, "cert", "show", "--data", b); strings.TrimSpace(r.stdout) != pin {
		t.Errorf("the joined relay's pin %q is not the cluster's", r.stdout)
	}
}

// TestClusterLockout spreads failed sign-ins over three relays of one
// cluster, round robin: the account locks at the policy's count (5) and
// is locked on every relay; the per-address sign-in budget, the relay-wide
// one and the per-address join budget are counted across relays too
// (they are all store throttle records, shared in the database).
func TestClusterLockout(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t, 3, "--throttle-account-free", "100", "--throttle-source-failures", "4", "--throttle-source-window", "10m",
		"--throttle-global-failures", "14", "--throttle-global-window", "10m", "--throttle-join-failures", "3", "--throttle-join-window", "10m")
	admin := c.relays[0].admin()
	bob := admin.add("bob", "admin") // one the superadmin may unlock
	bob.activate("Kestrel-Harbor-Quay-41!")

	counted := 0
	for i, ip := range ips(2, 5) {
		a := c.relays[i%3].loginFrom(t, ip, "bob", fmt.Sprintf("Guess-number-%d", i))
		want := "invalid username or password"
		if i == 4 {
			want = "account locked after too many failed sign-ins"
		}
		if a.msg != want {
			t.Fatalf("guess %d on relay %d: got %d %q, want %q", i+1, i%3, a.status, a.msg, want)
		}
		counted++
	}
	for i, e := range c.relays {
		if st, n := userState(t, e.admin(), "bob"); st != "locked" || n != 5 {
			t.Errorf("relay %d lists bob %s with %d failures, want locked with 5", i, st, n)
		}
		if a := e.loginFrom(t, "127.0.0.30", "bob", bob.pw); a.status != http.StatusForbidden || !strings.Contains(a.msg, "account locked") {
			t.Errorf("bob's right password on relay %d: got %d %q, want the lockout", i, a.status, a.msg)
		}
	}

	// One address, four failures over three relays: refused on each after.
	for i := range 4 {
		if a := c.relays[i%3].loginFrom(t, "127.0.0.40", fmt.Sprintf("ghost%d", i), "Spring2024!"); a.status != http.StatusUnauthorized {
			t.Fatalf("failure %d from one address: got %d %q", i, a.status, a.msg)
		}
		counted++
	}
	for i, e := range c.relays {
		wantThrottled(t, fmt.Sprintf("relay %d after the address's budget", i), e.loginFrom(t, "127.0.0.40", "ghost-x", "Spring2024!"),
			"too many failed sign-ins from this address")
	}
	// The relay-wide budget (14) is the cluster's: spend the rest over the
	// relays from new addresses; then a new address is refused everywhere.
	for i := 0; counted < 14; i++ {
		if a := c.relays[i%3].loginFrom(t, fmt.Sprintf("127.0.0.%d", 50+i), fmt.Sprintf("spray%d", i), "Autumn2023!"); a.status != http.StatusUnauthorized {
			t.Fatalf("spray %d: got %d %q", i, a.status, a.msg)
		}
		counted++
	}
	for i, e := range c.relays {
		wantThrottled(t, fmt.Sprintf("relay %d after the relay-wide budget", i), e.loginFrom(t, fmt.Sprintf("127.0.0.%d", 80+i), "nobody", "Winter2024!"),
			"too many failed sign-ins across the relays of this cluster")
	}

	// Join codes: three wrong ones from one address over three relays.
	for i, e := range c.relays {
		if got := e.joinFrom(t, "127.0.0.90", joinMsg(fmt.Sprintf("%05d-%05d", i, i))); !strings.Contains(got, "join code is invalid") {
			t.Fatalf("wrong join code %d: got %q", i, got)
		}
	}
	for i, e := range c.relays {
		if got := e.joinFrom(t, "127.0.0.90", joinMsg("00000-00009")); !strings.Contains(got, "too many failed join attempts from this address") {
			t.Errorf("relay %d after the address's join budget: got %q", i, got)
		}
	}
	if got := c.relays[1].joinFrom(t, "127.0.0.91", joinMsg("00000-00009")); !strings.Contains(got, "join code is invalid") {
		t.Errorf("another address: got %q, want its own budget", got)
	}
	admin.must("", "users", "unlock", "bob")
	// From the address bob signed in from before, which the relay-wide
	// budget spares.
	if a := c.relays[2].loginFrom(t, "127.0.0.1", "bob", bob.pw); a.status != http.StatusOK {
		t.Errorf("bob on relay 2 after the unlock on relay 0: got %d %q", a.status, a.msg)
	}
}

// writeBackupOf writes `relay backup` of the stopped relay's data and
// returns the archive's path.
func writeBackupOf(t *testing.T, data string) string {
	t.Helper()
	out := data + "-backup.tar"
	if r := run(t, filepath.Dir(data), "", bin.relay, "backup", "--data", data, "--out", out); r.code != 0 {
		t.Fatalf("relay backup: %s", r.stderr)
	}
	return out
}

// leftBehind reports whether target exists or a join's temporary
// directory is left beside it.
func leftBehind(target string) bool {
	if _, err := os.Stat(target); err == nil {
		return true
	}
	ents, _ := os.ReadDir(filepath.Dir(target))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tether-join") {
			return true
		}
	}
	return false
}
