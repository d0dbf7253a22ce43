package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRelayAuditVerifyFlagsTamperedPolicy: a session offered while the
// stored signed policy was tampered with (its signature broken) is listed
// by `relay audit verify`, which exits 1; the session before it, under
// the published policy, passes.
func TestRelayAuditVerifyFlagsTamperedPolicy(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	early := e.enroll("early") // enrolled before the root: it does not check policies
	e.runAgent(early, "exit 0")
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	if r := e.techRun("", "policy", "sign", "--yes", "--passphrase-file", e.pass); r.code != 0 {
		t.Fatalf("tech policy sign: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "connect", early.name, "--", "true"); r.code != 0 {
		t.Fatalf("session under the signed policy: code %d stderr %q", r.code, r.stderr)
	}
	file := filepath.Join(e.dir, "data", "trust-policy.json")
	var p struct{ Document []byte }
	if err := json.Unmarshal([]byte(mustRead(t, file)), &p); err != nil {
		t.Fatal(err)
	}
	p.Document[len(p.Document)-1] ^= 1
	b, _ := json.Marshal(map[string]any{"document": p.Document})
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.techRun("", "connect", early.name, "--", "true"); r.code != 0 {
		t.Fatalf("session under the tampered policy (the device does not check): code %d stderr %q", r.code, r.stderr)
	}
	e.stopRelay()
	r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", filepath.Join(e.dir, "data"))
	if r.code != 1 || !strings.Contains(r.stderr, "not validly signed") || !strings.Contains(r.stderr, "1 of 2 session(s)") {
		t.Fatalf("relay audit verify: code %d stderr %q", r.code, r.stderr)
	}
	t.Logf("relay audit verify: %s", strings.TrimSpace(r.stderr))
}
