package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/recordings"
)

// recordingIDs returns the IDs and states of the relay's recordings.
func (e *env) recordings() map[string]string {
	e.t.Helper()
	r := e.techRun("", "recordings", "list", "--json")
	if r.code != 0 {
		e.t.Fatalf("recordings list: %s", r.stderr)
	}
	var rs []struct{ ID, State string }
	if err := json.Unmarshal([]byte(r.stdout), &rs); err != nil {
		e.t.Fatalf("recordings list --json: %v in %q", err, r.stdout)
	}
	out := map[string]string{}
	for _, x := range rs {
		out[x.ID] = x.State
	}
	return out
}

// onlyRecording waits for exactly one recording in state and returns its ID.
func (e *env) onlyRecording(state string) string {
	e.t.Helper()
	var id string
	eventually(e.t, "one "+state+" recording", 10*time.Second, func() bool {
		rs := e.recordings()
		for k, v := range rs {
			id = k
			return len(rs) == 1 && v == state
		}
		return false
	})
	return id
}

// recordEcho runs an interactive session with d that echoes text and
// exits, and returns the ID of its complete recording.
func (e *env) recordEcho(d *device, text string) string {
	e.t.Helper()
	p := startPTY(e.t, e.dir, bin.tech, "--config", e.tech, "connect", d.name)
	p.expect("Consent granted", 10*time.Second)
	p.send("echo " + text + "\r")
	p.expect(text+"\r\n", 10*time.Second)
	p.send("exit\r")
	p.exitCode(10 * time.Second)
	return e.onlyRecording("complete")
}

func TestRecordingIsEncryptedAndReviewable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	marker := "RECORDED-MARKER-77e1"
	id := e.recordEcho(d, marker)

	out := filepath.Join(e.dir, "session.cast")
	if r := e.techRun("", "recordings", "export", id, "--identity", e.reviewer, "-o", out); r.code != 0 {
		t.Fatalf("export: %s", r.stderr)
	}
	cast, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	h, n, err := recordings.ParseCast(bytes.NewReader(cast))
	if err != nil || h.Version != 2 || n < 3 {
		t.Fatalf("export is not asciicast v2: header %+v, %d events, %v", h, n, err)
	}
	for _, want := range []string{marker, `"m"`, "consent granted: shell", "end: shell exited"} {
		if !bytes.Contains(cast, []byte(want)) {
			t.Errorf("exported recording lacks %q", want)
		}
	}
	if bytes.Contains(cast, []byte(`"i",`)) {
		t.Errorf("typed input was recorded although the policy does not ask for it")
	}
	if r := e.techRun("", "recordings", "verify", id, "--identity", e.reviewer); r.code != 0 || !strings.Contains(r.stdout, "verified") {
		t.Fatalf("verify: code %d %s %s", r.code, r.stdout, r.stderr)
	}
	assertNotUnder(t, filepath.Join(e.dir, "data"), marker)

	t.Run("wrong identity", func(t *testing.T) {
		other := filepath.Join(e.dir, "other.key")
		e.techRun("", "keys", "generate", "-o", other)
		r := e.techRun("", "recordings", "verify", id, "--identity", other)
		if r.code == 0 || !strings.Contains(r.stderr, "identity") {
			t.Fatalf("got code %d stderr %q", r.code, r.stderr)
		}
	})
	t.Run("one flipped byte", func(t *testing.T) {
		file := filepath.Join(e.dir, "data", "recordings", id+".rec")
		b, _ := os.ReadFile(file)
		b[len(b)-40] ^= 0x01
		os.WriteFile(file, b, 0o600)
		r := e.techRun("", "recordings", "verify", id, "--identity", e.reviewer)
		if r.code == 0 || !strings.Contains(r.stderr, "failed verification") {
			t.Fatalf("got code %d stderr %q", r.code, r.stderr)
		}
	})
}

// assertNotUnder fails if any file below dir contains s.
func assertNotUnder(t *testing.T, dir, s string) {
	t.Helper()
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in plaintext", path, s)
			}
		}
		return nil
	})
}

func TestRecordingSurvivesAgentCrash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	d.env = []string{"TETHER_AGENT_TEST_FLUSH_EVERY=100ms"} // instead of every 2 s
	e.runAgent(d, "exit 0")
	p := startPTY(t, e.dir, bin.tech, "--config", e.tech, "connect", d.name)
	p.expect("Consent granted", 10*time.Second)
	p.send("echo BEFORE-CRASH\r")
	p.expect("BEFORE-CRASH\r\n", 10*time.Second)
	// The agent seals and sends what it buffered at least every flush
	// interval: wait until the relay holds the chunk with the marker, then
	// crash.
	live := e.onlyRecording("recording")
	polls := 0
	eventually(t, "the marker in the live recording", 10*time.Second, func() bool {
		polls++
		out := filepath.Join(e.dir, fmt.Sprintf("live-%d.cast", polls))
		r := e.techRun("", "recordings", "export", live, "--identity", e.reviewer, "-o", out)
		b, _ := os.ReadFile(out)
		return r.code == 0 && strings.Contains(string(b), "BEFORE-CRASH")
	})
	d.proc.kill9()
	p.exitCode(10 * time.Second)
	id := e.onlyRecording("incomplete")
	out := filepath.Join(e.dir, "partial.cast")
	r := e.techRun("", "recordings", "export", id, "--identity", e.reviewer, "-o", out)
	if r.code != 0 || !strings.Contains(r.stderr, "incomplete") {
		t.Fatalf("export of a cut recording: code %d stderr %q", r.code, r.stderr)
	}
	if b := mustRead(t, out); !strings.Contains(b, "BEFORE-CRASH") {
		t.Fatalf("partial export lacks what was recorded before the crash:\n%s", b)
	}
	if r := e.techRun("", "recordings", "verify", id, "--identity", e.reviewer); r.code == 0 || !strings.Contains(r.stderr, "incomplete") {
		t.Fatalf("verify of a cut recording: code %d stderr %q", r.code, r.stderr)
	}
}

func TestNoRecipientRefusesSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	r := e.techRun("", "recordings", "recipients", "list", "--json")
	var rs []struct {
		KeyID string `json:"key_id"`
	}
	json.Unmarshal([]byte(r.stdout), &rs)
	if len(rs) != 1 {
		t.Fatalf("want one recipient, got %q", r.stdout)
	}
	if r := e.techRun("", "recordings", "recipients", "remove", rs[0].KeyID); r.code != 0 {
		t.Fatalf("remove: %s", r.stderr)
	}
	r = e.techRun("", "connect", d.name, "--", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "no recording recipient") || !strings.Contains(r.stderr, "tech keys generate") {
		t.Fatalf("got code %d stderr %q, want a refusal with the hint", r.code, r.stderr)
	}
}

func TestRecordInputPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.techRun("", "policy", "set", "--record-input"); r.code != 0 {
		t.Fatalf("policy set: %s", r.stderr)
	}
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	id := e.recordEcho(d, "typed-input")
	out := filepath.Join(e.dir, "s.cast")
	if r := e.techRun("", "recordings", "export", id, "--identity", e.reviewer, "-o", out); r.code != 0 {
		t.Fatalf("export: %s", r.stderr)
	}
	if b := mustRead(t, out); !strings.Contains(b, `"i",`) {
		t.Fatalf("policy --record-input set, but the recording has no input events")
	}
}

// TestRecordingCompleteWhateverEnds ends sessions from the technician's
// side (tech cp ends its session) and by an admin's kill: the agent still
// delivers the end of the recording.
func TestRecordingCompleteWhateverEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	src := filepath.Join(e.dir, "f.txt")
	os.WriteFile(src, []byte("payload"), 0o644)
	if r := e.techRun("", "cp", src, d.name+":f.txt"); r.code != 0 {
		t.Fatalf("cp: %s", r.stderr)
	}
	e.onlyRecording("complete")

	sh := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "sleep", "60")
	id := e.liveSession()
	if r := e.techRun("", "sessions", "kill", id); r.code != 0 {
		t.Fatalf("kill: %s", r.stderr)
	}
	<-sh.done
	eventually(t, "both recordings complete", 10*time.Second, func() bool {
		rs := e.recordings()
		return len(rs) == 2 && rs[id] == "complete"
	})
}
