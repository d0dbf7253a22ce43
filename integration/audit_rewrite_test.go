package integration

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/trust"
)

// adminKey writes a passphrase-encrypted administrator key, its
// passphrase and its public key (hex) to dir and returns the three paths.
func adminKey(t *testing.T, dir string) (key, pass, pub string) {
	t.Helper()
	k, err := trust.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	key, pass, pub = filepath.Join(dir, "admin.key"), filepath.Join(dir, "admin.pass"), filepath.Join(dir, "admin.pub")
	if err := trust.WriteKeyFile(key, k, []byte("admin passphrase"), trust.ScryptParams{LogN: 10, R: 8, P: 1}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pass, []byte("admin passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, []byte(hex.EncodeToString(k.Public().Bytes())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return key, pass, pub
}

// rewriteAuditLog rewrites the stopped relay's audit log the way whoever
// holds its data directory can: it drops entry drop, flips the outcome of
// entry flip, re-chains every later entry with the MAC key from the
// database and re-signs the head with the head key from the directory.
func rewriteAuditLog(t *testing.T, data string, drop, flip uint64) {
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
	for _, r := range recs {
		if r.Seq == drop {
			continue
		}
		if r.Seq == flip {
			r.Outcome = "denied"
		}
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

func TestAuditVerifyHonestLogAndExtension(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.techRun("", "audit", "verify")
	if r.code != 0 || !strings.Contains(r.stderr, "audit log intact") {
		t.Fatalf("honest log: code %d stderr %q", r.code, r.stderr)
	}
	if fi, err := os.Stat(filepath.Join(e.tech, "audit-heads.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("remembered heads: %v %v", fi, err)
	}
	for range 3 {
		if r := e.techRun("", "devices", "enroll-token"); r.code != 0 {
			t.Fatalf("enroll-token: %s", r.stderr)
		}
	}
	r = e.techRun("", "audit", "verify")
	if r.code != 0 || !strings.Contains(r.stderr, "it extends the head this client saw") {
		t.Fatalf("extended log: code %d stderr %q", r.code, r.stderr)
	}
	exp := e.techRun("", "audit", "export")
	if exp.code != 0 || strings.Contains(exp.stderr, "warning") {
		t.Fatalf("export: code %d stderr %q", exp.code, exp.stderr)
	}
	file := filepath.Join(e.dir, "audit.jsonl")
	os.WriteFile(file, []byte(exp.stdout), 0o600)
	if r := e.techRun("", "audit", "verify", file); r.code != 0 {
		t.Fatalf("verify export file: code %d stderr %q", r.code, r.stderr)
	}
	s := e.techRun("", "audit", "search", "--action", "audit.*", "--json")
	var found []struct{ Action string }
	if s.code != 0 || json.Unmarshal([]byte(s.stdout), &found) != nil || len(found) == 0 {
		t.Fatalf("audit search: code %d stdout %q stderr %q", s.code, s.stdout, s.stderr)
	}
	for _, f := range found {
		if !strings.HasPrefix(f.Action, "audit.") {
			t.Errorf("audit search --action audit.* found %q", f.Action)
		}
	}
	if s := e.techRun("", "audit", "search", "--action", "relay.init"); s.code != 0 || !strings.Contains(s.stdout, "relay.init") || !strings.HasPrefix(s.stdout, "SEQ") {
		t.Fatalf("audit search table: code %d stdout %q", s.code, s.stdout)
	}
}

func TestAuditRewriteCaught(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key, pass, pub := adminKey(t, e.dir)
	wrong := filepath.Join(e.dir, "wrong.pass")
	os.WriteFile(wrong, []byte("not the passphrase\n"), 0o600)
	if r := e.techRun("", "audit", "checkpoint", "--key", key, "--passphrase-file", wrong); r.code != 1 || !strings.Contains(r.stderr, "open admin key") {
		t.Fatalf("checkpoint with a wrong passphrase: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "audit", "checkpoint", "--key", key, "--passphrase-file", pass); r.code != 0 {
		t.Fatalf("checkpoint: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "devices", "enroll-token"); r.code != 0 {
		t.Fatalf("enroll-token: %s", r.stderr)
	}
	if r := e.techRun("", "audit", "verify", "--admin-key", pub); r.code != 0 {
		t.Fatalf("honest log against the checkpoint: code %d stderr %q", r.code, r.stderr)
	}

	u, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	e.stopRelay()
	data := filepath.Join(e.dir, "data")
	rewriteAuditLog(t, data, 3, 4)
	// The relay's own offline check cannot tell: the keys it uses are in
	// the data directory the rewriter holds.
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data); r.code != 0 {
		t.Fatalf("rewritten log fails relay audit verify (the rewrite is meant to be consistent): %s", r.stderr)
	}
	e.url, e.fp = "", ""
	e.startRelay("--listen", u.Host) // the same address: the tech configuration stays valid

	r := e.techRun("", "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stderr, "not an extension of the head this client saw") {
		t.Fatalf("rewrite not caught by the remembered head: code %d stderr %q", r.code, r.stderr)
	}
	t.Logf("tech audit verify: %s", strings.TrimSpace(r.stderr))

	exp := e.techRun("", "audit", "export")
	if exp.code != 0 || !strings.Contains(exp.stderr, "warning: the export does not verify") {
		t.Fatalf("export of a rewritten log: code %d stderr %q", exp.code, exp.stderr)
	}
	file := filepath.Join(e.dir, "rewritten.jsonl")
	os.WriteFile(file, []byte(exp.stdout), 0o600)
	// A client that never saw a head catches it with the admin checkpoint.
	fresh := filepath.Join(e.dir, "fresh-tech")
	r = run(t, e.dir, "", bin.tech, "--config", fresh, "audit", "verify", file, "--admin-key", pub)
	if r.code != 1 || !strings.Contains(r.stderr, "not an extension of the checkpoint countersigned by admin key") {
		t.Fatalf("rewrite not caught by the admin checkpoint: code %d stderr %q", r.code, r.stderr)
	}
	t.Logf("tech audit verify FILE --admin-key: %s", strings.TrimSpace(r.stderr))
	// Without the checkpoint or a remembered head the rewrite is consistent.
	if r := run(t, e.dir, "", bin.tech, "--config", fresh, "audit", "verify", file); r.code != 0 {
		t.Fatalf("rewritten export is not internally consistent: %s", r.stderr)
	}
}
