package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// liveSession returns the ID of the only live session.
func (e *env) liveSession() string {
	e.t.Helper()
	var id string
	eventually(e.t, "a live session", 10*time.Second, func() bool {
		r := e.techRun("", "sessions", "list", "--active", "--json")
		var ss []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		}
		json.Unmarshal([]byte(r.stdout), &ss)
		if len(ss) == 1 && ss[0].State == "active" {
			id = ss[0].ID
			return true
		}
		return false
	})
	return id
}

func TestConsentPerCapability(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	asked := filepath.Join(e.dir, "asked.log")
	// The end user grants only the shell, whatever is asked.
	e.runAgent(d, `echo "$TETHER_CAPABILITIES" >> `+asked+`; echo shell`)
	src := filepath.Join(e.dir, "f.txt")
	os.WriteFile(src, []byte("data"), 0o644)

	r := e.techRun("", "connect", "--caps", "shell,files", d.name, "--", "echo", "shell-only")
	if r.code != 0 || r.stdout != "shell-only\n" || !strings.Contains(r.stderr, "Consent granted for: shell\n") {
		t.Fatalf("subset grant: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = e.techRun("", "cp", src, d.name+":f.txt")
	if r.code == 0 || !strings.Contains(r.stderr, "did not consent") {
		t.Fatalf("cp without files granted: code %d stderr %q", r.code, r.stderr)
	}

	// A live shell-only session; cp --session asks again for files.
	shell := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "sleep", "30")
	id := e.liveSession()
	before := len(lines(mustRead(t, asked)))
	r = e.techRun("", "cp", "--session", id, src, d.name+":f.txt")
	if r.code == 0 {
		t.Fatalf("cp --session on a shell-only session succeeded without consent")
	}
	got := lines(mustRead(t, asked))
	if len(got) != before+1 || got[len(got)-1] != "files:to-device" {
		t.Fatalf("mid-session request did not prompt for files: prompts %q", got)
	}
	shell.kill9()
}

func TestSessionReuseSkipsThePrompt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	asked := filepath.Join(e.dir, "asked.log")
	e.runAgent(d, `echo "$TETHER_CAPABILITIES" >> `+asked)
	shell := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", "--caps", "shell,files", d.name, "--", "sleep", "30")
	id := e.liveSession()
	src := filepath.Join(e.dir, "f.txt")
	os.WriteFile(src, []byte("reused"), 0o644)
	if r := e.techRun("", "cp", "--session", id, src, d.name+":f.txt"); r.code != 0 {
		t.Fatalf("cp --session: %s", r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(d.userHome, "f.txt")); string(b) != "reused" {
		t.Fatalf("file not copied: %q", b)
	}
	if n := len(lines(mustRead(t, asked))); n != 1 {
		t.Fatalf("end user asked %d times, want once", n)
	}
	if n := d.locks(); n != 0 {
		t.Fatalf("the child session locked the screen while its parent is live (%d locks)", n)
	}
	shell.kill9()
	eventually(t, "the parent's lock", 10*time.Second, func() bool { return d.locks() == 1 })
}

func TestEndUserControls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	agent := startPTYEnv(t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", d.home, "run", "--lock-cmd", "echo locked >> "+d.lockLog)
	e.waitOnline(d.name)

	// Revoke files in the middle of an upload: it stops, nothing is left.
	big := filepath.Join(e.dir, "big.bin")
	f, _ := os.Create(big)
	f.Truncate(2 << 30)
	f.Close()
	cp := start(t, e.dir, nil, bin.tech, "--config", e.tech, "cp", big, d.name+":big.bin")
	agent.expect("Allow?", 10*time.Second)
	agent.send("yes\r")
	agent.expect("Receiving big.bin", 10*time.Second)
	agent.send("revoke files\r")
	select {
	case <-cp.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the upload went on after the end user revoked files")
	}
	if !strings.Contains(cp.Output(), "revoked") {
		t.Errorf("tech cp did not say the capability was revoked: %q", cp.Output())
	}
	eventually(t, "no partial file", 5*time.Second, func() bool {
		ents, _ := os.ReadDir(d.userHome)
		return len(ents) == 0
	})

	// The end user ends a shell session at once.
	m := agent.mark()
	sh := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "sleep", "60")
	agent.expectSince(m, "Allow?", 10*time.Second)
	agent.send("y\r")
	agent.expectSince(m, "Session active", 10*time.Second)
	locks := d.locks()
	ended := time.Now()
	agent.send("end\r")
	select {
	case <-sh.done:
	case <-time.After(5 * time.Second):
		t.Fatal("tech connect still running after the end user ended the session")
	}
	t.Logf("session ended %v after the end user typed end", time.Since(ended).Round(time.Millisecond))
	if !strings.Contains(sh.Output(), "ended by the end user") {
		t.Errorf("technician not told why: %q", sh.Output())
	}
	eventually(t, "screen lock", 5*time.Second, func() bool { return d.locks() == locks+1 })
}

func TestAdminTerminatesSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	techHome := e.addUser("tina", "technician")
	sh := start(t, e.dir, nil, bin.tech, "--config", techHome, "connect", d.name, "--", "sleep", "60")
	id := e.liveSession()
	r := run(t, e.dir, "", bin.tech, "--config", techHome, "sessions", "kill", id)
	if r.code == 0 || !strings.Contains(r.stderr, "session.terminate") {
		t.Fatalf("technician killed a session: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "sessions", "kill", id); r.code != 0 {
		t.Fatalf("admin kill: %s", r.stderr)
	}
	select {
	case <-sh.done:
	case <-time.After(5 * time.Second):
		t.Fatal("tech connect still running after the admin killed the session")
	}
	if !strings.Contains(sh.Output(), "terminated by admin") {
		t.Errorf("technician not told: %q", sh.Output())
	}
	eventually(t, "screen lock", 5*time.Second, func() bool { return d.locks() == 1 })
}

// addUser creates a user with role, signs them in with a changed password
// and returns their tech config directory.
func (e *env) addUser(name, role string) string {
	e.t.Helper()
	r := e.techRun("", "users", "add", name, "--role", role)
	if r.code != 0 {
		e.t.Fatalf("users add: %s", r.stderr)
	}
	temp := strings.TrimSpace(r.stdout)
	home := filepath.Join(e.dir, "tech-"+name)
	login := func(pw string) result {
		return run(e.t, e.dir, pw+"\n", bin.tech, "--config", home, "login", "--relay", e.url, "--user", name, "--ca-fingerprint", e.fp, "--password-stdin")
	}
	if r := login(temp); r.code != 0 {
		e.t.Fatalf("login %s: %s", name, r.stderr)
	}
	newPW := "violet-granite-harbour-7421"
	if r := run(e.t, e.dir, temp+"\n"+newPW+"\n", bin.tech, "--config", home, "passwd", "--password-stdin"); r.code != 0 {
		e.t.Fatalf("passwd %s: %s", name, r.stderr)
	}
	if r := login(newPW); r.code != 0 {
		e.t.Fatalf("login %s with the new password: %s", name, r.stderr)
	}
	return home
}

func TestUnattendedGroupNeedsReason(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	if r := e.techRun("", "devices", "group-policy", "default", "unattended"); r.code != 0 {
		t.Fatalf("group-policy: %s", r.stderr)
	}
	// No consent command and no terminal: only the unattended path can work.
	e.runAgent(d, "", "--allow-unattended")
	r := e.techRun("", "connect", d.name, "--", "echo", "hi")
	if r.code == 0 || !strings.Contains(r.stderr, "--reason") {
		t.Fatalf("unattended without a reason: code %d stderr %q", r.code, r.stderr)
	}
	r = e.techRun("", "connect", "--reason", "ticket 4711: disk full", d.name, "--", "echo", "hi")
	if r.code != 0 || r.stdout != "hi\n" {
		t.Fatalf("unattended with a reason: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(d.proc.Output(), "unattended session: ticket 4711") {
		t.Errorf("the device shows no notice of the unattended session")
	}
	if !strings.Contains(e.techRun("", "audit", "export").stdout, "ticket 4711: disk full") {
		t.Errorf("the audit log lacks the reason")
	}
	eventually(t, "screen lock", 5*time.Second, func() bool { return d.locks() == 1 })
}

func TestClipboardRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	clip := filepath.Join(e.dir, "clipboard.txt")
	e.runAgent(d, "exit 0", "--clipboard-cmd",
		`if [ "$TETHER_CLIPBOARD_OP" = set ]; then cat > `+clip+`; else cat `+clip+`; fi`)
	for _, text := range []string{"ticket 4711 ✓", strings.Repeat("<&>\x01", 8000)} {
		if r := e.techRun(text, "clipboard", "send", d.name); r.code != 0 {
			t.Fatalf("clipboard send of %d bytes: %s", len(text), r.stderr)
		}
		if b, _ := os.ReadFile(clip); string(b) != text {
			t.Fatalf("device clipboard holds %d bytes %.20q, want %d", len(b), b, len(text))
		}
	}
	if r := e.techRun(strings.Repeat("x", 33<<10), "clipboard", "send", d.name); r.code == 0 || !strings.Contains(r.stderr, "limit") {
		t.Fatalf("oversized clipboard: code %d stderr %q", r.code, r.stderr)
	}
	os.WriteFile(clip, []byte("from the device"), 0o600)
	r := e.techRun("", "clipboard", "get", d.name)
	if r.code != 0 || r.stdout != "from the device" {
		t.Fatalf("clipboard get: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	audit := e.techRun("", "audit", "export").stdout
	if !strings.Contains(audit, `"session.clipboard"`) || strings.Contains(audit, "from the device") {
		t.Errorf("clipboard audit must record size and hash, never the text")
	}
}
