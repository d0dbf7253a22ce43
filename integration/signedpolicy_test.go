package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// hostileRelay is the relay built with the test-only tether_hostile tag:
// it lays the JSON of the file named by TETHER_HOSTILE_SESSION_INFO over
// every session offer, as a compromised relay could.
var hostileRelay struct {
	once sync.Once
	path string
	err  error
}

func hostileRelayBin(t *testing.T) string {
	t.Helper()
	hostileRelay.once.Do(func() {
		hostileRelay.path = filepath.Join(filepath.Dir(bin.relay), "relay-hostile")
		args := []string{"build", "-tags", "tether_hostile", "-o", hostileRelay.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "github.com/tether-support/tether/cmd/relay")...).CombinedOutput()
		if err != nil {
			hostileRelay.err = err
			t.Logf("build the hostile relay: %s", out)
		}
	})
	if hostileRelay.err != nil {
		t.Fatalf("build the hostile relay: %v", hostileRelay.err)
	}
	return hostileRelay.path
}

// policyEnv is a relay (the hostile build) with a trust root, a signed
// policy and a certified admin technician, and one enrolled device that
// pinned the root, running.
type policyEnv struct {
	*trustEnv
	// lie is the file whose JSON the relay lays over session offers.
	lie string
	dev *device
}

func newPolicyEnv(t *testing.T) *policyEnv {
	t.Helper()
	base := &env{t: t, dir: t.TempDir()}
	lie := filepath.Join(base.dir, "hostile-session-info.json")
	base.relayBin, base.relayEnv = hostileRelayBin(t), []string{"TETHER_HOSTILE_SESSION_INFO=" + lie}
	e := &policyEnv{trustEnv: trustEnvFor(newEnvFrom(t, base)), lie: lie}
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	e.readyForSessions()
	e.dev = e.enroll("ward")
	e.runAgent(e.dev, "exit 0")
	return e
}

// policyFile is where the relay keeps the signed policy.
func (e *policyEnv) policyFile() string { return filepath.Join(e.dir, "data", "trust-policy.json") }

// lieWith makes the relay lay fields over the next session offers; ""
// makes it honest again.
func (e *policyEnv) lieWith(fields string) {
	e.t.Helper()
	if err := os.WriteFile(e.lie, []byte(fields), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// connect opens a session running a command that leaves a marker file,
// and reports the result and whether the command ran.
func (e *policyEnv) connect(extra ...string) (result, bool) {
	e.t.Helper()
	marker := filepath.Join(e.dir, "ran-"+strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", ""))
	args := append(append([]string{"connect", e.dev.name}, extra...), "--", "touch", marker)
	r := e.techRun("", args...)
	_, err := os.Stat(marker)
	return r, err == nil
}

// recorded is how many bytes of recording the relay stores, over all
// sessions (a refused session may have an empty entry).
func (e *policyEnv) recorded() int64 {
	e.t.Helper()
	r := e.techRun("", "recordings", "list", "--json")
	if r.code != 0 {
		e.t.Fatalf("recordings list: %s", r.stderr)
	}
	var list []struct{ Size int64 }
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		e.t.Fatalf("recordings list: %v in %q", err, r.stdout)
	}
	var n int64
	for _, x := range list {
		n += x.Size
	}
	return n
}

// refused checks that a session was refused by the agent with want in
// the technician's error and the agent's log, ran nothing and recorded
// nothing.
func (e *policyEnv) refused(what, want string, extra ...string) {
	e.t.Helper()
	before := e.recorded()
	r, ran := e.connect(extra...)
	if r.code == 0 || ran || !strings.Contains(r.stderr, "refused by the device") || !strings.Contains(r.stderr, want) {
		e.t.Errorf("%s: code %d, command ran %v, stderr %q; want a refusal by the device naming %q", what, r.code, ran, r.stderr, want)
	}
	if !logs(e.dev.proc.Output, want) {
		e.t.Errorf("%s: the agent did not log %q", what, want)
	}
	if n := e.recorded(); n != before {
		e.t.Errorf("%s: %d bytes recorded, want %d: a refused session recorded something", what, n, before)
	}
}

// honest checks that a session works.
func (e *policyEnv) honest(what string) {
	e.t.Helper()
	if r, ran := e.connect(); r.code != 0 || !ran {
		e.t.Fatalf("%s: honest session: code %d ran %v stderr %q", what, r.code, ran, r.stderr)
	}
}

// TestSignedPolicyHostileRelay: with a root pinned and a signed policy in
// force, a session works; a relay that lies in the session offer (its own
// recording recipient, "not recorded", raised limits, a role above its
// signed ceiling) or in its settings (an unattended group nobody signed)
// is refused by the real agent, which runs and records nothing.
func TestSignedPolicyHostileRelay(t *testing.T) {
	t.Parallel()
	e := newPolicyEnv(t)
	e.honest("signed policy in force")

	evil := filepath.Join(e.dir, "evil.key")
	r := e.techRun("", "keys", "generate", "-o", evil)
	if r.code != 0 {
		t.Fatalf("keys generate: %s", r.stderr)
	}
	attacks := []struct{ name, lie, want string }{
		{"relay adds its own recording recipient", `{"recipients":["` + strings.TrimSpace(r.stdout) + `"]}`,
			"which the signed policy does not list"},
		{"relay says not recorded", `{"recorded":false}`, "not recorded, but the signed policy records every session"},
		{"relay raises the idle limit", `{"idle_timeout":360000000000000}`, "sets the idle limit to 100h0m0s, above the signed"},
		{"relay raises the absolute limit", `{"max_duration":3600000000000000}`, "sets the absolute limit to 1000h0m0s, above the signed"},
		{"relay names a role above its ceiling", `{"roles":["nobody"]}`, "above the signed ceiling of the technician's roles nobody"},
		{"relay lets an unsigned group have unattended control", `{"consent_policy":"unattended-control","reason":"x"}`,
			"which the signed policy does not allow unattended"},
	}
	for _, a := range attacks {
		e.lieWith(a.lie)
		e.refused(a.name, a.want)
	}
	e.lieWith("")

	// The relay's operator makes the device's group unattended without a
	// new signed policy.
	if r := e.techRun("", "devices", "group-policy", "default", "unattended"); r.code != 0 {
		t.Fatalf("group-policy: %s", r.stderr)
	}
	e.refused("unattended session for an unsigned group", "which the signed policy does not allow unattended",
		"--reason", "ticket 42")
	// Once the administrators sign the group as unattended, it works.
	e.signPolicy()
	if r, ran := e.connect("--reason", "ticket 43"); r.code != 0 || !ran {
		t.Fatalf("unattended group signed: code %d ran %v stderr %q", r.code, ran, r.stderr)
	}
	if r := e.techRun("", "devices", "group-policy", "default", "consent"); r.code != 0 {
		t.Fatalf("group-policy: %s", r.stderr)
	}
	e.honest("after the attacks")
}

// TestSignedPolicyTwoAdmins: under a two-person root a policy needs both
// signatures: one is refused by the relay, two are published and verify.
func TestSignedPolicyTwoAdmins(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	bobHome, bobPub := e.adminKey("bob")
	e.mustTrust("", "add-admin", bobPub, "--threshold", "2", "--passphrase-file", e.pass)
	if r := e.techRun("", "policy", "sign", "--yes", "--passphrase-file", e.pass); r.code != 1 || !strings.Contains(r.stderr, "--out FILE") {
		t.Fatalf("policy sign under a two-person root without --out: code %d stderr %q", r.code, r.stderr)
	}
	doc := filepath.Join(e.dir, "policy.doc")
	if r := e.techRun("", "policy", "sign", "--yes", "--out", doc, "--passphrase-file", e.pass); r.code != 0 {
		t.Fatalf("policy sign --out: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "trust", "publish", doc); r.code != 1 || !strings.Contains(r.stderr, "1 valid of 2 required") {
		t.Fatalf("publishing one signature of two: code %d stderr %q", r.code, r.stderr)
	}
	e.mustTrust(bobHome, "sign", doc, "--passphrase-file", e.pass)
	if r := e.techRun("", "trust", "publish", doc); r.code != 0 || !strings.Contains(r.stderr, "Published signed policy version 1") {
		t.Fatalf("publishing two signatures: code %d stderr %q", r.code, r.stderr)
	}
	r := e.techRun("", "policy", "show", "--verify")
	var v struct{ Signers []string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil || len(v.Signers) != 2 {
		t.Fatalf("policy show --verify: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	e.certify("admin", bobHome)
	d := e.enroll("ward")
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", "ward", "--", "true"); r.code != 0 {
		t.Fatalf("session under a two-person signed policy: code %d stderr %q", r.code, r.stderr)
	}
}

// TestSignedPolicyReplayAndExpiry: a relay that serves an expired signed
// policy, or replays an older one after the agent saw a newer one, is
// refused; `tech policy show --verify` checks the policy in force.
func TestSignedPolicyReplayAndExpiry(t *testing.T) {
	t.Parallel()
	e := newPolicyEnv(t)
	v1 := mustRead(t, e.policyFile())
	r := e.techRun("", "policy", "show", "--verify")
	if r.code != 0 || !strings.Contains(r.stdout, `"version":1`) || !strings.Contains(r.stderr, "verifies against trust root") {
		t.Fatalf("policy show --verify: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = e.techRun("", "policy", "sign", "--passphrase-file", e.pass)
	if r.code == 0 || !strings.Contains(r.stderr, "Changes from signed policy version 1 to version 2") || !strings.Contains(r.stderr, "not confirmed") {
		t.Fatalf("policy sign without confirmation: code %d stderr %q", r.code, r.stderr)
	}
	e.signPolicy()
	e.honest("version 2 in force")

	// An expired policy signed by the real administrator key.
	key, err := trust.ReadKeyFile(filepath.Join(e.tech, "admin.key"), []byte("a long trust passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := trust.Decode(mustPolicyDoc(t, v1))
	if err != nil {
		t.Fatal(err)
	}
	body, err := trust.BodyOf[*trust.PolicyBody](d)
	if err != nil {
		t.Fatal(err)
	}
	old, err := trust.NewDocument(body, 9, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Sign(key); err != nil {
		t.Fatal(err)
	}
	good := mustRead(t, e.policyFile())
	writePolicy(t, e.policyFile(), old.Encode())
	e.refused("expired policy", "policy version 9 expired at")
	if r := e.techRun("", "policy", "show", "--verify"); r.code != 1 || !strings.Contains(r.stderr, "expired") {
		t.Errorf("policy show --verify of an expired policy: code %d stderr %q", r.code, r.stderr)
	}

	// Version 1 replayed after the agent saw version 2.
	if err := os.WriteFile(e.policyFile(), []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	e.refused("replayed older policy", "policy version 1 is older than version 2 already seen: rollback refused")

	// None at all.
	os.Remove(e.policyFile())
	e.refused("no policy", "the relay serves no signed policy")

	if err := os.WriteFile(e.policyFile(), []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	e.honest("version 2 again")
}

// mustPolicyDoc is the document in the relay's stored policy file.
func mustPolicyDoc(t *testing.T, stored string) []byte {
	t.Helper()
	var p struct{ Document []byte }
	if err := json.Unmarshal([]byte(stored), &p); err != nil {
		t.Fatal(err)
	}
	return p.Document
}

// writePolicy replaces the relay's stored policy, as whoever holds its
// data directory could.
func writePolicy(t *testing.T, path string, doc []byte) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"document": doc})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
