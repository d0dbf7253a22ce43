package integration

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

// truncateAuditLog cuts the stopped relay's audit log back to its first
// keep entries and re-signs the head, as whoever holds its data directory
// can: the log is consistent and `relay audit verify` passes.
func truncateAuditLog(t *testing.T, data string, keep uint64) {
	t.Helper()
	db, err := store.Open(filepath.Join(data, "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mac, err := db.GetMeta("audit_mac_key")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(data, "audit-head.key"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []store.AuditRecord
	db.AuditRecords(0, func(r *store.AuditRecord) error { recs = append(recs, *r); return nil })
	if _, err := db.DeleteAuditBefore(recs[len(recs)-1].Seq + 1); err != nil {
		t.Fatal(err)
	}
	var clock time.Time
	l := audit.New(db, mac, ed25519.NewKeyFromSeed(seed), func() time.Time { return clock })
	for _, r := range recs[:keep] {
		clock = r.Time
		ev := audit.Event{ActorID: r.ActorID, Action: r.Action, Target: r.Target, Outcome: r.Outcome, Source: r.Source, Details: r.Details}
		if _, err := l.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	clock = time.Now()
	if err := l.SignHead(); err != nil {
		t.Fatal(err)
	}
}

// TestAgentRefusesTruncatedAuditLog: an agent remembers the newest audit
// head offered with a session (audit-head.json, 0600) and, after a
// restart, refuses a session from a relay whose log was cut back below it.
func TestAgentRefusesTruncatedAuditLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	for range 20 {
		if r := e.techRun("", "devices", "enroll-token"); r.code != 0 {
			t.Fatalf("enroll-token: %s", r.stderr)
		}
	}
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("honest session: code %d stderr %q", r.code, r.stderr)
	}
	fi, err := os.Stat(filepath.Join(d.home, "audit-head.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("remembered audit head: %v %v", fi, err)
	}
	d.proc.cmd.Process.Signal(syscall.SIGTERM)
	<-d.proc.done
	addr := strings.TrimPrefix(e.url, "https://")
	e.stopRelay()
	data := filepath.Join(e.dir, "data")
	truncateAuditLog(t, data, 3)
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data); r.code != 0 {
		t.Fatalf("the truncated log is meant to be consistent: %s", r.stderr)
	}
	e.url, e.fp = "", ""
	e.startRelay("--listen", addr)

	e.runAgent(d, "exit 0")
	marker := filepath.Join(e.dir, "started")
	r := e.techRun("", "connect", d.name, "--", "touch", marker)
	if r.code == 0 || !strings.Contains(r.stderr, "audit log went back") {
		t.Fatalf("session on a truncated log: code %d stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a process ran although the relay's audit log went back")
	}
	if out := d.proc.Output(); !strings.Contains(out, "refusing the session") {
		t.Errorf("the agent did not log its refusal: %q", out)
	}
	t.Logf("tech connect: %s", strings.TrimSpace(r.stderr))
}
