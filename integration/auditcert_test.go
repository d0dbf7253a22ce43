package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsentReceiptNamesVerifiedCert: a device with a pinned root puts
// the ID of the technician certificate it verified in its signed consent
// receipt; it is the certificate the relay's trust.cert.issue entry
// issued, so `relay audit verify` passes. `agent trust show` prints the
// fingerprint alone on stdout and the versions accepted on stderr.
func TestConsentReceiptNamesVerifiedCert(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	e.readyForSessions()
	d := e.enroll("pinned")
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("session: code %d stderr %q", r.code, r.stderr)
	}
	show := e.agentRun(d, "trust", "show")
	if show.code != 0 || !strings.HasPrefix(show.stdout, "SHA256:") || strings.Count(show.stdout, "\n") != 1 ||
		!strings.Contains(show.stderr, "Highest signed policy version accepted: 1") ||
		!strings.Contains(show.stderr, "Highest revocation list version accepted: none yet") {
		t.Errorf("agent trust show: code %d stdout %q stderr %q", show.code, show.stdout, show.stderr)
	}
	exp := e.techRun("", "audit", "export")
	if exp.code != 0 {
		t.Fatalf("audit export: %s", exp.stderr)
	}
	issued, named := exportCertIDs(t, exp.stdout)
	if len(issued) != 1 || len(named) == 0 {
		t.Fatalf("issued certificates %q, consent receipts naming one %q", issued, named)
	}
	for _, id := range named {
		if id != issued[0] {
			t.Errorf("a consent receipt names certificate %s, the relay issued %s", id, issued[0])
		}
	}
	e.stopRelay()
	r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", filepath.Join(e.dir, "data"))
	if r.code != 0 || !strings.Contains(r.stderr, "audit log intact") {
		t.Fatalf("relay audit verify: code %d stderr %q", r.code, r.stderr)
	}
}

// exportCertIDs are the certificate IDs an audit export's successful
// trust.cert.issue entries issued and those its session.consent entries'
// receipts name.
func exportCertIDs(t *testing.T, export string) (issued, named []string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(export))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct {
			Action, Outcome string
			Details         map[string]string
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		switch {
		case e.Action == "trust.cert.issue" && e.Outcome == "success":
			issued = append(issued, e.Details["cert"])
		case e.Action == "session.consent":
			var rc struct {
				CertID string `json:"cert_id"`
			}
			if json.Unmarshal([]byte(e.Details["receipt"]), &rc) == nil && rc.CertID != "" {
				named = append(named, rc.CertID)
			}
		}
	}
	return issued, named
}

// TestRelayAuditVerifyFlagsTamperedRevocations: a stored revocation list
// whose signature no longer verifies is reported by `relay audit verify`,
// which exits 1; the one the relay accepted passes.
func TestRelayAuditVerifyFlagsTamperedRevocations(t *testing.T) {
	t.Parallel()
	e := newRevokeEnv(t)
	e.revoke("1", "--cert", strings.Repeat("00", 32))
	e.stopRelay()
	data := filepath.Join(e.dir, "data")
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data); r.code != 0 {
		t.Fatalf("relay audit verify with the accepted list: code %d stderr %q", r.code, r.stderr)
	}
	var v struct{ Document []byte }
	if err := json.Unmarshal([]byte(mustRead(t, e.revocationsFile())), &v); err != nil {
		t.Fatal(err)
	}
	v.Document[len(v.Document)-1] ^= 1
	b, _ := json.Marshal(map[string]any{"document": v.Document})
	if err := os.WriteFile(e.revocationsFile(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, "stored revocation list") {
		t.Fatalf("relay audit verify with a tampered list: code %d stderr %q", r.code, r.stderr)
	}
}
