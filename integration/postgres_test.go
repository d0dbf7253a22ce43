package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store/pgtest"
)

// TestPostgresMigrate moves a populated bbolt installation (a user, a
// device, a session, audit entries, all made with the real binaries) into
// PostgreSQL with `relay migrate`; the copied chain verifies, the relay
// serves from PostgreSQL with everything in it, and a second migration is
// refused.
func TestPostgresMigrate(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	e := newEnv(t)
	d := e.populate()
	d.proc.kill9()
	data := filepath.Join(e.dir, "data")

	// A running relay holds the database: refused, nothing changed.
	if r := run(t, e.dir, "", bin.relay, "migrate", "--data", data, "--to", url); r.code == 0 || !strings.Contains(r.stderr, "stop the relay") {
		t.Fatalf("migrate while serving: code %d, %q", r.code, r.stderr)
	}
	addr := strings.TrimPrefix(e.url, "https://")
	e.stopRelay()
	// A password on the command line is refused before anything is read.
	if r := run(t, e.dir, "", bin.relay, "migrate", "--data", data, "--to", "postgres://u:secret@127.0.0.1/db"); r.code == 0 || !strings.Contains(r.stderr, "no password on the command line") {
		t.Fatalf("password on the command line: code %d, %q", r.code, r.stderr)
	}
	r := run(t, e.dir, "", bin.relay, "migrate", "--data", data, "--to", url)
	if r.code != 0 || !strings.Contains(r.stderr, "the audit chain verifies") {
		t.Fatalf("migrate: code %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "relay.db")); !os.IsNotExist(err) {
		t.Fatalf("relay.db still in place after the migration: %v", err)
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data); r.code != 0 {
		t.Fatalf("audit verify on PostgreSQL: %s", r.stderr)
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data, "--store", url); r.code != 0 {
		t.Fatalf("audit verify --store: %s", r.stderr)
	}
	if r := run(t, e.dir, "", bin.relay, "migrate", "--data", data, "--to", url); r.code == 0 {
		t.Fatal("a second migration of the same directory was accepted")
	}

	e.url, e.fp = "", ""
	e.startRelay("--listen", addr)
	if r := e.techRun(e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("login on the migrated relay: %s", r.stderr)
	}
	if r := e.techRun("", "users", "list"); r.code != 0 || !strings.Contains(r.stdout, "bob") {
		t.Fatalf("users after migration: %q %s", r.stdout, r.stderr)
	}
	if r := e.techRun("", "devices", "list"); r.code != 0 || !strings.Contains(r.stdout, "pc-1") {
		t.Fatalf("devices after migration: %q %s", r.stdout, r.stderr)
	}
	if r := e.techRun("", "sessions", "list", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"pc-1"`) {
		t.Fatalf("sessions after migration: %q %s", r.stdout, r.stderr)
	}
	d.proc = nil
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("session on PostgreSQL: %s", r.stderr)
	}
	e.stopRelay()
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data); r.code != 0 {
		t.Fatalf("audit verify after serving on PostgreSQL: %s", r.stderr)
	}
}

// populate gives e's relay a user (bob, technician), an enrolled device
// (pc-1) whose agent runs, and one finished session, and returns the
// device.
func (e *env) populate() *device {
	e.t.Helper()
	if r := e.techRun("", "users", "add", "bob", "--role", "technician"); r.code != 0 {
		e.t.Fatalf("users add: %s", r.stderr)
	}
	d := e.enroll("pc-1")
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		e.t.Fatalf("session: %s", r.stderr)
	}
	return d
}

// TestPostgresDown stops PostgreSQL under a serving relay: sign-ins,
// requests and new sessions get a clear 503 "the database is unreachable",
// /readyz is not ready, and once the database is back the relay recovers by
// itself with everything committed before; the agent is reachable again.
func TestPostgresDown(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	e := newEnv(t, "--store", url)
	if r := e.techRun("", "users", "add", "bob", "--role", "technician"); r.code != 0 {
		t.Fatalf("users add: %s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "data", "relay.db")); !os.IsNotExist(err) {
		t.Fatalf("a relay on PostgreSQL made relay.db: %v", err)
	}

	// A second init on the same database would fork the chain: refused.
	pw := filepath.Join(e.dir, "pw")
	if err := os.WriteFile(pw, []byte("another-long-password-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, e.dir, "", bin.relay, "init", "--data", filepath.Join(e.dir, "data2"), "--admin", "carol", "--password-file", pw, "--store", url); r.code == 0 || !strings.Contains(r.stderr, "already holds a relay's state") {
		t.Fatalf("second init on one database: code %d, %q", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.dir, "data2")); len(ents) != 0 {
		t.Fatalf("a refused init left %d files behind", len(ents))
	}

	d := e.enroll("pc-1")
	e.runAgent(d, "exit 0")

	srv.Stop()
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code == 0 || !strings.Contains(r.stderr, "the database is unreachable") {
		t.Fatalf("session with the database down: code %d, %q", r.code, r.stderr)
	}
	r := e.techRun("", "users", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "the database is unreachable") {
		t.Fatalf("request with the database down: code %d, %q", r.code, r.stderr)
	}
	other := filepath.Join(e.dir, "tech2")
	r = run(t, e.dir, e.adminPW+"\n", bin.tech, "--config", other, "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")
	if r.code == 0 || !strings.Contains(r.stderr, "the database is unreachable") {
		t.Fatalf("login with the database down: code %d, %q", r.code, r.stderr)
	}
	if code := readyz(t, e); code != 503 {
		t.Fatalf("/readyz with the database down: %d", code)
	}
	if !e.healthy() {
		t.Fatal("the relay stopped while the database was down")
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "requests to succeed again", 30*time.Second, func() bool {
		return e.techRun("", "users", "list").code == 0
	})
	if r := e.techRun("", "users", "list"); !strings.Contains(r.stdout, "bob") {
		t.Fatalf("bob lost across the database restart: %q", r.stdout)
	}
	r = run(t, e.dir, e.adminPW+"\n", bin.tech, "--config", other, "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")
	if r.code != 0 {
		t.Fatalf("login after recovery: %s", r.stderr)
	}
	if code := readyz(t, e); code != 200 {
		t.Fatalf("/readyz after recovery: %d", code)
	}
	e.waitOnline(d.name)
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("session after recovery: %s", r.stderr)
	}
	e.stopRelay()
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", filepath.Join(e.dir, "data")); r.code != 0 {
		t.Fatalf("audit verify: %s", r.stderr)
	}
}

// readyz returns the status of the relay's /readyz.
func readyz(t *testing.T, e *env) int {
	t.Helper()
	resp, err := insecureClient().Get(e.url + "/readyz")
	if err != nil {
		t.Fatalf("/readyz: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
