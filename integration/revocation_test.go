package integration

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// newRevokeEnv is a relay with a trust root, a certified admin, a signed
// policy and one enrolled device that pinned the root, running.
func newRevokeEnv(t *testing.T) *policyEnv {
	t.Helper()
	te := newTrustEnv(t)
	te.mustTrust("", "init", "--passphrase-file", te.pass)
	te.readyForSessions()
	e := &policyEnv{trustEnv: te}
	e.dev = e.enroll("ward")
	e.runAgent(e.dev, "exit 0")
	return e
}

// revocationsFile is where the relay keeps the signed revocation list.
func (e *policyEnv) revocationsFile() string {
	return filepath.Join(e.dir, "data", "trust-revocations.json")
}

// revoke runs `tech trust revoke --yes` with args and checks that it
// published version.
func (e *policyEnv) revoke(version string, args ...string) {
	e.t.Helper()
	r := e.techRun("", append([]string{"trust", "revoke", "--yes", "--passphrase-file", e.pass}, args...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "Published revocation list version "+version) {
		e.t.Fatalf("tech trust revoke %v: code %d stderr %q", args, r.code, r.stderr)
	}
}

// TestRevocationCertificateAndRollback: a revoked certificate is refused
// at the next session; a relay that then serves the older list, or none,
// is refused as a rollback; a new certificate works again.
func TestRevocationCertificateAndRollback(t *testing.T) {
	t.Parallel()
	e := newRevokeEnv(t)
	e.revoke("1", "--cert", strings.Repeat("00", 32))
	e.honest("a list that revokes someone else")
	v1 := mustRead(t, e.revocationsFile())

	e.revoke("2", "--user", "admin")
	if out := e.techRun("", "audit", "export"); !strings.Contains(out.stdout, `"trust.revocation.publish"`) {
		t.Errorf("no trust.revocation.publish audit entry: %q", out.stderr)
	}
	e.refused("revoked certificate", "their certificate")
	if !logs(e.dev.proc.Output, "is revoked (revocation list version 2)") {
		t.Errorf("the agent did not say the certificate is revoked: %q", e.dev.proc.Output())
	}
	v2 := mustRead(t, e.revocationsFile())

	if err := os.WriteFile(e.revocationsFile(), []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	e.refused("older list served", "revocation version 1 is older than version 2 already seen: rollback refused")
	os.Remove(e.revocationsFile())
	e.refused("no list served", "the relay serves no revocation list, but this device has seen version 2")

	if err := os.WriteFile(e.revocationsFile(), []byte(v2), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.techRun("", "users", "certify", "admin", "--passphrase-file", e.pass); r.code != 0 {
		t.Fatalf("certify again: %s", r.stderr)
	}
	e.honest("a new certificate")
}

// TestRevocationReviewerKey: a signed policy whose recording recipient's
// reviewer key is revoked is refused, though the administrators signed it.
func TestRevocationReviewerKey(t *testing.T) {
	t.Parallel()
	e := newRevokeEnv(t)
	d, err := trust.Decode(mustPolicyDoc(t, mustRead(t, e.policyFile())))
	if err != nil {
		t.Fatal(err)
	}
	body, err := trust.BodyOf[*trust.PolicyBody](d)
	if err != nil || len(body.Recipients) != 1 {
		t.Fatalf("signed policy recipients %v: %v", body, err)
	}
	e.revoke("1", "--reviewer", body.Recipients[0])
	e.refused("revoked reviewer key", "whose reviewer key revocation list version 1 revokes")
}

// TestCertificateDeviceGroups: a certificate that lists device groups
// reaches devices of those groups only, whatever the relay allows.
func TestCertificateDeviceGroups(t *testing.T) {
	t.Parallel()
	e := newRevokeEnv(t)
	ce := &certEnv{trustEnv: e.trustEnv}
	show := e.techRun("", "trust", "show")
	_, after, _ := strings.Cut(show.stderr, "Organisation ")
	org, _, _ := strings.Cut(after, ":")
	caps := []string{"clipboard", "files", "files:from-device", "files:to-device", "shell"}
	ce.serveCert(certWithGroups(t, e.trustEnv, org, caps, "desks", "servers"))
	e.refused("certificate for other groups", "their certificate covers device groups desks, servers, not this device's group")
	ce.serveCert(certWithGroups(t, e.trustEnv, org, caps, "default"))
	e.honest("certificate covering the device's group")
}

// certWithGroups is a certificate of the admin's own technician key for
// groups, signed with the admin's real trust key.
func certWithGroups(t *testing.T, e *trustEnv, org string, caps []string, groups ...string) []byte {
	t.Helper()
	admin, err := trust.ReadKeyFile(filepath.Join(e.tech, "admin.key"), []byte("a long trust passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(mustRead(t, filepath.Join(e.tech, "tech.key"))))
	if err != nil || len(raw) != trust.SeedSize {
		t.Fatalf("tech.key: %v", err)
	}
	var seed [trust.SeedSize]byte
	copy(seed[:], raw)
	now := time.Now()
	d, err := trust.NewDocument(&trust.TechCertBody{Name: "Admin", Username: "admin", Org: org, Capabilities: caps,
		DeviceGroups: groups, Key: trust.NewKeyFromSeed(seed).Public()}, uint64(now.UnixNano()), now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sign(admin); err != nil {
		t.Fatal(err)
	}
	return d.Encode()
}

// TestRevocationAdminKey: once an administrator key is revoked, a policy
// it alone signed no longer verifies, though the root still lists the key
// (neither on the device nor with `tech policy show --verify`).
func TestRevocationAdminKey(t *testing.T) {
	t.Parallel()
	e := newRevokeEnv(t)
	bobHome, bobPub := e.adminKey("bob")
	e.mustTrust("", "add-admin", bobPub, "--passphrase-file", e.pass)
	bob, err := trust.ReadKeyFile(filepath.Join(bobHome, "admin.key"), []byte("a long trust passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := trust.Decode(mustPolicyDoc(t, mustRead(t, e.policyFile())))
	if err != nil {
		t.Fatal(err)
	}
	body, err := trust.BodyOf[*trust.PolicyBody](d)
	if err != nil {
		t.Fatal(err)
	}
	byBob, err := trust.NewDocument(body, 5, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	if err != nil || byBob.Sign(bob) != nil {
		t.Fatal(err)
	}
	writePolicy(t, e.policyFile(), byBob.Encode())
	e.honest("a policy signed by the second administrator")
	if r := e.techRun("", "policy", "show", "--verify"); r.code != 0 {
		t.Errorf("tech policy show --verify before the revocation: code %d stderr %q", r.code, r.stderr)
	}

	e.revoke("1", "--admin", bob.Public().ID().String())
	e.refused("a policy signed by a revoked administrator", "not signed by enough administrator keys")
	if r := e.techRun("", "policy", "show", "--verify"); r.code != 1 || !strings.Contains(r.stderr, "not signed by enough administrator keys") {
		t.Errorf("tech policy show --verify after the revocation: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "trust", "revoke", "--yes", "--passphrase-file", e.pass, "--admin", bob.Public().ID().String()); r.code == 0 || !strings.Contains(r.stderr, "nothing new to revoke") {
		t.Errorf("revoking again: code %d stderr %q", r.code, r.stderr)
	}
}

// TestRevocationTwoAdmins: under a two-person root a revocation list
// signed by one administrator is written for the other, refused by the
// relay with one signature and published with both.
func TestRevocationTwoAdmins(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	bobHome, bobPub := e.adminKey("bob")
	e.mustTrust("", "add-admin", bobPub, "--threshold", "2", "--passphrase-file", e.pass)
	bob, err := trust.ReadKeyFile(filepath.Join(bobHome, "admin.key"), []byte("a long trust passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.techRun("", "trust", "revoke", "--yes", "--admin", bob.Public().ID().String(), "--out", filepath.Join(e.dir, "x.doc"), "--passphrase-file", e.pass); r.code != 1 ||
		!strings.Contains(r.stderr, "revoking leaves 1 administrator keys, below the threshold of 2") {
		t.Errorf("revoking below the threshold: code %d stderr %q", r.code, r.stderr)
	}
	id := strings.Repeat("ab", 32)
	if r := e.techRun("", "trust", "revoke", "--yes", "--cert", id, "--passphrase-file", e.pass); r.code != 1 || !strings.Contains(r.stderr, "--out") {
		t.Errorf("revoke under a two-person root without --out: code %d stderr %q", r.code, r.stderr)
	}
	file := filepath.Join(e.dir, "revoke.doc")
	if r := e.techRun("", "trust", "revoke", "--yes", "--cert", id, "--out", file, "--passphrase-file", e.pass); r.code != 0 || !strings.Contains(r.stderr, "1 of 2 signatures") {
		t.Fatalf("revoke --out: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "trust", "publish", file); r.code != 1 || !strings.Contains(r.stderr, "1 valid of 2 required") {
		t.Errorf("publishing a list with one signature of two: code %d stderr %q", r.code, r.stderr)
	}
	e.mustTrust(bobHome, "sign", file, "--passphrase-file", e.pass)
	if r := e.techRun("", "trust", "publish", file); r.code != 0 || !strings.Contains(r.stderr, "Published revocation list version 1") {
		t.Fatalf("publishing the list with both signatures: code %d stderr %q", r.code, r.stderr)
	}
}
