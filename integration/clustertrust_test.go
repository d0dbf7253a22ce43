package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/store/pgtest"
)

// trustFiles are the names a relay alone on bbolt keeps its trust
// documents under in its data directory.
var trustFiles = []string{"trust-root.json", "trust-policy.json", "trust-revocations.json", "tech-certs.json", "trust-policies"}

// TestClusterTrust: trust changes made through relay 0 (the root, the
// admin's certificate, the signed policy, then a revocation) are in force
// on relay 1 at once, without a restart or a sync: a device enrolled on
// relay 1 pins the root from its token, a session there works under the
// certificate and policy published through relay 0, and is refused once
// relay 0 published the certificate's revocation. The documents are in the
// database, not in either data directory, and the shared audit chain's
// sessions verify against them.
func TestClusterTrust(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t, 2)
	a := trustEnvFor(c.relays[0])
	fp := a.mustTrust("", "init", "--passphrase-file", a.pass)
	if r := c.relays[1].techRun("", "trust", "show"); r.code != 0 || strings.TrimSpace(r.stdout) != fp {
		t.Fatalf("tech trust show on relay 1: code %d stdout %q stderr %q, want %s", r.code, r.stdout, r.stderr, fp)
	}
	// One technician, one key, whichever relay their tech reaches (a
	// config directory names one relay: here two directories share the key).
	key := mustRead(t, filepath.Join(a.tech, "tech.key"))
	if err := os.WriteFile(filepath.Join(c.relays[1].tech, "tech.key"), []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	a.readyForSessions()

	b := &policyEnv{trustEnv: trustEnvFor(c.relays[1])}
	b.dev = b.enroll("ward")
	if r := b.agentRun(b.dev, "trust", "show"); r.code != 0 || strings.TrimSpace(r.stdout) != fp {
		t.Fatalf("a device enrolled on relay 1 pins %q (%s), want %s", r.stdout, r.stderr, fp)
	}
	b.runAgent(b.dev, "exit 0")
	b.honest("root, certificate and policy published through relay 0")

	(&policyEnv{trustEnv: a}).revoke("1", "--user", "admin")
	b.refused("certificate revoked through relay 0", "their certificate")

	for i, e := range c.relays {
		for _, name := range trustFiles {
			if _, err := os.Stat(filepath.Join(e.dir, "data", name)); !os.IsNotExist(err) {
				t.Errorf("relay %d keeps %s in its data directory (%v): it belongs in the database", i, name, err)
			}
		}
	}
	if r := run(t, a.dir, "", bin.relay, "audit", "verify", "--data", filepath.Join(a.dir, "data")); r.code != 0 {
		t.Fatalf("relay audit verify on the shared chain: %s", r.stderr)
	}
}

// TestClusterTrustImport: a bbolt relay's trust files (root, certificate,
// policy) are imported into PostgreSQL when the relay first serves from it
// after `relay migrate`; from then on the file is not read (an edit of it
// changes nothing) and a relay that joins from a bundle, which carries no
// trust files, serves the same documents.
func TestClusterTrustImport(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t).NewDB(t)
	te := trustEnvFor(newEnv(t))
	fp := te.mustTrust("", "init", "--passphrase-file", te.pass)
	te.readyForSessions()
	d := te.enroll("pc-1")
	data := filepath.Join(te.dir, "data")
	addr := strings.TrimPrefix(te.url, "https://")
	te.stopRelay()
	if r := run(t, te.dir, "", bin.relay, "migrate", "--data", data, "--to", url); r.code != 0 {
		t.Fatalf("relay migrate: %s", r.stderr)
	}
	te.url, te.fp = "", ""
	te.startRelay("--listen", addr)
	if r := te.techRun(te.adminPW+"\n", "login", "--relay", te.url, "--user", "admin", "--ca-fingerprint", te.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("login on the migrated relay: %s", r.stderr)
	}
	te.runAgent(d, "exit 0")
	if r := te.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("a session under the imported certificate and policy: %s", r.stderr)
	}
	te.writeChain([][]byte{foreignRoot(t)})
	if r := te.techRun("", "trust", "show"); r.code != 0 || strings.TrimSpace(r.stdout) != fp {
		t.Fatalf("after the file was edited: tech trust show %q %q, want %s from the database", r.stdout, r.stderr, fp)
	}

	bundle := filepath.Join(te.dir, "cluster.tar")
	if r := run(t, te.dir, "", bin.relay, "cluster", "export", "--data", data, "--out", bundle); r.code != 0 {
		t.Fatalf("relay cluster export: %s", r.stderr)
	}
	m := &env{t: t, dir: filepath.Join(te.dir, "member"), adminPW: te.adminPW}
	m.tech = filepath.Join(m.dir, "tech")
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if r := run(t, m.dir, "", bin.relay, "cluster", "join", "--data", filepath.Join(m.dir, "data"), "--from", bundle); r.code != 0 {
		t.Fatalf("relay cluster join: %s", r.stderr)
	}
	for _, name := range trustFiles {
		if _, err := os.Stat(filepath.Join(m.dir, "data", name)); !os.IsNotExist(err) {
			t.Errorf("the bundle carried %s (%v)", name, err)
		}
	}
	m.startRelay()
	if r := m.techRun(m.adminPW+"\n", "login", "--relay", m.url, "--user", "admin", "--ca-fingerprint", m.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("login on the member: %s", r.stderr)
	}
	if r := m.techRun("", "trust", "show"); r.code != 0 || strings.TrimSpace(r.stdout) != fp {
		t.Fatalf("the member serves %q (%s), want the imported root %s", r.stdout, r.stderr, fp)
	}
}
