package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRelayAuditVerifyFlagsTamperedPolicy: sessions offered while the
// stored signed policy was tampered with (its signature broken) are listed
// by `relay audit verify`, which exits 1: the one a device without a
// pinned root ran, and the one a pinned device refused. The sessions
// before, under the published policy, pass, and the pinned device's
// consent receipt names the policy version it verified.
func TestRelayAuditVerifyFlagsTamperedPolicy(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	early := e.enroll("early") // enrolled before the root: it does not check policies
	e.runAgent(early, "exit 0")
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	e.readyForSessions()
	pinned := e.enroll("pinned")
	e.runAgent(pinned, "exit 0")
	for _, d := range []*device{early, pinned} {
		if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
			t.Fatalf("%s: session under the signed policy: code %d stderr %q", d.name, r.code, r.stderr)
		}
	}
	if exp := e.techRun("", "audit", "export"); !strings.Contains(exp.stdout, `\"policy_version\":1`) {
		t.Errorf("no consent receipt names the verified policy version: %q", exp.stdout)
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
	if r := e.techRun("", "connect", pinned.name, "--", "true"); r.code == 0 {
		t.Fatalf("a device with a pinned root ran a session under the tampered policy: %q", r.stderr)
	}
	e.stopRelay()
	r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", filepath.Join(e.dir, "data"))
	if r.code != 1 || !strings.Contains(r.stderr, "not validly signed") || !strings.Contains(r.stderr, "2 of 4 session(s)") {
		t.Fatalf("relay audit verify: code %d stderr %q", r.code, r.stderr)
	}
	t.Logf("relay audit verify: %s", strings.TrimSpace(r.stderr))
}
