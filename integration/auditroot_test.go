package integration

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditVerifyPinnedRootCheckpoint: a tech that pinned the trust root
// checks checkpoints countersigned by the root's administrators without
// --admin-key, and so catches a rewrite of the log even after it forgot
// every head it saw.
func TestAuditVerifyPinnedRootCheckpoint(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	if r := e.techRun("", "audit", "checkpoint", "--passphrase-file", e.pass); r.code != 0 {
		t.Fatalf("checkpoint with the root administrator's key: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "devices", "enroll-token"); r.code != 0 {
		t.Fatalf("enroll-token: %s", r.stderr)
	}
	r := e.techRun("", "audit", "verify")
	if r.code != 0 || !strings.Contains(r.stderr, "1 administrator checkpoint(s) verified") || !strings.Contains(r.stderr, "administrators of trust root SHA256:") {
		t.Fatalf("honest log against the root administrator's checkpoint: code %d stderr %q", r.code, r.stderr)
	}

	u, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	e.stopRelay()
	rewriteAuditLog(t, filepath.Join(e.dir, "data"), 3, 4)
	e.url, e.fp = "", ""
	e.startRelay("--listen", u.Host)
	// Forget the remembered heads: only the root's checkpoint is left.
	if err := os.Remove(filepath.Join(e.tech, "audit-heads.json")); err != nil {
		t.Fatal(err)
	}
	r = e.techRun("", "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stderr, "not an extension of the checkpoint countersigned by trust-root administrator key") {
		t.Fatalf("rewrite not caught by the root administrator's checkpoint: code %d stderr %q", r.code, r.stderr)
	}
	t.Logf("tech audit verify: %s", strings.TrimSpace(r.stderr))
}
