package integration

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// adminKeyIDs are the administrator key IDs `tech trust show` lists.
func (e *trustEnv) adminKeyIDs() []string {
	e.t.Helper()
	r := e.techRun("", "trust", "show")
	var ids []string
	for _, l := range lines(r.stderr) {
		if id, ok := strings.CutPrefix(l, "admin key "); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestTrustRemoveAdmin: under a two-person root, removing a key is
// refused while it would leave fewer keys than the threshold, needs both
// signatures to publish, and is followed by the agent; afterwards the
// removed key's signature counts for nothing, at the relay and at the
// agent (whose pin stays).
func TestTrustRemoveAdmin(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	alice := e.adminKeyIDs()
	bobHome, bobPub := e.adminKey("bob")
	e.mustTrust("", "add-admin", bobPub, "--threshold", "2", "--passphrase-file", e.pass)
	ids := e.adminKeyIDs()
	bob := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(alice, id) })
	if len(alice) != 1 || len(ids) != 2 || len(bob) != 1 {
		t.Fatalf("admin keys: %v before bob, %v after", alice, ids)
	}
	d := e.enroll("ward")

	for _, c := range []struct {
		name, id, want string
		args           []string
	}{
		{"below the threshold", bob[0], "would leave 1 administrator keys, fewer than the threshold of 2", nil},
		{"without --out", bob[0], "--out", []string{"--threshold", "1"}},
		{"an unknown key", strings.Repeat("0", 16), "not an administrator key", []string{"--threshold", "1"}},
	} {
		r := e.techRun("", append([]string{"trust", "remove-admin", c.id, "--passphrase-file", e.pass}, c.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("remove-admin %s: code %d stderr %q, want %q", c.name, r.code, r.stderr, c.want)
		}
	}

	change := filepath.Join(e.dir, "remove-bob.doc")
	e.mustTrust("", "remove-admin", bob[0][:12], "--threshold", "1", "--out", change, "--passphrase-file", e.pass)
	if r := e.techRun("", "trust", "publish", change); r.code != 1 || !strings.Contains(r.stderr, "1 valid of 2 required") {
		t.Fatalf("publishing the removal with one signature of two: code %d stderr %q", r.code, r.stderr)
	}
	e.mustTrust(bobHome, "sign", change, "--passphrase-file", e.pass)
	aliceOnly := e.mustTrust("", "publish", change)
	if got := e.adminKeyIDs(); !slices.Equal(got, alice) {
		t.Fatalf("admin keys after the removal: %v, want %v", got, alice)
	}
	if r := e.techRun("", "trust", "remove-admin", alice[0], "--passphrase-file", e.pass); r.code != 1 || !strings.Contains(r.stderr, "only administrator key") {
		t.Errorf("removing the last key: code %d stderr %q", r.code, r.stderr)
	}
	e.runAgent(d, "exit 0")
	eventually(t, "agent follows the removal", 10*time.Second, func() bool {
		return strings.TrimSpace(e.agentRun(d, "trust", "show").stdout) == aliceOnly
	})
	d.proc.kill9()

	// Bob alone signs a change making the root his: refused by the relay
	// and, served anyway, by the agent.
	bobKey, err := trust.ReadKeyFile(filepath.Join(bobHome, "admin.key"), []byte("a long trust passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := trust.ParseFingerprint(aliceOnly)
	if err != nil {
		t.Fatal(err)
	}
	body, err := trust.NewRootBody("Bob's", 1, bobKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := trust.NewDocument(&trust.RootChangeBody{Previous: fp, New: body}, 4, time.Now(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Sign(bobKey); err != nil {
		t.Fatal(err)
	}
	takeover := filepath.Join(e.dir, "takeover.doc")
	if err := os.WriteFile(takeover, []byte(base64.StdEncoding.EncodeToString(doc.Encode())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.techRun("", "trust", "publish", takeover); r.code != 1 || !strings.Contains(r.stderr, "0 valid of 1 required") {
		t.Errorf("publishing a change signed by the removed key: code %d stderr %q", r.code, r.stderr)
	}
	e.writeChain(append(e.readChain(), doc.Encode()))
	r := e.agentRun(d, "run", "--consent-cmd", "exit 0", "--lock-cmd", "true")
	if r.code != 1 || !strings.Contains(r.stderr, "0 valid of 1 required") || !strings.Contains(r.stderr, "pinned trust root is unchanged") {
		t.Errorf("agent run with a change signed by the removed key: code %d stderr %q", r.code, r.stderr)
	}
	if got := strings.TrimSpace(e.agentRun(d, "trust", "show").stdout); got != aliceOnly {
		t.Errorf("pin moved to %q on a change signed by the removed key, want %s", got, aliceOnly)
	}
}
