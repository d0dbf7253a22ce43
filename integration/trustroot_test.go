package integration

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// trustEnv is an env with a passphrase file for administrator keys.
type trustEnv struct {
	*env
	pass string
}

func newTrustEnv(t *testing.T) *trustEnv {
	t.Helper()
	return trustEnvFor(newEnv(t))
}

// trustEnvFor adds a passphrase file to e.
func trustEnvFor(e *env) *trustEnv {
	t := e.t
	t.Helper()
	pass := filepath.Join(e.dir, "trust-pass")
	if err := os.WriteFile(pass, []byte("a long trust passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &trustEnv{env: e, pass: pass}
}

// tech runs tech with the env's config directory, or another one.
func (e *trustEnv) techAs(home, stdin string, args ...string) result {
	e.t.Helper()
	if home == "" {
		home = e.tech
	}
	return run(e.t, e.dir, stdin, bin.tech, append([]string{"--config", home}, args...)...)
}

// mustTrust runs a tech trust command that must succeed; it returns stdout.
func (e *trustEnv) mustTrust(home string, args ...string) string {
	e.t.Helper()
	r := e.techAs(home, "", append([]string{"trust"}, args...)...)
	if r.code != 0 {
		e.t.Fatalf("tech trust %s: code %d stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// adminKey makes an administrator key in a tech config directory of its
// own and returns the public key file.
func (e *trustEnv) adminKey(name string) (home, pub string) {
	e.t.Helper()
	home = filepath.Join(e.dir, "tech-"+name)
	pub = filepath.Join(e.dir, name+".pub")
	out := e.mustTrust(home, "key", "--passphrase-file", e.pass)
	if err := os.WriteFile(pub, []byte(out+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return home, pub
}

// certify certifies a technician under the env's root and publishes the
// certificate. With cosigners (the config directories of the other
// administrators) the certificate is written to a file, signed by each and
// then published, as a root of more than one administrator requires.
func (e *trustEnv) certify(user string, cosigners ...string) {
	e.t.Helper()
	args := []string{"users", "certify", user, "--passphrase-file", e.pass}
	var file string
	if len(cosigners) > 0 {
		file = filepath.Join(e.dir, user+".cert")
		args = append(args, "--out", file)
	}
	r := e.techRun("", args...)
	if len(cosigners) > 0 {
		if r.code != 0 {
			e.t.Fatalf("tech users certify %s --out: code %d stderr %q", user, r.code, r.stderr)
		}
		for _, home := range cosigners {
			e.mustTrust(home, "sign", file, "--passphrase-file", e.pass)
		}
		r = e.techRun("", "trust", "publish", file)
	}
	if r.code != 0 || len(strings.TrimSpace(r.stdout)) != 64 || !strings.Contains(r.stderr, "Certified") {
		e.t.Fatalf("tech users certify %s: code %d stdout %q stderr %q", user, r.code, r.stdout, r.stderr)
	}
}

// signPolicy signs and publishes the relay's current settings under a
// root of one administrator.
func (e *trustEnv) signPolicy() {
	e.t.Helper()
	r := e.techRun("", "policy", "sign", "--yes", "--passphrase-file", e.pass)
	if r.code != 0 || !strings.Contains(r.stderr, "Published signed policy version") {
		e.t.Fatalf("tech policy sign: code %d stderr %q", r.code, r.stderr)
	}
}

// readyForSessions is what an agent that pinned the env's root (of one
// administrator) requires of an honest session: the admin technician
// certified and a signed policy published.
func (e *trustEnv) readyForSessions() {
	e.t.Helper()
	e.certify("admin")
	e.signPolicy()
}

// agentRun runs an agent command for d to completion.
func (e *trustEnv) agentRun(d *device, args ...string) result {
	e.t.Helper()
	return run(e.t, e.dir, "", bin.agent, append([]string{"--config", d.home}, args...)...)
}

// chainFile is the file the relay serves its root chain from.
func (e *trustEnv) chainFile() string { return filepath.Join(e.dir, "data", "trust-root.json") }

// writeChain replaces what the relay serves, as whoever holds its data
// directory could.
func (e *trustEnv) writeChain(docs [][]byte) {
	e.t.Helper()
	b, err := json.Marshal(map[string]any{"documents": docs})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.chainFile(), b, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// readChain is what the relay serves.
func (e *trustEnv) readChain() [][]byte {
	e.t.Helper()
	var c struct{ Documents [][]byte }
	if err := json.Unmarshal([]byte(mustRead(e.t, e.chainFile())), &c); err != nil {
		e.t.Fatal(err)
	}
	return c.Documents
}

// foreignRoot is a valid root of somebody else's keys.
func foreignRoot(t *testing.T) []byte {
	t.Helper()
	k, err := trust.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := trust.NewRootBody("Mallory", 1, k.Public())
	if err != nil {
		t.Fatal(err)
	}
	d, err := trust.NewDocument(body, 1, time.Now(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sign(k); err != nil {
		t.Fatal(err)
	}
	return d.Encode()
}

// TestTrustRootInitShowEnrollPin: tech trust init publishes a root, tech
// trust show prints its fingerprint, a device enrolled afterwards pins it
// from the token, and a device enrolled before pins it by hand and is
// checked at its next connection.
func TestTrustRootInitShowEnrollPin(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	early := e.enroll("early")
	if r := e.agentRun(early, "trust", "show"); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "No trust root is pinned") {
		t.Fatalf("agent trust show before any root: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := e.techRun("", "trust", "show"); r.code == 0 || !strings.Contains(r.stderr, "no trust root yet") {
		t.Fatalf("tech trust show before init: code %d stderr %q", r.code, r.stderr)
	}

	fp := e.mustTrust("", "init", "--passphrase-file", e.pass)
	if _, err := trust.ParseFingerprint(fp); err != nil {
		t.Fatalf("init printed %q: %v", fp, err)
	}
	r := e.techRun("", "trust", "show")
	if r.code != 0 || strings.TrimSpace(r.stdout) != fp || !strings.Contains(r.stderr, "1 of 1 administrator keys") {
		t.Fatalf("tech trust show: code %d stdout %q stderr %q, want %s", r.code, r.stdout, r.stderr, fp)
	}
	if strings.Contains(r.stderr, "no trust root is pinned") {
		t.Errorf("tech trust show after init still says no root is pinned: %q", r.stderr)
	}
	if r := e.techRun("", "trust", "init", "--passphrase-file", e.pass); r.code != 1 || !strings.Contains(r.stderr, "already has a trust root") {
		t.Errorf("second init: code %d stderr %q", r.code, r.stderr)
	}

	late := e.enroll("late")
	if r := e.agentRun(late, "trust", "show"); r.code != 0 || strings.TrimSpace(r.stdout) != fp {
		t.Fatalf("agent trust show after enroll: code %d stdout %q stderr %q, want %s", r.code, r.stdout, r.stderr, fp)
	}
	e.runAgent(late, "exit 0")
	if strings.Contains(late.proc.Output(), "no trust root is pinned") {
		t.Errorf("a pinned agent says no root is pinned: %q", late.proc.Output())
	}

	// The device enrolled before the root: pinned by hand, checked at connect.
	if r := e.agentRun(early, "trust", "pin", fp); r.code != 0 {
		t.Fatalf("agent trust pin: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.agentRun(early, "trust", "show"); strings.TrimSpace(r.stdout) != fp {
		t.Fatalf("agent trust show after pin: %q", r.stdout)
	}
	other := "SHA256:" + strings.Repeat("ab", 32)
	if r := e.agentRun(early, "trust", "pin", other); r.code != 1 || !strings.Contains(r.stderr, "already pins trust root") {
		t.Errorf("re-pinning to another root: code %d stderr %q", r.code, r.stderr)
	}
	e.runAgent(early, "exit 0")
}

// TestTrustRootNoPinSaysSo: without a pinned root the agent and tech
// connect say once that the relay is trusted for policy, and how to fix it.
func TestTrustRootNoPinSaysSo(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	d := e.enroll("plain")
	e.runAgent(d, "exit 0")
	if n := strings.Count(d.proc.Output(), "the relay is trusted for policy"); n != 1 || !strings.Contains(d.proc.Output(), "agent trust pin") {
		t.Errorf("agent said the no-root warning %d times: %q", n, d.proc.Output())
	}
	r := e.techRun("", "connect", "plain", "--", "true")
	if r.code != 0 || strings.Count(r.stderr, "the relay is trusted for policy") != 1 || strings.Contains(r.stdout, "trusted") {
		t.Errorf("tech connect: code %d stdout %q stderr %q, want the warning once on stderr", r.code, r.stdout, r.stderr)
	}
}

// TestTrustRootHostileRelay: a relay that serves another root than the
// one pinned (its data directory edited) is refused by an enrolled agent
// and by agent enroll, with a clear error, and the pin stays.
func TestTrustRootHostileRelay(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	fp := e.mustTrust("", "init", "--passphrase-file", e.pass)
	d := e.enroll("pinned")
	tok := e.techRun("", "devices", "enroll-token")
	if tok.code != 0 {
		t.Fatalf("enroll-token: %s", tok.stderr)
	}
	honest := e.readChain()
	e.writeChain([][]byte{foreignRoot(t)})

	r := e.agentRun(d, "run", "--consent-cmd", "exit 0", "--lock-cmd", "true")
	if r.code != 1 || !strings.Contains(r.stderr, "refusing the relay") || !strings.Contains(r.stderr, "pinned root is not in the chain") {
		t.Errorf("agent run against a foreign root: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.agentRun(d, "trust", "show"); strings.TrimSpace(r.stdout) != fp {
		t.Errorf("pin changed to %q, want %s", r.stdout, fp)
	}
	r = run(t, e.dir, "", bin.agent, "--config", filepath.Join(e.dir, "agent-new"), "enroll", "--relay", e.url,
		"--token", strings.TrimSpace(tok.stdout), "--name", "new")
	if r.code != 1 || !strings.Contains(r.stderr, "pinned root is not in the chain") {
		t.Errorf("agent enroll against a foreign root: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "trust", "show"); r.code != 1 || !strings.Contains(r.stderr, "not in the chain") {
		t.Errorf("tech trust show against a foreign root: code %d stderr %q", r.code, r.stderr)
	}

	e.writeChain(honest)
	e.runAgent(d, "exit 0")
}

// TestTrustRootThreshold: with a two-person root, a root change signed by
// one administrator is refused by the relay and, served anyway, by the
// agent (whose pin stays); signed by both it is accepted and followed.
func TestTrustRootThreshold(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	bobHome, bobPub := e.adminKey("bob")
	_, carolPub := e.adminKey("carol")
	twoPerson := e.mustTrust("", "add-admin", bobPub, "--threshold", "2", "--passphrase-file", e.pass)
	if r := e.techRun("", "trust", "show"); strings.TrimSpace(r.stdout) != twoPerson || !strings.Contains(r.stderr, "2 of 2 administrator keys") {
		t.Fatalf("after add-admin: stdout %q stderr %q", r.stdout, r.stderr)
	}
	d := e.enroll("ward")
	if r := e.agentRun(d, "trust", "show"); strings.TrimSpace(r.stdout) != twoPerson {
		t.Fatalf("agent pinned %q, want %s", r.stdout, twoPerson)
	}

	change := filepath.Join(e.dir, "change.doc")
	if r := e.techRun("", "trust", "add-admin", carolPub, "--passphrase-file", e.pass); r.code != 1 || !strings.Contains(r.stderr, "--out") {
		t.Errorf("add-admin under a two-person root without --out: code %d stderr %q", r.code, r.stderr)
	}
	e.mustTrust("", "add-admin", carolPub, "--out", change, "--passphrase-file", e.pass)
	r := e.techRun("", "trust", "publish", change)
	if r.code != 1 || !strings.Contains(r.stderr, "not signed by enough administrator keys: 1 valid of 2 required") {
		t.Fatalf("publishing one signature of two: code %d stderr %q", r.code, r.stderr)
	}

	// A relay that serves the one-signature change anyway.
	honest := e.readChain()
	raw := mustDocument(t, change)
	e.writeChain(append(honest[:len(honest):len(honest)], raw))
	r = e.agentRun(d, "run", "--consent-cmd", "exit 0", "--lock-cmd", "true")
	if r.code != 1 || !strings.Contains(r.stderr, "not signed by enough administrator keys: 1 valid of 2 required") ||
		!strings.Contains(r.stderr, "pinned trust root is unchanged") {
		t.Errorf("agent run with a change below threshold: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.agentRun(d, "trust", "show"); strings.TrimSpace(r.stdout) != twoPerson {
		t.Errorf("pin moved to %q on a refused change, want %s", r.stdout, twoPerson)
	}
	e.writeChain(honest)

	// The second administrator signs: accepted and followed.
	e.mustTrust(bobHome, "sign", change, "--passphrase-file", e.pass)
	threePerson := e.mustTrust("", "publish", change)
	if threePerson == twoPerson {
		t.Fatal("publishing the change did not change the root")
	}
	e.runAgent(d, "exit 0")
	eventually(t, "agent follows the change", 10*time.Second, func() bool {
		return strings.TrimSpace(e.agentRun(d, "trust", "show").stdout) == threePerson
	})
}

// TestTrustKeyWrongPassphrase: a wrong passphrase is a clear error, exit 1.
func TestTrustKeyWrongPassphrase(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.mustTrust("", "key", "--passphrase-file", e.pass)
	wrong := filepath.Join(e.dir, "wrong-pass")
	os.WriteFile(wrong, []byte("not the passphrase\n"), 0o600)
	r := e.techRun("", "trust", "init", "--passphrase-file", wrong)
	if r.code != 1 || !strings.Contains(r.stderr, "wrong passphrase") {
		t.Errorf("init with a wrong passphrase: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "trust", "show"); r.code != 1 || !strings.Contains(r.stderr, "no trust root yet") {
		t.Errorf("a root was published with a wrong passphrase: code %d stdout %q", r.code, r.stdout)
	}
}

// mustDocument reads a document file written by tech trust.
func mustDocument(t *testing.T, path string) []byte {
	t.Helper()
	d, err := trust.Decode(mustBase64(t, mustRead(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	return d.Encode()
}

// mustBase64 decodes standard base64 text.
func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
