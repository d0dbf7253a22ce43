package integration

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
)

// pinsIn reads the relay pin and next pin a tech (relay.json) or agent
// (agent.json) config file holds.
func pinsIn(t *testing.T, path string) (pin, next string) {
	t.Helper()
	var st struct {
		Pin     string `json:"pin"`
		NextPin string `json:"next_pin"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, path)), &st); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return st.Pin, st.NextPin
}

// TestCertRotation rotates the relay's certificate with a technician
// signed in and an agent connected: both learn the next pin over the
// current one, follow the switch without re-pinning, and keep working. A
// technician and a device that were away during the overlap are refused
// with "certificate changed" and a hint, and the device re-pins with
// --ca-fingerprint. Announcement and switch are audited.
func TestCertRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "--cert-check", "50ms")
	data := filepath.Join(e.dir, "data")
	d := e.enroll("rot-pc")
	e.runAgent(d, "exit 0")
	away := e.enroll("away-pc") // enrolled, not running during the overlap
	awayTech := filepath.Join(e.dir, "tech-away")
	if r := run(t, e.dir, e.adminPW+"\n", bin.tech, "--config", awayTech, "login", "--relay", e.url, "--user", "admin",
		"--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("second login: %s", r.stderr)
	}

	// A technician who only opens sessions during the overlap.
	sessionTech := filepath.Join(e.dir, "tech-sessions")
	if r := run(t, e.dir, e.adminPW+"\n", bin.tech, "--config", sessionTech, "login", "--relay", e.url, "--user", "admin",
		"--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("third login: %s", r.stderr)
	}

	rot := run(t, e.dir, "", bin.relay, "cert", "rotate", "--data", data, "--overlap", "1h")
	if rot.code != 0 {
		t.Fatalf("relay cert rotate: %s", rot.stderr)
	}
	next := strings.TrimSpace(rot.stdout)
	if _, err := tlsconf.ParseFingerprint(next); err != nil || next == e.fp {
		t.Fatalf("relay cert rotate printed %q, want a new SHA256 fingerprint", rot.stdout)
	}
	if r := run(t, e.dir, "", bin.relay, "cert", "rotate", "--data", data); r.code == 0 || !strings.Contains(r.stderr, "already pending") {
		t.Errorf("second rotate: code %d stderr %q, want a refusal naming the pending rotation", r.code, r.stderr)
	}
	show := run(t, e.dir, "", bin.relay, "cert", "show", "--data", data, "--json")
	if !strings.Contains(show.stdout, `"current":"`+e.fp+`"`) || !strings.Contains(show.stdout, `"next":"`+next+`"`) {
		t.Errorf("relay cert show --json = %q, want current %s and next %s", show.stdout, e.fp, next)
	}

	// The overlap: the relay still serves the old key and announces the new one.
	techJSON := filepath.Join(e.tech, "relay.json")
	eventually(t, "the technician to learn the next pin", 15*time.Second, func() bool {
		if r := e.techRun("", "devices", "list"); r.code != 0 {
			t.Fatalf("tech devices list during the overlap: %s", r.stderr)
		}
		_, n := pinsIn(t, techJSON)
		return n == next
	})
	agentJSON := filepath.Join(d.home, "agent.json")
	eventually(t, "the agent to learn the next pin", 15*time.Second, func() bool {
		_, n := pinsIn(t, agentJSON)
		return n == next
	})
	if p, _ := pinsIn(t, techJSON); p != e.fp {
		t.Fatalf("technician's pin during the overlap = %s, want still %s", p, e.fp)
	}
	if r := run(t, e.dir, "", bin.tech, "--config", sessionTech, "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("session during the overlap: %s", r.stderr)
	}
	if p, n := pinsIn(t, filepath.Join(sessionTech, "relay.json")); p != e.fp || n != next {
		t.Errorf("pins of a technician who opened a session during the overlap = %q, %q; want %s and next %s", p, n, e.fp, next)
	}

	if r := run(t, e.dir, "", bin.relay, "cert", "rotate", "--data", data, "--finish"); r.code != 0 || strings.TrimSpace(r.stdout) != next {
		t.Fatalf("relay cert rotate --finish: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if !logs(e.relay.Output, "switched to the next TLS certificate") {
		t.Fatal("the relay did not switch")
	}
	if _, err := os.Stat(filepath.Join(data, "tls", "next")); !os.IsNotExist(err) {
		t.Errorf("the next key's directory is left after the switch: %v", err)
	}

	// After the switch: no re-pinning by hand.
	if r := e.techRun("", "devices", "list"); r.code != 0 {
		t.Fatalf("tech devices list after the switch: %s", r.stderr)
	}
	if p, n := pinsIn(t, techJSON); p != next || n != "" {
		t.Errorf("technician's pins after the switch = %q, %q; want %s and no next", p, n, next)
	}
	e.waitOnline(d.name)
	r := e.techRun("", "connect", d.name, "--", "sh", "-c", "echo rotated-$((6*7))")
	if r.code != 0 || !strings.Contains(r.stdout, "rotated-42") {
		t.Fatalf("session after the switch: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if p, n := pinsIn(t, agentJSON); p != next || n != "" {
		t.Errorf("agent's pins after the switch = %q, %q; want %s and no next", p, n, next)
	}
	if r := run(t, e.dir, "", bin.tech, "--config", sessionTech, "connect", d.name, "--", "true"); r.code != 0 {
		t.Errorf("session after the switch by the technician who only opened sessions: %s", r.stderr)
	}
	if p, n := pinsIn(t, filepath.Join(sessionTech, "relay.json")); p != next || n != "" {
		t.Errorf("that technician's pins after the switch = %q, %q; want %s and no next", p, n, next)
	}

	// Away during the overlap: a clear refusal with a hint, pins unchanged.
	r = run(t, e.dir, "", bin.tech, "--config", awayTech, "devices", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "certificate changed") || !strings.Contains(r.stderr, "hint:") ||
		!strings.Contains(r.stderr, "--ca-fingerprint") || !strings.Contains(r.stderr, next) {
		t.Errorf("technician away during the overlap: code %d stderr %q, want a certificate changed refusal with a hint", r.code, r.stderr)
	}
	if p, _ := pinsIn(t, filepath.Join(awayTech, "relay.json")); p != e.fp {
		t.Errorf("refused technician's pin changed to %s", p)
	}
	r = run(t, e.dir, "", bin.agent, "--config", away.home, "run", "--lock-cmd", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "certificate changed") || !strings.Contains(r.stderr, "--ca-fingerprint") {
		t.Errorf("agent away during the overlap: code %d stderr %q, want a certificate changed refusal with a hint", r.code, r.stderr)
	}
	e.runAgent(away, "exit 0", "--ca-fingerprint", next)

	exp := e.techRun("", "audit", "export")
	for _, want := range []string{`"relay.cert.announce"`, `"relay.cert.switch"`, next} {
		if !strings.Contains(exp.stdout, want) {
			t.Errorf("audit export lacks %s", want)
		}
	}
}

// TestCertRotationRefusesInjection: a next pin is learnt only over a
// connection verified against the current pin. An endpoint with another
// key that announces itself as the next pin is refused before any answer
// is read, and the client's pins stay as they were; so is one whose key
// was announced by nobody.
func TestCertRotationRefusesInjection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := tlsconf.Generate(dir, nil); err != nil {
		t.Fatal(err)
	}
	cert, err := tlsconf.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	mitmFP := tlsconf.Fingerprint(cert.Leaf)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(protocol.HeaderNextPin, mitmFP)
		w.Write([]byte(`{"username":"admin","token":"t"}`))
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "https://" + ln.Addr().(*net.TCPAddr).String()

	pinned := "SHA256:" + strings.Repeat("ab", 32)
	otherNext := "SHA256:" + strings.Repeat("cd", 32)
	for _, next := range []string{"", otherNext} {
		home := filepath.Join(t.TempDir(), "tech")
		if err := os.MkdirAll(home, 0o700); err != nil {
			t.Fatal(err)
		}
		st := `{"relay":"` + url + `","pin":"` + pinned + `","next_pin":"` + next + `"}`
		os.WriteFile(filepath.Join(home, "relay.json"), []byte(st), 0o600)
		os.WriteFile(filepath.Join(home, "token"), []byte("tok\n"), 0o600)
		r := run(t, dir, "", bin.tech, "--config", home, "devices", "list")
		if r.code == 0 || !strings.Contains(r.stderr, "certificate changed") || !strings.Contains(r.stderr, mitmFP) {
			t.Errorf("next %q: tech against an unrelated key: code %d stderr %q, want a certificate changed refusal", next, r.code, r.stderr)
		}
		if got := mustRead(t, filepath.Join(home, "relay.json")); got != st {
			t.Errorf("next %q: relay.json changed after the refusal: %s", next, got)
		}
		// Signing in anew with the pin refuses the same way and stores nothing.
		r = run(t, dir, "pw\n", bin.tech, "--config", home, "login", "--relay", url, "--user", "admin", "--password-stdin",
			"--ca-fingerprint", pinned)
		if r.code == 0 || !strings.Contains(r.stderr, "certificate changed") {
			t.Errorf("next %q: login against an unrelated key: code %d stderr %q", next, r.code, r.stderr)
		}
		if got := mustRead(t, filepath.Join(home, "relay.json")); got != st {
			t.Errorf("next %q: relay.json changed after the refused login: %s", next, got)
		}
	}
}
