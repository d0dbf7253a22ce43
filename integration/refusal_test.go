package integration

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := strings.TrimSpace(e.techRun("", "devices", "enroll-token").stdout)
	enroll := func(name string) result {
		return run(t, e.dir, "", bin.agent, "--config", filepath.Join(e.dir, "a-"+name), "enroll", "--relay", e.url, "--token", tok, "--name", name)
	}
	if r := enroll("first"); r.code != 0 {
		t.Fatalf("first enroll: %s", r.stderr)
	}
	t.Run("reused enrollment token", func(t *testing.T) {
		r := enroll("second")
		if r.code == 0 || !strings.Contains(r.stderr, "invalid or was already used") {
			t.Fatalf("got code %d stderr %q", r.code, r.stderr)
		}
	})
	t.Run("wrong device key", func(t *testing.T) {
		home := filepath.Join(e.dir, "a-first")
		replaceKey(t, filepath.Join(home, "device.key"))
		r := run(t, e.dir, "", bin.agent, "--config", home, "run", "--consent-cmd", "exit 0")
		if r.code == 0 || !strings.Contains(r.stderr, "signature does not match the enrolled device key") {
			t.Fatalf("got code %d stderr %q", r.code, r.stderr)
		}
	})
	t.Run("wrong pinned fingerprint", func(t *testing.T) {
		r := run(t, e.dir, "x\n", bin.tech, "--config", filepath.Join(e.dir, "t2"), "login", "--relay", e.url, "--user", "admin",
			"--password-stdin", "--ca-fingerprint", "SHA256:"+strings.Repeat("ab", 32))
		if r.code == 0 || !strings.Contains(r.stderr, "key") || !strings.Contains(r.stderr, e.fp) {
			t.Fatalf("got code %d stderr %q, want a pin mismatch naming %s", r.code, r.stderr, e.fp)
		}
	})
	t.Run("forged login token", func(t *testing.T) {
		os.WriteFile(filepath.Join(e.tech, "token"), []byte("tt_aaaaaaaaaaaaaaaaaaaaaaaaaa\n"), 0o600)
		r := e.techRun("", "devices", "list")
		if r.code == 0 || !strings.Contains(r.stderr, "not valid") {
			t.Fatalf("got code %d stderr %q", r.code, r.stderr)
		}
	})
	t.Run("wrong password and unknown user look alike", func(t *testing.T) {
		a := run(t, e.dir, "wrong-password\n", bin.tech, "--config", filepath.Join(e.dir, "t3"), "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")
		b := run(t, e.dir, "wrong-password\n", bin.tech, "--config", filepath.Join(e.dir, "t3"), "login", "--relay", e.url, "--user", "nobody", "--ca-fingerprint", e.fp, "--password-stdin")
		if a.code == 0 || a.stderr != b.stderr {
			t.Fatalf("wrong password said %q, unknown user said %q; want the same refusal", a.stderr, b.stderr)
		}
	})
	t.Run("foreign origin", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.url+"/v1/agent/control", nil)
		for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
			"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "https://evil.example"} {
			req.Header.Set(k, v)
		}
		resp, err := insecureClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin WebSocket got status %d, want 403", resp.StatusCode)
		}
	})
}

func TestExpiredLoginTokenLocksTheCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.techRun("", "policy", "set", "--idle-timeout", "2s"); r.code != 0 {
		t.Fatalf("policy set: %s", r.stderr)
	}
	waitIdle(2 * time.Second) // past the idle limit, no calls in between
	r := e.techRun("", "devices", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "expired (automatic logoff)") {
		t.Fatalf("got code %d stderr %q", r.code, r.stderr)
	}
	r = e.techRun("", "devices", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "not valid") {
		t.Fatalf("expired token still known: code %d stderr %q", r.code, r.stderr)
	}
}

// replaceKey overwrites a device key file with a fresh, unenrolled key.
func replaceKey(t *testing.T, path string) {
	t.Helper()
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRelaySeesOnlyCiphertext types a marker into a shell and shows that
// what the relay forwarded never contains it, while the technician sees it.
func TestRelaySeesOnlyCiphertext(t *testing.T) {
	t.Parallel()
	frames := filepath.Join(t.TempDir(), "frames.bin")
	e := newEnv(t, "--frame-log", frames)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	marker := "SECRET-MARKER-4f1c9a"
	p := startPTY(t, e.dir, bin.tech, "--config", e.tech, "connect", d.name)
	p.expect("Consent granted", 10*time.Second)
	p.send("echo " + marker + " | tr A-Z a-z\r")
	p.expect(strings.ToLower(marker), 10*time.Second)
	p.send("exit\r")
	p.exitCode(10 * time.Second)
	seen, err := os.ReadFile(frames)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 1000 {
		t.Fatalf("frame log holds only %d bytes; the test saw nothing", len(seen))
	}
	for _, m := range []string{marker, strings.ToLower(marker), "echo "} {
		if bytes.Contains(seen, []byte(m)) {
			t.Fatalf("the relay saw %q in plaintext", m)
		}
	}
}
